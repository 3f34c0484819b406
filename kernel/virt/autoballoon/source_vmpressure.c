// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_autoballoon host pressure source: vmpressure.
 *
 * vmpressure() is not exported, so a kprobe on it reads its arguments
 * (gfp, memcg, tree, scanned, reclaimed) with regs_get_kernel_argument() and
 * the levels are recomputed the way mm/vmpressure.c computes them: once a
 * memcg has window_pages scanned pages, its pressure is the share of them
 * that reclaim failed to free, in percent; medium from medium_percent,
 * critical from critical_percent. A second kprobe, on vmpressure_prio(),
 * reports critical for the reclaim root as soon as reclaim's priority falls
 * to critical_prio, which is how the kernel notices critical pressure when
 * too few pages are left to fill a window.
 *
 * Only tree == false calls count. Reclaim makes one for every memcg whose
 * LRUs it scanned, on every reclaim path of 6.1 and 6.12 with and without
 * MGLRU, and it names the memcg whose pages were scanned. The tree == true
 * calls (one per reclaim root) are missing on 6.12 when MGLRU does global
 * reclaim, and would count the same pages a second time otherwise.
 *
 * Global reclaim counts as global. A call names the memcg scanned, not the
 * reclaim's root, so global reclaim through a sibling cgroup (the page
 * cache of system.slice) would otherwise show in no watched memcg at all.
 * Memcg reclaim (a memcg's limit, memory.reclaim) is the reclaim that goes
 * through try_to_free_mem_cgroup_pages(); a kretprobe on it marks the
 * tasks inside it in kab_vmp_memcg_reclaimers[]. Every other call (kswapd,
 * the page allocator's direct reclaim) goes to one global window, whatever
 * memcg it names, which reports KAB_SCOPE_GLOBAL; memcg reclaim goes to
 * the window of the memcg scanned, as before. Without that kretprobe
 * (sources/vmpressure/global_probe says why) every call is counted per
 * memcg, as global reclaim was before.
 *
 * Only memcgs that can concern a VM are watched: the memcg of every
 * registered VM and all its ancestors up to the root (see the attribution
 * rule in source.h). They sit in an RCU hash table keyed by the memcg
 * pointer, each holding a css reference. The kprobe handlers run inside
 * reclaim with preemption disabled: they only look the memcg up, add to its
 * atomic counters and queue kab_vmp_work when a window is full. The work
 * item computes the levels and reports them, at most one event per memcg
 * per run, whatever the number of windows filled meanwhile (their pages
 * are averaged, as one larger window).
 *
 * Module parameters (read only once loaded):
 *   vmpressure=Y|N		use this source (default Y);
 *   vmpressure_symbol=NAME	the function to probe (default "vmpressure").
 *				A name that does not exist makes the source
 *				fail to start, which the tests use: the module
 *				then logs it once, sources/vmpressure/state
 *				reads "failed <errno>" and the other sources
 *				work as before.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/hashtable.h>
#include <linux/kprobes.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/stringify.h>
#include <linux/swap.h>
#include <linux/sysfs.h>

#include "kab.h"

static bool kab_vmp_enable = true;
module_param_named(vmpressure, kab_vmp_enable, bool, 0444);
MODULE_PARM_DESC(vmpressure,
		 "Use the vmpressure kprobe as a host pressure source (default: Y)");

static char *kab_vmp_symbol = "vmpressure";
module_param_named(vmpressure_symbol, kab_vmp_symbol, charp, 0444);
MODULE_PARM_DESC(vmpressure_symbol,
		 "Function the vmpressure source probes (default: vmpressure)");

/* The reclaim priority reclaim starts at (DEF_PRIORITY in mm/vmscan.c). */
#define KAB_VMP_MAX_PRIO	12

/**
 * struct kab_vmp_thresholds - tunables of the vmpressure source
 * @window_pages:	scanned pages of one memcg before its level is
 *			computed; pages, 1..1048576, default 512 (as the
 *			kernel's vmpressure_win).
 * @medium_percent:	pressure, in percent of the window's scanned pages
 *			not reclaimed, from which the level is medium;
 *			0..100, default 60.
 * @critical_percent:	the same for critical; @medium_percent..100,
 *			default 95.
 * @critical_prio:	reclaim priority at or below which the reclaim root
 *			is under critical pressure; 0..12, default 3 (the
 *			kernel's vmpressure_level_critical_prio: scanning
 *			1/8 of the LRUs at a time).
 *
 * Read by the kprobe handlers without a lock; written under kab_vmp_lock.
 */
struct kab_vmp_thresholds {
	unsigned int window_pages;
	unsigned int medium_percent;
	unsigned int critical_percent;
	unsigned int critical_prio;
};

static struct kab_vmp_thresholds kab_vmp_th = {
	.window_pages		= 512,
	.medium_percent		= 60,
	.critical_percent	= 95,
	.critical_prio		= 3,
};

/**
 * struct kab_vmp_memcg - one watched memcg
 * @node:	in kab_vmp_table.
 * @memcg:	the memcg; a css reference is held while watched.
 * @users:	VMs whose memcg is this one or below it; under kab_vmp_lock.
 * @scanned:	pages scanned since the last evaluation.
 * @reclaimed:	pages reclaimed since the last evaluation.
 * @prio_critical: reclaim rooted here reached critical_prio.
 * @rcu:	frees the entry after the handlers are done with it.
 */
struct kab_vmp_memcg {
	struct hlist_node node;
	struct mem_cgroup *memcg;
	unsigned int users;
	atomic_long_t scanned;
	atomic_long_t reclaimed;
	atomic_t prio_critical;
	struct rcu_head rcu;
};

#define KAB_VMP_HASH_BITS	6

/*
 * kab_vmp_lock serialises the table's writers, the evaluation and tunable
 * writes. It is taken outside vm.c's kab_vms_lock (the evaluation reports
 * with it held), so it is never taken under kab_vms_lock.
 */
static DEFINE_MUTEX(kab_vmp_lock);
static DEFINE_HASHTABLE(kab_vmp_table, KAB_VMP_HASH_BITS);
static unsigned int kab_vmp_nr_watched;
/* Global reclaim (no target memcg) reached critical_prio. */
static atomic_t kab_vmp_global_prio = ATOMIC_INIT(0);

/* The window of global reclaim, and the global windows evaluated. */
static atomic_long_t kab_vmp_global_scanned = ATOMIC_LONG_INIT(0);
static atomic_long_t kab_vmp_global_reclaimed = ATOMIC_LONG_INIT(0);
static atomic_long_t kab_vmp_global_windows = ATOMIC_LONG_INIT(0);

/*
 * Tasks inside try_to_free_mem_cgroup_pages(): memcg reclaim. A slot is
 * taken by cmpxchg on entry and cleared on return; as many slots as the
 * kretprobe has instances, so a task that got an instance has a slot.
 * A task that got neither (kab_vmp_memcg_missed) is taken for global
 * reclaim.
 */
#define KAB_VMP_MEMCG_RECLAIMERS	64
static struct task_struct *kab_vmp_memcg_reclaimers[KAB_VMP_MEMCG_RECLAIMERS];
static atomic_long_t kab_vmp_memcg_missed = ATOMIC_LONG_INIT(0);
static int kab_vmp_global_status = KAB_SOURCE_OFF;

static DEFINE_PER_CPU(unsigned long, kab_vmp_hits);
static DEFINE_PER_CPU(unsigned long, kab_vmp_prio_hits);

static int kab_vmp_prio_status = KAB_SOURCE_OFF;

static void kab_vmp_evaluate(struct work_struct *work);
static DECLARE_WORK(kab_vmp_work, kab_vmp_evaluate);

/* ---- the kprobe handlers: reclaim context, preemption off ---- */

/* Pressure that userspace can relieve; vmpressure() ignores the rest. */
static bool kab_vmp_gfp_counts(gfp_t gfp)
{
	return gfp & (__GFP_HIGHMEM | __GFP_MOVABLE | __GFP_IO | __GFP_FS);
}

static struct kab_vmp_memcg *kab_vmp_lookup_rcu(struct mem_cgroup *memcg)
{
	struct kab_vmp_memcg *w;

	hash_for_each_possible_rcu(kab_vmp_table, w, node,
				   (unsigned long)memcg)
		if (w->memcg == memcg)
			return w;
	return NULL;
}

static int kab_vmp_memcg_enter(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	unsigned int i;

	for (i = 0; i < KAB_VMP_MEMCG_RECLAIMERS; i++) {
		if (!cmpxchg(&kab_vmp_memcg_reclaimers[i], NULL, current)) {
			*(unsigned int *)ri->data = i;
			return 0;
		}
	}
	atomic_long_inc(&kab_vmp_memcg_missed);
	return 1;	/* no slot: no return handler either */
}

static int kab_vmp_memcg_return(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	WRITE_ONCE(kab_vmp_memcg_reclaimers[*(unsigned int *)ri->data], NULL);
	return 0;
}

static struct kretprobe kab_vmp_memcg_probe = {
	.kp.symbol_name	= "try_to_free_mem_cgroup_pages",
	.entry_handler	= kab_vmp_memcg_enter,
	.handler	= kab_vmp_memcg_return,
	.data_size	= sizeof(unsigned int),
	.maxactive	= KAB_VMP_MEMCG_RECLAIMERS,
};

/* Is the current reclaim global: not under try_to_free_mem_cgroup_pages? */
static bool kab_vmp_reclaim_is_global(void)
{
	unsigned int i;

	if (current_is_kswapd())
		return true;
	for (i = 0; i < KAB_VMP_MEMCG_RECLAIMERS; i++)
		if (READ_ONCE(kab_vmp_memcg_reclaimers[i]) == current)
			return false;
	return true;
}

/* vmpressure(gfp, memcg, tree, scanned, reclaimed) */
static int kab_vmp_hit(struct kprobe *p, struct pt_regs *regs)
{
	gfp_t gfp = (__force gfp_t)regs_get_kernel_argument(regs, 0);
	struct mem_cgroup *memcg =
		(struct mem_cgroup *)regs_get_kernel_argument(regs, 1);
	bool tree = (u8)regs_get_kernel_argument(regs, 2);
	unsigned long scanned = regs_get_kernel_argument(regs, 3);
	unsigned long reclaimed = regs_get_kernel_argument(regs, 4);
	struct kab_vmp_memcg *w;

	this_cpu_inc(kab_vmp_hits);
	if (tree || !scanned || !memcg || !READ_ONCE(kab_vmp_nr_watched))
		return 0;
	if (mem_cgroup_disabled() || !cgroup_subsys_on_dfl(memory_cgrp_subsys))
		return 0;
	if (!kab_vmp_gfp_counts(gfp))
		return 0;

	if (!READ_ONCE(kab_vmp_global_status) && kab_vmp_reclaim_is_global()) {
		atomic_long_add(reclaimed, &kab_vmp_global_reclaimed);
		if (atomic_long_add_return(scanned, &kab_vmp_global_scanned) >=
		    READ_ONCE(kab_vmp_th.window_pages))
			kab_queue_work(&kab_vmp_work);
		return 0;
	}

	rcu_read_lock();
	w = kab_vmp_lookup_rcu(memcg);
	if (w) {
		/* reclaimed first: a full window then has its reclaimed. */
		atomic_long_add(reclaimed, &w->reclaimed);
		if (atomic_long_add_return(scanned, &w->scanned) >=
		    READ_ONCE(kab_vmp_th.window_pages))
			kab_queue_work(&kab_vmp_work);
	}
	rcu_read_unlock();
	return 0;
}

/* vmpressure_prio(gfp, memcg, prio); memcg is NULL for global reclaim. */
static int kab_vmp_prio_hit(struct kprobe *p, struct pt_regs *regs)
{
	gfp_t gfp = (__force gfp_t)regs_get_kernel_argument(regs, 0);
	struct mem_cgroup *memcg =
		(struct mem_cgroup *)regs_get_kernel_argument(regs, 1);
	int prio = (int)regs_get_kernel_argument(regs, 2);
	struct kab_vmp_memcg *w;

	this_cpu_inc(kab_vmp_prio_hits);
	if (prio > (int)READ_ONCE(kab_vmp_th.critical_prio) ||
	    !READ_ONCE(kab_vmp_nr_watched) || !kab_vmp_gfp_counts(gfp))
		return 0;
	/* As the scan path: nothing on a cgroup v1 host. */
	if (mem_cgroup_disabled() || !cgroup_subsys_on_dfl(memory_cgrp_subsys))
		return 0;

	if (!memcg) {
		if (!atomic_xchg(&kab_vmp_global_prio, 1))
			kab_queue_work(&kab_vmp_work);
		return 0;
	}
	rcu_read_lock();
	w = kab_vmp_lookup_rcu(memcg);
	if (w && !atomic_xchg(&w->prio_critical, 1))
		kab_queue_work(&kab_vmp_work);
	rcu_read_unlock();
	return 0;
}

static struct kprobe kab_vmp_probe = {
	.pre_handler	= kab_vmp_hit,
};

static struct kprobe kab_vmp_prio_probe = {
	.symbol_name	= "vmpressure_prio",
	.pre_handler	= kab_vmp_prio_hit,
};

/* ---- evaluation: process context ---- */

/*
 * The level of a window, with the integer arithmetic of
 * vmpressure_calc_level(): the scale is scanned + reclaimed, so that
 * reclaimed > scanned (slab pages freed on the way) gives no pressure.
 */
static unsigned int kab_vmp_level(unsigned long scanned,
				  unsigned long reclaimed)
{
	unsigned long scale = scanned + reclaimed;
	unsigned long pressure = 0;

	if (reclaimed < scanned) {
		pressure = scale - (reclaimed * scale / scanned);
		pressure = pressure * 100 / scale;
	}
	if (pressure >= READ_ONCE(kab_vmp_th.critical_percent))
		return KAB_LEVEL_CRITICAL;
	if (pressure >= READ_ONCE(kab_vmp_th.medium_percent))
		return KAB_LEVEL_MEDIUM;
	return KAB_LEVEL_LOW;
}

/*
 * Global and memcg events cannot name a missing VM and the core allocates
 * nothing: a refusal is a bug, not a condition to live with.
 */
static void kab_vmp_report(const struct kab_host_report *r)
{
	int ret = kab_host_report(r);

	WARN_ONCE(ret, "vmpressure event of scope %d refused: %d\n", r->scope,
		  ret);
}

static void kab_vmp_evaluate(struct work_struct *work)
{
	struct kab_host_report r = { .source = KAB_SRC_VMPRESSURE };
	unsigned long window, scanned, reclaimed;
	struct kab_vmp_memcg *w;
	unsigned int bkt;

	mutex_lock(&kab_vmp_lock);
	window = READ_ONCE(kab_vmp_th.window_pages);
	r.level = KAB_LEVEL_NONE;
	if (atomic_long_read(&kab_vmp_global_scanned) >= window) {
		scanned = atomic_long_xchg(&kab_vmp_global_scanned, 0);
		reclaimed = atomic_long_xchg(&kab_vmp_global_reclaimed, 0);
		r.level = kab_vmp_level(scanned, reclaimed);
		atomic_long_inc(&kab_vmp_global_windows);
	}
	if (atomic_xchg(&kab_vmp_global_prio, 0))
		r.level = KAB_LEVEL_CRITICAL;
	if (r.level != KAB_LEVEL_NONE) {
		r.scope = KAB_SCOPE_GLOBAL;
		kab_vmp_report(&r);
	}

	r.scope = KAB_SCOPE_MEMCG;
	hash_for_each(kab_vmp_table, bkt, w, node) {
		r.level = KAB_LEVEL_NONE;
		if (atomic_long_read(&w->scanned) >= window) {
			scanned = atomic_long_xchg(&w->scanned, 0);
			reclaimed = atomic_long_xchg(&w->reclaimed, 0);
			r.level = kab_vmp_level(scanned, reclaimed);
		}
		if (atomic_xchg(&w->prio_critical, 0))
			r.level = KAB_LEVEL_CRITICAL;
		if (r.level == KAB_LEVEL_NONE)
			continue;
		r.memcg = w->memcg;
		kab_vmp_report(&r);
	}
	mutex_unlock(&kab_vmp_lock);
}

/* ---- the watched memcgs ---- */

static struct kab_vmp_memcg *kab_vmp_find(struct mem_cgroup *memcg)
{
	struct kab_vmp_memcg *w;

	lockdep_assert_held(&kab_vmp_lock);
	hash_for_each_possible(kab_vmp_table, w, node, (unsigned long)memcg)
		if (w->memcg == memcg)
			return w;
	return NULL;
}

static int kab_vmp_watch(struct mem_cgroup *memcg)
{
	struct kab_vmp_memcg *w = kab_vmp_find(memcg);

	if (w) {
		w->users++;
		return 0;
	}
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	css_get(&memcg->css);
	w->memcg = memcg;
	w->users = 1;
	hash_add_rcu(kab_vmp_table, &w->node, (unsigned long)memcg);
	WRITE_ONCE(kab_vmp_nr_watched, kab_vmp_nr_watched + 1);
	return 0;
}

static void kab_vmp_unwatch(struct mem_cgroup *memcg)
{
	struct kab_vmp_memcg *w = kab_vmp_find(memcg);

	if (WARN_ON_ONCE(!w) || --w->users)
		return;
	hash_del_rcu(&w->node);
	WRITE_ONCE(kab_vmp_nr_watched, kab_vmp_nr_watched - 1);
	/* A handler may still hold @w, but it never follows w->memcg. */
	css_put(&memcg->css);
	kfree_rcu(w, rcu);
}

/* Watch the VM's memcg and every ancestor up to the root. */
static int kab_vmp_vm_add(struct kab_vm *vm)
{
	struct mem_cgroup *memcg, *done;
	int ret = 0;

	if (!vm->memcg)
		return 0;
	mutex_lock(&kab_vmp_lock);
	for (memcg = vm->memcg; memcg; memcg = parent_mem_cgroup(memcg)) {
		ret = kab_vmp_watch(memcg);
		if (ret)
			break;
	}
	if (ret)
		for (done = vm->memcg; done != memcg;
		     done = parent_mem_cgroup(done))
			kab_vmp_unwatch(done);
	mutex_unlock(&kab_vmp_lock);
	return ret;
}

static void kab_vmp_vm_del(struct kab_vm *vm)
{
	struct mem_cgroup *memcg;

	if (!vm->memcg)
		return;
	mutex_lock(&kab_vmp_lock);
	for (memcg = vm->memcg; memcg; memcg = parent_mem_cgroup(memcg))
		kab_vmp_unwatch(memcg);
	mutex_unlock(&kab_vmp_lock);
}

/* ---- sysfs: sources/vmpressure/ ---- */

static ssize_t symbol_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%s\n", kab_vmp_symbol);
}

static ssize_t prio_probe_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	if (!kab_vmp_prio_status)
		return sysfs_emit(buf, "active\n");
	if (kab_vmp_prio_status == KAB_SOURCE_OFF)
		return sysfs_emit(buf, "off\n");
	return sysfs_emit(buf, "failed %d\n", kab_vmp_prio_status);
}

static ssize_t global_probe_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	if (!kab_vmp_global_status)
		return sysfs_emit(buf, "active\n");
	if (kab_vmp_global_status == KAB_SOURCE_OFF)
		return sysfs_emit(buf, "off\n");
	return sysfs_emit(buf, "failed %d\n", kab_vmp_global_status);
}

static ssize_t global_windows_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&kab_vmp_global_windows));
}

static ssize_t memcg_reclaim_missed_show(struct kobject *kobj,
					 struct kobj_attribute *attr,
					 char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&kab_vmp_memcg_missed) +
			  READ_ONCE(kab_vmp_memcg_probe.nmissed));
}

static unsigned long kab_vmp_sum(unsigned long __percpu *counter)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(counter, cpu);
	return sum;
}

static ssize_t kprobe_hits_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n", kab_vmp_sum(&kab_vmp_hits));
}

static ssize_t prio_hits_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n", kab_vmp_sum(&kab_vmp_prio_hits));
}

static ssize_t watched_memcgs_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(kab_vmp_nr_watched));
}

/*
 * Tunables: show the value; a write is checked against its range and
 * against the other thresholds under kab_vmp_lock, or -EINVAL and the old
 * value stays.
 */
static ssize_t kab_vmp_store(const char *buf, size_t count, size_t offset)
{
	struct kab_vmp_thresholds th;
	unsigned int val;
	int ret;

	/* Not a number, or too big for one: -EINVAL like any bad value. */
	if (kstrtouint(buf, 0, &val))
		return -EINVAL;
	mutex_lock(&kab_vmp_lock);
	th = kab_vmp_th;
	*(unsigned int *)((char *)&th + offset) = val;
	if (!th.window_pages || th.window_pages > (1U << 20) ||
	    th.critical_percent > 100 ||
	    th.medium_percent > th.critical_percent ||
	    th.critical_prio > KAB_VMP_MAX_PRIO) {
		ret = -EINVAL;
	} else {
		WRITE_ONCE(*(unsigned int *)((char *)&kab_vmp_th + offset), val);
		ret = count;
	}
	mutex_unlock(&kab_vmp_lock);
	return ret;
}

struct kab_vmp_tunable_attr {
	struct kobj_attribute attr;
	size_t offset;		/* of the field in struct kab_vmp_thresholds */
};

static ssize_t kab_vmp_tunable_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	struct kab_vmp_tunable_attr *t =
		container_of(attr, struct kab_vmp_tunable_attr, attr);

	return sysfs_emit(buf, "%u\n",
			  READ_ONCE(*(unsigned int *)((char *)&kab_vmp_th +
						      t->offset)));
}

static ssize_t kab_vmp_tunable_store(struct kobject *kobj,
				     struct kobj_attribute *attr,
				     const char *buf, size_t count)
{
	struct kab_vmp_tunable_attr *t =
		container_of(attr, struct kab_vmp_tunable_attr, attr);

	return kab_vmp_store(buf, count, t->offset);
}

#define KAB_VMP_TUNABLE(_name)						\
static struct kab_vmp_tunable_attr kab_vmp_attr_##_name = {		\
	.attr	= {							\
		.attr	= { .name = __stringify(_name), .mode = 0644 },	\
		.show	= kab_vmp_tunable_show,				\
		.store	= kab_vmp_tunable_store,			\
	},								\
	.offset	= offsetof(struct kab_vmp_thresholds, _name),		\
}

KAB_VMP_TUNABLE(window_pages);
KAB_VMP_TUNABLE(medium_percent);
KAB_VMP_TUNABLE(critical_percent);
KAB_VMP_TUNABLE(critical_prio);

static struct kobj_attribute kab_vmp_attr_symbol = __ATTR_RO(symbol);
static struct kobj_attribute kab_vmp_attr_prio_probe = __ATTR_RO(prio_probe);
static struct kobj_attribute kab_vmp_attr_kprobe_hits = __ATTR_RO(kprobe_hits);
static struct kobj_attribute kab_vmp_attr_prio_hits = __ATTR_RO(prio_hits);
static struct kobj_attribute kab_vmp_attr_watched_memcgs =
	__ATTR_RO(watched_memcgs);
static struct kobj_attribute kab_vmp_attr_global_probe =
	__ATTR_RO(global_probe);
static struct kobj_attribute kab_vmp_attr_global_windows =
	__ATTR_RO(global_windows);
static struct kobj_attribute kab_vmp_attr_memcg_reclaim_missed =
	__ATTR_RO(memcg_reclaim_missed);

static struct attribute *kab_vmp_attrs[] = {
	&kab_vmp_attr_symbol.attr,
	&kab_vmp_attr_prio_probe.attr,
	&kab_vmp_attr_kprobe_hits.attr,
	&kab_vmp_attr_prio_hits.attr,
	&kab_vmp_attr_watched_memcgs.attr,
	&kab_vmp_attr_global_probe.attr,
	&kab_vmp_attr_global_windows.attr,
	&kab_vmp_attr_memcg_reclaim_missed.attr,
	&kab_vmp_attr_window_pages.attr.attr,
	&kab_vmp_attr_medium_percent.attr.attr,
	&kab_vmp_attr_critical_percent.attr.attr,
	&kab_vmp_attr_critical_prio.attr.attr,
	NULL,
};

static const struct attribute_group kab_vmp_group = {
	.attrs = kab_vmp_attrs,
};

/* ---- lifetime ---- */

static int kab_vmp_init(void)
{
	int ret;

	if (!kab_vmp_enable)
		return KAB_SOURCE_OFF;

	kab_vmp_probe.symbol_name = kab_vmp_symbol;
	ret = register_kprobe(&kab_vmp_probe);
	if (ret) {
		pr_warn("vmpressure source off: cannot kprobe %s (error %d); the other sources work\n",
			kab_vmp_symbol, ret);
		return ret;
	}
	kab_vmp_prio_status = register_kprobe(&kab_vmp_prio_probe);
	if (kab_vmp_prio_status)
		pr_warn("vmpressure source: cannot kprobe %s (error %d); critical from reclaim priority is off\n",
			kab_vmp_prio_probe.symbol_name, kab_vmp_prio_status);
	/* A reclaim already inside it when this returns counts as global. */
	ret = register_kretprobe(&kab_vmp_memcg_probe);
	WRITE_ONCE(kab_vmp_global_status, ret);
	if (kab_vmp_global_status)
		pr_warn("vmpressure source: cannot kretprobe %s (error %d); global reclaim is counted per memcg\n",
			kab_vmp_memcg_probe.kp.symbol_name,
			kab_vmp_global_status);
	return 0;
}

/* Every VM is gone: the table is empty. */
static void kab_vmp_exit(void)
{
	/* Back to counting per memcg before the marks stop. */
	if (!kab_vmp_global_status) {
		WRITE_ONCE(kab_vmp_global_status, KAB_SOURCE_OFF);
		unregister_kretprobe(&kab_vmp_memcg_probe);
	}
	if (!kab_vmp_prio_status)
		unregister_kprobe(&kab_vmp_prio_probe);
	kab_vmp_prio_status = KAB_SOURCE_OFF;
	/* Waits for every running handler. */
	unregister_kprobe(&kab_vmp_probe);
	cancel_work_sync(&kab_vmp_work);
	WARN_ON_ONCE(kab_vmp_nr_watched);
}

const struct kab_source_ops kab_vmpressure_source = {
	.name	= "vmpressure",
	.init	= kab_vmp_init,
	.exit	= kab_vmp_exit,
	.vm_add	= kab_vmp_vm_add,
	.vm_del	= kab_vmp_vm_del,
	.attrs	= &kab_vmp_group,
};
