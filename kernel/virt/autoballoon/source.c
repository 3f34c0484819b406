// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_autoballoon: the host pressure sources and the one entry point through
 * which their events reach the policy. source.h tells the interface and the
 * attribution rule.
 *
 * sysfs, under /sys/kernel/kvm_autoballoon/sources/:
 *
 *   active		names of the active sources, one line
 *   <name>/state	"active", "off" (disabled by a module parameter) or
 *			"failed <errno>" (could not start; the module works
 *			with the other sources)
 *   <name>/events_low, events_medium, events_critical
 *			events this source reported, per level
 *   <name>/events_global, events_memcg, events_vm
 *			the same events, per scope (a root memcg counts as
 *			global)
 *   <name>/...		the source's own tunables and counters
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/kobject.h>
#include <linux/memcontrol.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "kab.h"
#include "kab_trace.h"

static const struct kab_source_ops kab_inject_source = {
	.name	= "inject",
};

static const struct kab_source_ops * const kab_sources[KAB_NR_SOURCES] = {
	[KAB_SRC_INJECT]	= &kab_inject_source,
	[KAB_SRC_VMPRESSURE]	= &kab_vmpressure_source,
	[KAB_SRC_PSI]		= &kab_psi_source,
};

/*
 * 0 active, KAB_SOURCE_OFF disabled, else the -errno of its init. Written
 * once at module load, before sysfs shows it.
 */
static int kab_source_status[KAB_NR_SOURCES];

static atomic64_t kab_source_events[KAB_NR_SOURCES][KAB_NR_LEVELS];
static atomic64_t kab_source_scopes[KAB_NR_SOURCES][KAB_NR_SCOPES];

static struct kobject *kab_sources_kobj;
static struct kobject *kab_source_kobjs[KAB_NR_SOURCES];

const char *kab_source_name(unsigned int source)
{
	if (source >= KAB_NR_SOURCES)
		return "unknown";
	return kab_sources[source]->name;
}

const char *kab_level_name(unsigned int level)
{
	static const char * const names[] = {
		[KAB_LEVEL_NONE]	= "none",
		[KAB_LEVEL_LOW]		= "low",
		[KAB_LEVEL_MEDIUM]	= "medium",
		[KAB_LEVEL_CRITICAL]	= "critical",
	};

	if (level >= ARRAY_SIZE(names))
		return "unknown";
	return names[level];
}

static bool kab_source_active(unsigned int source)
{
	return kab_source_status[source] == 0;
}

/* ---- events ---- */

/* Does the event @arg (scope already resolved) concern @vm? */
static bool kab_vm_in_scope(const struct kab_vm *vm, const void *arg)
{
	const struct kab_host_report *r = arg;

	switch (r->scope) {
	case KAB_SCOPE_GLOBAL:
		return true;
	case KAB_SCOPE_MEMCG:
		/* The VM's memcg is the one under pressure or below it. */
		return vm->memcg && mem_cgroup_is_descendant(vm->memcg,
							     r->memcg);
	case KAB_SCOPE_VM:
		return vm->id == r->vm_id;
	default:
		return false;
	}
}

int kab_host_report(const struct kab_host_report *r)
{
	struct kab_host_report ev = *r;
	struct kab_policy_host host = {};
	unsigned int nr;
	u64 cgroup = 0;

	if (ev.level < KAB_LEVEL_LOW || ev.level > KAB_LEVEL_CRITICAL ||
	    ev.source >= KAB_NR_SOURCES || ev.scope >= KAB_NR_SCOPES)
		return -EINVAL;
	if (ev.scope == KAB_SCOPE_MEMCG) {
		if (!ev.memcg)
			return -EINVAL;
		/* Pressure at the root is global reclaim. */
		if (!parent_mem_cgroup(ev.memcg))
			ev.scope = KAB_SCOPE_GLOBAL;
		else
			cgroup = cgroup_id(ev.memcg->css.cgroup);
	}

	/*
	 * Global pressure is sized by the host's deficit. The host's figures
	 * say nothing of one memcg or one VM, and an injection is a test's
	 * way to ask for exactly one level step.
	 */
	if (ev.scope == KAB_SCOPE_GLOBAL && ev.source != KAB_SRC_INJECT)
		kab_host_measure(&host);

	/* Nothing here allocates: this runs when memory is shortest. */
	nr = kab_vms_host_event(&host, ev.level, ev.source, kab_vm_in_scope,
				&ev, ev.scope == KAB_SCOPE_VM);
	if (ev.scope == KAB_SCOPE_VM && !nr)
		return -ENOENT;

	atomic64_inc(&kab_source_events[ev.source][ev.level - 1]);
	atomic64_inc(&kab_source_scopes[ev.source][ev.scope]);
	trace_kab_host_pressure(ev.source, ev.level, ev.scope, cgroup,
				ev.scope == KAB_SCOPE_VM ? ev.vm_id : 0, nr);
	return 0;
}

/* ---- per-VM hooks ---- */

int kab_sources_vm_add(struct kab_vm *vm, s32 psi_fd)
{
	unsigned int i;
	int ret;

	/* NULL when the memory controller is disabled. */
	vm->memcg = get_mem_cgroup_from_mm(current->mm);

	ret = kab_psi_bind_vm(vm, psi_fd);
	if (ret)
		goto err_put_memcg;
	for (i = 0; i < KAB_NR_SOURCES; i++) {
		if (!kab_source_active(i) || !kab_sources[i]->vm_add)
			continue;
		ret = kab_sources[i]->vm_add(vm);
		if (ret)
			goto err_del;
	}
	return 0;

err_del:
	while (i--)
		if (kab_source_active(i) && kab_sources[i]->vm_del)
			kab_sources[i]->vm_del(vm);
	kab_psi_unbind_vm(vm);
err_put_memcg:
	mem_cgroup_put(vm->memcg);
	vm->memcg = NULL;
	return ret;
}

/* The VM is registered: events for it can be delivered. */
void kab_sources_vm_start(struct kab_vm *vm)
{
	kab_psi_start_vm(vm);
}

void kab_sources_vm_del(struct kab_vm *vm)
{
	unsigned int i = KAB_NR_SOURCES;

	while (i--)
		if (kab_source_active(i) && kab_sources[i]->vm_del)
			kab_sources[i]->vm_del(vm);
	kab_psi_unbind_vm(vm);
	mem_cgroup_put(vm->memcg);
	vm->memcg = NULL;
}

/* vms/<id>/memcg: the path of the VM's memcg, or "none". */
ssize_t kab_vm_memcg_show(struct kab_vm *vm, char *buf)
{
	char *path;
	int ret;

	if (!vm->memcg)
		return sysfs_emit(buf, "none\n");
	path = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!path)
		return -ENOMEM;
	ret = cgroup_path(vm->memcg->css.cgroup, path, PATH_MAX);
	if (ret >= 0)
		ret = sysfs_emit(buf, "%s\n", path);
	kfree(path);
	return ret;
}

/* ---- sysfs: sources/ ---- */

static unsigned int kab_source_of(struct kobject *kobj)
{
	unsigned int i;

	for (i = 0; i < KAB_NR_SOURCES; i++)
		if (kab_source_kobjs[i] == kobj)
			return i;
	return 0;	/* not reached: every kobject here is a source's */
}

static ssize_t state_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	int status = kab_source_status[kab_source_of(kobj)];

	if (!status)
		return sysfs_emit(buf, "active\n");
	if (status == KAB_SOURCE_OFF)
		return sysfs_emit(buf, "off\n");
	return sysfs_emit(buf, "failed %d\n", status);
}

static ssize_t kab_source_counter_show(struct kobject *kobj, char *buf,
				       const atomic64_t *counters,
				       unsigned int idx)
{
	return sysfs_emit(buf, "%lld\n", atomic64_read(&counters[idx]));
}

#define KAB_SOURCE_COUNTER(_name, _array, _idx)				\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	return kab_source_counter_show(kobj, buf,			\
				       _array[kab_source_of(kobj)], _idx); \
}									\
static struct kobj_attribute kab_source_attr_##_name = __ATTR_RO(_name)

KAB_SOURCE_COUNTER(events_low, kab_source_events, 0);
KAB_SOURCE_COUNTER(events_medium, kab_source_events, 1);
KAB_SOURCE_COUNTER(events_critical, kab_source_events, 2);
KAB_SOURCE_COUNTER(events_global, kab_source_scopes, KAB_SCOPE_GLOBAL);
KAB_SOURCE_COUNTER(events_memcg, kab_source_scopes, KAB_SCOPE_MEMCG);
KAB_SOURCE_COUNTER(events_vm, kab_source_scopes, KAB_SCOPE_VM);

static struct kobj_attribute kab_source_attr_state = __ATTR_RO(state);

static struct attribute *kab_source_attrs[] = {
	&kab_source_attr_state.attr,
	&kab_source_attr_events_low.attr,
	&kab_source_attr_events_medium.attr,
	&kab_source_attr_events_critical.attr,
	&kab_source_attr_events_global.attr,
	&kab_source_attr_events_memcg.attr,
	&kab_source_attr_events_vm.attr,
	NULL,
};

static const struct attribute_group kab_source_group = {
	.attrs = kab_source_attrs,
};

static ssize_t active_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	ssize_t len = 0;
	unsigned int i;

	for (i = 0; i < KAB_NR_SOURCES; i++)
		if (kab_source_active(i))
			len += sysfs_emit_at(buf, len, "%s%s", len ? " " : "",
					     kab_sources[i]->name);
	return len + sysfs_emit_at(buf, len, "\n");
}

static struct kobj_attribute kab_sources_attr_active = __ATTR_RO(active);

static void kab_sources_sysfs_exit(void)
{
	unsigned int i;

	for (i = 0; i < KAB_NR_SOURCES; i++) {
		/* kobject_put() removes the groups with the directory. */
		kobject_put(kab_source_kobjs[i]);
		kab_source_kobjs[i] = NULL;
	}
	kobject_put(kab_sources_kobj);
	kab_sources_kobj = NULL;
}

static int kab_sources_sysfs_init(struct kobject *parent)
{
	struct kobject *kobj;
	unsigned int i;
	int ret;

	kab_sources_kobj = kobject_create_and_add("sources", parent);
	if (!kab_sources_kobj)
		return -ENOMEM;
	ret = sysfs_create_file(kab_sources_kobj,
				&kab_sources_attr_active.attr);
	if (ret)
		goto err;
	for (i = 0; i < KAB_NR_SOURCES; i++) {
		kobj = kobject_create_and_add(kab_sources[i]->name,
					      kab_sources_kobj);
		if (!kobj) {
			ret = -ENOMEM;
			goto err;
		}
		kab_source_kobjs[i] = kobj;
		ret = sysfs_create_group(kobj, &kab_source_group);
		if (!ret && kab_sources[i]->attrs)
			ret = sysfs_create_group(kobj, kab_sources[i]->attrs);
		if (ret)
			goto err;
	}
	return 0;

err:
	kab_sources_sysfs_exit();
	return ret;
}

/* ---- lifetime ---- */

/*
 * Start every source, then show them in sysfs. A source that cannot start
 * stays inactive; only a failure to build sysfs fails the module.
 */
int kab_sources_init(struct kobject *parent)
{
	unsigned int i;
	int ret;

	for (i = 0; i < KAB_NR_SOURCES; i++)
		kab_source_status[i] = kab_sources[i]->init ?
				       kab_sources[i]->init() : 0;

	ret = kab_sources_sysfs_init(parent);
	if (ret)
		kab_sources_exit();
	return ret;
}

void kab_sources_exit(void)
{
	unsigned int i = KAB_NR_SOURCES;

	kab_sources_sysfs_exit();
	while (i--) {
		if (kab_source_active(i) && kab_sources[i]->exit)
			kab_sources[i]->exit();
		kab_source_status[i] = KAB_SOURCE_OFF;
	}
}
