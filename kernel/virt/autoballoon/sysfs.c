// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_autoballoon sysfs tree, /sys/kernel/kvm_autoballoon/:
 *
 *   version		 ABI version (read only)
 *   nr_vms		 registered VMs (read only)
 *   max_vms		 most VMs that may register; 1..65536, default 1024
 *   max_vms_per_user	 most VMs one user without CAP_SYS_ADMIN may have
 *			 registered; 1..65536, default 256
 *   tick_ms		 period of stall detection and relaxing, in
 *			 milliseconds; 10..60000, default 1000
 *   inject_host_pressure write "LEVEL" or "LEVEL VMID" (root only)
 *   policy/<tunable>	 one file per entry of kab_policy_tunables[]
 *   sources/		 host pressure sources (source.c)
 *   vms/<id>/		 one directory per registered VM (root only)
 *
 * Writes are validated completely before anything changes: a bad value
 * (not a number, out of range, or too large to parse) returns -EINVAL and
 * the old value stays.
 */

#include <linux/capability.h>
#include <linux/kobject.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "kab.h"

struct kobject *kab_kobj;
static struct kobject *kab_policy_kobj;
static struct kobject *kab_vms_kobj;

/* ---- top level ---- */

static ssize_t version_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n", KAB_API_VERSION);
}

static ssize_t nr_vms_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%u\n", kab_vms_count());
}

static ssize_t max_vms_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%u\n", kab_vms_max());
}

/* -ENOMEM when the host events' scratch cannot grow to @max VMs. */
static ssize_t max_vms_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	unsigned int v;
	int ret;

	if (kstrtouint(buf, 0, &v) || v < 1 || v > KAB_LIMIT_MAX_VMS)
		return -EINVAL;
	ret = kab_vms_set_max(v);
	return ret ? ret : count;
}

static ssize_t max_vms_per_user_show(struct kobject *kobj,
				     struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", kab_vms_max_per_user());
}

static ssize_t max_vms_per_user_store(struct kobject *kobj,
				      struct kobj_attribute *attr,
				      const char *buf, size_t count)
{
	unsigned int v;

	if (kstrtouint(buf, 0, &v) || v < 1 || v > KAB_LIMIT_MAX_VMS)
		return -EINVAL;
	kab_vms_set_max_per_user(v);
	return count;
}

static ssize_t tick_ms_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%u\n", kab_tick_period_ms());
}

static ssize_t tick_ms_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	unsigned int v;

	if (kstrtouint(buf, 0, &v) || v < 10 || v > 60000)
		return -EINVAL;
	kab_tick_set_period_ms(v);
	return count;
}

static int kab_parse_level(const char *word, unsigned int *level)
{
	static const char * const names[] = { "low", "medium", "critical" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(word, names[i])) {
			*level = KAB_LEVEL_LOW + i;
			return 0;
		}
	}
	if (kstrtouint(word, 10, level) ||
	    *level < KAB_LEVEL_LOW || *level > KAB_LEVEL_CRITICAL)
		return -EINVAL;
	return 0;
}

/* "LEVEL" for the whole host, "LEVEL VMID" for one VM. */
static ssize_t inject_host_pressure_store(struct kobject *kobj,
					  struct kobj_attribute *attr,
					  const char *buf, size_t count)
{
	char *copy, *cur, *word_level, *word_id;
	unsigned int level;
	u32 vm_id = 0;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	copy = kstrndup(buf, count, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	cur = strim(copy);
	word_level = strsep(&cur, " \t");
	word_id = cur ? strim(cur) : NULL;

	ret = kab_parse_level(word_level, &level);
	if (!ret && word_id && *word_id) {
		if (kstrtou32(word_id, 10, &vm_id) || !vm_id)
			ret = -EINVAL;
	}
	if (!ret) {
		struct kab_host_report r = {
			.source	= KAB_SRC_INJECT,
			.level	= level,
			.scope	= vm_id ? KAB_SCOPE_VM : KAB_SCOPE_GLOBAL,
			.vm_id	= vm_id,
		};

		ret = kab_host_report(&r);
	}
	kfree(copy);
	return ret ? ret : count;
}

static struct kobj_attribute kab_attr_version = __ATTR_RO(version);
static struct kobj_attribute kab_attr_nr_vms = __ATTR_RO(nr_vms);
static struct kobj_attribute kab_attr_max_vms = __ATTR_RW(max_vms);
static struct kobj_attribute kab_attr_max_vms_per_user =
	__ATTR_RW(max_vms_per_user);
static struct kobj_attribute kab_attr_tick_ms = __ATTR_RW(tick_ms);
static struct kobj_attribute kab_attr_inject = __ATTR_WO(inject_host_pressure);

static struct attribute *kab_attrs[] = {
	&kab_attr_version.attr,
	&kab_attr_nr_vms.attr,
	&kab_attr_max_vms.attr,
	&kab_attr_max_vms_per_user.attr,
	&kab_attr_tick_ms.attr,
	&kab_attr_inject.attr,
	NULL,
};

static const struct attribute_group kab_attr_group = {
	.attrs = kab_attrs,
};

/* ---- policy/: built from kab_policy_tunables[] ---- */

static struct kobj_attribute *kab_policy_attrs;
static struct attribute **kab_policy_attr_list;
static struct attribute_group kab_policy_group;

static const struct kab_policy_tunable *
kab_tunable_of(struct kobj_attribute *attr)
{
	return &kab_policy_tunables[attr - kab_policy_attrs];
}

static ssize_t kab_policy_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", kab_vms_param(kab_tunable_of(attr)));
}

static ssize_t kab_policy_store(struct kobject *kobj,
				struct kobj_attribute *attr, const char *buf,
				size_t count)
{
	const struct kab_policy_tunable *t = kab_tunable_of(attr);
	u64 val;
	int ret;

	ret = kstrtou64(buf, 0, &val);
	if (ret)
		return -EINVAL;
	if (val < t->min || val > t->max)
		return -EINVAL;
	kab_vms_set_param(t, val);
	return count;
}

static int kab_policy_sysfs_init(void)
{
	unsigned int i, nr = kab_policy_nr_tunables;

	kab_policy_attrs = kcalloc(nr, sizeof(*kab_policy_attrs), GFP_KERNEL);
	kab_policy_attr_list = kcalloc(nr + 1, sizeof(*kab_policy_attr_list),
				       GFP_KERNEL);
	if (!kab_policy_attrs || !kab_policy_attr_list)
		goto err_free;

	for (i = 0; i < nr; i++) {
		struct kobj_attribute *a = &kab_policy_attrs[i];

		sysfs_attr_init(&a->attr);
		a->attr.name = kab_policy_tunables[i].name;
		a->attr.mode = 0644;
		a->show = kab_policy_show;
		a->store = kab_policy_store;
		kab_policy_attr_list[i] = &a->attr;
	}
	kab_policy_group.attrs = kab_policy_attr_list;

	kab_policy_kobj = kobject_create_and_add("policy", kab_kobj);
	if (!kab_policy_kobj)
		goto err_free;
	if (sysfs_create_group(kab_policy_kobj, &kab_policy_group)) {
		kobject_put(kab_policy_kobj);
		goto err_free;
	}
	return 0;

err_free:
	kfree(kab_policy_attr_list);
	kfree(kab_policy_attrs);
	return -ENOMEM;
}

static void kab_policy_sysfs_exit(void)
{
	sysfs_remove_group(kab_policy_kobj, &kab_policy_group);
	kobject_put(kab_policy_kobj);
	kfree(kab_policy_attr_list);
	kfree(kab_policy_attrs);
}

/*
 * ---- vms/<id>/ ----
 *
 * Every file here is root only (0400). A directory describes one tenant's
 * VM to the host's administrator: who runs it (owner_pid), where it sits
 * in the cgroup tree (memcg), how much memory its guest uses and caches
 * (guest_*, need_pages, spare_limit_pages) and when it is under pressure
 * (the event counters, targets and reasons, which follow the guest's
 * activity: a side channel for a neighbour). A VMM reads its own VM
 * through its own fd (KAB_VM_GET_STATS) and needs none of it; the
 * host-wide files above stay world readable.
 */
#define KAB_VM_ATTR(_name)	__ATTR_RO_MODE(_name, 0400)

static struct kab_vm *kab_vm_of(struct kobject *kobj)
{
	return container_of(kobj, struct kab_vm, kobj);
}

#define KAB_VM_ATTR_U64(_name, _expr)					\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	struct kab_vm *vm = kab_vm_of(kobj);				\
	u64 val;							\
									\
	kab_vm_lock(vm);						\
	val = (_expr);							\
	kab_vm_unlock(vm);						\
	return sysfs_emit(buf, "%llu\n", val);				\
}									\
static struct kobj_attribute kab_vm_attr_##_name = KAB_VM_ATTR(_name)

KAB_VM_ATTR_U64(total_pages, vm->pol.total_pages);
KAB_VM_ATTR_U64(floor_pages, vm->pol.floor_pages);
KAB_VM_ATTR_U64(ceiling_pages, vm->pol.ceiling_pages);
KAB_VM_ATTR_U64(weight, vm->pol.weight);
KAB_VM_ATTR_U64(target_pages, vm->pol.target_pages);
KAB_VM_ATTR_U64(target_seq, vm->pol.seq);
KAB_VM_ATTR_U64(actual_pages, vm->pol.actual_pages);
KAB_VM_ATTR_U64(guest_events_low, vm->guest_events[0]);
KAB_VM_ATTR_U64(guest_events_medium, vm->guest_events[1]);
KAB_VM_ATTR_U64(guest_events_critical, vm->guest_events[2]);
KAB_VM_ATTR_U64(guest_events_dropped, vm->pol.guest_dropped);
KAB_VM_ATTR_U64(host_events_low, vm->host_events[0]);
KAB_VM_ATTR_U64(host_events_medium, vm->host_events[1]);
KAB_VM_ATTR_U64(host_events_critical, vm->host_events[2]);
KAB_VM_ATTR_U64(inflations, vm->pol.inflations);
KAB_VM_ATTR_U64(deflations, vm->pol.deflations);
KAB_VM_ATTR_U64(stalls, vm->pol.stalls);
KAB_VM_ATTR_U64(uncooperative, vm->pol.uncooperative);
KAB_VM_ATTR_U64(owner_pid, vm->owner_pid);

static ssize_t last_reason_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	struct kab_vm *vm = kab_vm_of(kobj);
	u32 reason;

	kab_vm_lock(vm);
	reason = vm->pol.reason;
	kab_vm_unlock(vm);
	return sysfs_emit(buf, "%s\n", kab_reason_name(reason));
}

static struct kobj_attribute kab_vm_attr_last_reason =
	KAB_VM_ATTR(last_reason);

/* Host pressure: the last event that concerned this VM, and its sources. */
static ssize_t host_last_level_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	struct kab_vm *vm = kab_vm_of(kobj);
	u32 level;

	kab_vm_lock(vm);
	level = vm->host_last_level;
	kab_vm_unlock(vm);
	return sysfs_emit(buf, "%s\n", kab_level_name(level));
}

static ssize_t host_last_source_show(struct kobject *kobj,
				     struct kobj_attribute *attr, char *buf)
{
	struct kab_vm *vm = kab_vm_of(kobj);
	u32 level, source;

	kab_vm_lock(vm);
	level = vm->host_last_level;
	source = vm->host_last_source;
	kab_vm_unlock(vm);
	return sysfs_emit(buf, "%s\n",
			  level ? kab_source_name(source) : "none");
}

/* A page count, or "unknown" when there is none to show. */
static ssize_t kab_emit_pages(char *buf, bool known, u64 pages)
{
	if (!known)
		return sysfs_emit(buf, "unknown\n");
	return sysfs_emit(buf, "%llu\n", pages);
}

/*
 * The guest's own figures (KAB_VM_SET_GUEST_STATS): a page count, or
 * "unknown" when the last update did not carry it or none came yet.
 */
#define KAB_VM_ATTR_GUEST(_name, _bit)					\
static ssize_t guest_##_name##_pages_show(struct kobject *kobj,	\
					   struct kobj_attribute *attr,	\
					   char *buf)			\
{									\
	struct kab_policy_guest g;					\
									\
	kab_vm_guest_figures(kab_vm_of(kobj), &g);			\
	return kab_emit_pages(buf, g.valid & (_bit), g._name##_pages);	\
}									\
static struct kobj_attribute kab_vm_attr_guest_##_name##_pages =	\
	KAB_VM_ATTR(guest_##_name##_pages)

KAB_VM_ATTR_GUEST(available, KAB_GUEST_STAT_AVAILABLE);
KAB_VM_ATTR_GUEST(free, KAB_GUEST_STAT_FREE);
KAB_VM_ATTR_GUEST(cache, KAB_GUEST_STAT_CACHE);
KAB_VM_ATTR_GUEST(total, KAB_GUEST_STAT_TOTAL);
KAB_VM_ATTR_GUEST(committed, KAB_GUEST_STAT_COMMITTED);

/*
 * What the policy made of the figures: the guest's need (recent peak of
 * used or committed memory) and the largest balloon host pressure may
 * give it now; "unknown" before the first figures with available memory.
 */
static ssize_t need_pages_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	struct kab_vm *vm = kab_vm_of(kobj);
	u64 need = KAB_POLICY_UNKNOWN;

	kab_vm_lock(vm);
	if (vm->pol.stats_ns != KAB_POLICY_NEVER)
		need = vm->pol.need_pages;
	kab_vm_unlock(vm);
	return kab_emit_pages(buf, need != KAB_POLICY_UNKNOWN, need);
}

static ssize_t spare_limit_pages_show(struct kobject *kobj,
				      struct kobj_attribute *attr, char *buf)
{
	struct kab_vm *vm = kab_vm_of(kobj);
	u64 limit;

	kab_vm_lock(vm);
	limit = kab_vm_spare_limit(vm);
	kab_vm_unlock(vm);
	return kab_emit_pages(buf, limit != KAB_POLICY_UNKNOWN, limit);
}

static ssize_t reserve_pages_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	struct kab_vm *vm = kab_vm_of(kobj);
	u64 reserve;

	kab_vm_lock(vm);
	reserve = kab_vm_reserve(vm);
	kab_vm_unlock(vm);
	return sysfs_emit(buf, "%llu\n", reserve);
}

static struct kobj_attribute kab_vm_attr_need_pages = KAB_VM_ATTR(need_pages);
static struct kobj_attribute kab_vm_attr_reserve_pages =
	KAB_VM_ATTR(reserve_pages);
static struct kobj_attribute kab_vm_attr_spare_limit_pages =
	KAB_VM_ATTR(spare_limit_pages);

/* Milliseconds since the last update, or "never". */
static ssize_t guest_stats_age_ms_show(struct kobject *kobj,
				       struct kobj_attribute *attr, char *buf)
{
	struct kab_policy_guest g;
	u64 now = ktime_get_ns();

	kab_vm_guest_figures(kab_vm_of(kobj), &g);
	if (g.reported_ns == KAB_POLICY_NEVER)
		return sysfs_emit(buf, "never\n");
	return sysfs_emit(buf, "%llu\n",
			  now > g.reported_ns ?
			  div_u64(now - g.reported_ns, NSEC_PER_MSEC) : 0);
}

static ssize_t guest_stats_updates_show(struct kobject *kobj,
					struct kobj_attribute *attr, char *buf)
{
	struct kab_policy_guest g;

	kab_vm_guest_figures(kab_vm_of(kobj), &g);
	return sysfs_emit(buf, "%llu\n", g.updates);
}

static struct kobj_attribute kab_vm_attr_guest_stats_age_ms =
	KAB_VM_ATTR(guest_stats_age_ms);
static struct kobj_attribute kab_vm_attr_guest_stats_updates =
	KAB_VM_ATTR(guest_stats_updates);

/* vm->memcg and vm->psi outlive the VM's sysfs directory. */
static ssize_t memcg_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return kab_vm_memcg_show(kab_vm_of(kobj), buf);
}

static ssize_t psi_trigger_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", kab_psi_state_name(kab_vm_of(kobj)->psi));
}

static struct kobj_attribute kab_vm_attr_host_last_level =
	KAB_VM_ATTR(host_last_level);
static struct kobj_attribute kab_vm_attr_host_last_source =
	KAB_VM_ATTR(host_last_source);
static struct kobj_attribute kab_vm_attr_memcg = KAB_VM_ATTR(memcg);
static struct kobj_attribute kab_vm_attr_psi_trigger =
	KAB_VM_ATTR(psi_trigger);

static struct attribute *kab_vm_attrs[] = {
	&kab_vm_attr_total_pages.attr,
	&kab_vm_attr_floor_pages.attr,
	&kab_vm_attr_ceiling_pages.attr,
	&kab_vm_attr_weight.attr,
	&kab_vm_attr_target_pages.attr,
	&kab_vm_attr_target_seq.attr,
	&kab_vm_attr_actual_pages.attr,
	&kab_vm_attr_last_reason.attr,
	&kab_vm_attr_guest_events_low.attr,
	&kab_vm_attr_guest_events_medium.attr,
	&kab_vm_attr_guest_events_critical.attr,
	&kab_vm_attr_guest_events_dropped.attr,
	&kab_vm_attr_host_events_low.attr,
	&kab_vm_attr_host_events_medium.attr,
	&kab_vm_attr_host_events_critical.attr,
	&kab_vm_attr_inflations.attr,
	&kab_vm_attr_deflations.attr,
	&kab_vm_attr_stalls.attr,
	&kab_vm_attr_uncooperative.attr,
	&kab_vm_attr_owner_pid.attr,
	&kab_vm_attr_host_last_level.attr,
	&kab_vm_attr_host_last_source.attr,
	&kab_vm_attr_memcg.attr,
	&kab_vm_attr_psi_trigger.attr,
	&kab_vm_attr_need_pages.attr,
	&kab_vm_attr_reserve_pages.attr,
	&kab_vm_attr_spare_limit_pages.attr,
	&kab_vm_attr_guest_available_pages.attr,
	&kab_vm_attr_guest_free_pages.attr,
	&kab_vm_attr_guest_cache_pages.attr,
	&kab_vm_attr_guest_total_pages.attr,
	&kab_vm_attr_guest_committed_pages.attr,
	&kab_vm_attr_guest_stats_age_ms.attr,
	&kab_vm_attr_guest_stats_updates.attr,
	NULL,
};
ATTRIBUTE_GROUPS(kab_vm);

static void kab_vm_kobj_release(struct kobject *kobj)
{
	kfree(kab_vm_of(kobj));
}

const struct kobj_type kab_vm_ktype = {
	.release	= kab_vm_kobj_release,
	.sysfs_ops	= &kobj_sysfs_ops,
	.default_groups	= kab_vm_groups,
};

int kab_sysfs_add_vm(struct kab_vm *vm)
{
	return kobject_add(&vm->kobj, kab_vms_kobj, "%u", vm->id);
}

/* Waits for every show() in progress; the caller still holds a reference. */
void kab_sysfs_del_vm(struct kab_vm *vm)
{
	kobject_del(&vm->kobj);
}

/* ---- init/exit ---- */

int kab_sysfs_init(void)
{
	int ret = -ENOMEM;

	kab_kobj = kobject_create_and_add("kvm_autoballoon", kernel_kobj);
	if (!kab_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(kab_kobj, &kab_attr_group);
	if (ret)
		goto err_put;
	ret = kab_policy_sysfs_init();
	if (ret)
		goto err_put;
	kab_vms_kobj = kobject_create_and_add("vms", kab_kobj);
	if (!kab_vms_kobj) {
		ret = -ENOMEM;
		goto err_policy;
	}
	return 0;

err_policy:
	kab_policy_sysfs_exit();
err_put:
	kobject_put(kab_kobj);
	return ret;
}

void kab_sysfs_exit(void)
{
	kobject_put(kab_vms_kobj);
	kab_policy_sysfs_exit();
	kobject_put(kab_kobj);
}
