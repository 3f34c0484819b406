/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host pressure sources of kvm_autoballoon.
 *
 * A source notices that the host is short of memory and reports a level
 * (KAB_LEVEL_LOW..KAB_LEVEL_CRITICAL) with a scope through
 * kab_host_report(). The scope says where the pressure is; the core turns it
 * into the set of VMs it concerns and hands that set to the policy, which
 * never learns which source spoke. Sources today:
 *
 *   inject	 the root-only sysfs knob inject_host_pressure (tests, demos);
 *   vmpressure	 a kprobe on vmpressure(): levels recomputed from reclaim's
 *		 scanned/reclaimed stream, per memcg (source_vmpressure.c);
 *   psi	 PSI trigger fds created by userspace, per VM or host wide
 *		 (source_psi.c).
 *
 * An in-tree build could replace the kprobe by a direct call from
 * mm/vmpressure.c without touching anything but its source file.
 *
 * Attribution rule
 * ----------------
 * At registration a VM records the memory cgroup of the registering process
 * (the VMM) with get_mem_cgroup_from_mm(). Pressure reported in a memcg M
 * concerns every VM whose memcg is M or a descendant of M: pressure in a
 * VM's own memcg, or in any of its ancestors, is pressure on that VM, and
 * never on a VM in a sibling subtree. Global reclaim (kswapd, an
 * allocation's direct reclaim: not a memcg's limit) concerns every VM,
 * whichever memcg's pages it scanned, and so does pressure in the root
 * memcg; the policy spreads it by weight. A VM registered without a memcg
 * (memory controller disabled) only sees global and VM-scoped pressure.
 */
#ifndef _KAB_SOURCE_H
#define _KAB_SOURCE_H

#include <linux/sysfs.h>
#include <linux/types.h>

struct kab_vm;
struct kobject;
struct mem_cgroup;

/* Who reported host pressure; sysfs and tracepoints print the name. */
enum kab_source {
	KAB_SRC_INJECT,
	KAB_SRC_VMPRESSURE,
	KAB_SRC_PSI,
	KAB_NR_SOURCES,
};

/* Where the pressure is. */
enum kab_scope {
	KAB_SCOPE_GLOBAL,	/* the whole host: every VM */
	KAB_SCOPE_MEMCG,	/* a memcg: the VMs at or below it */
	KAB_SCOPE_VM,		/* one VM, by id */
	KAB_NR_SCOPES,
};

/**
 * struct kab_host_report - one host pressure event
 * @source:	who noticed it.
 * @level:	KAB_LEVEL_LOW..KAB_LEVEL_CRITICAL.
 * @scope:	where.
 * @memcg:	KAB_SCOPE_MEMCG: the memcg under pressure; the caller keeps it
 *		alive for the call. A root memcg is treated as global.
 * @vm_id:	KAB_SCOPE_VM: the VM.
 */
struct kab_host_report {
	enum kab_source source;
	unsigned int level;
	enum kab_scope scope;
	struct mem_cgroup *memcg;
	u32 vm_id;
};

/*
 * Hand one event to the policy. Process context, may sleep, takes vm.c's
 * kab_vms_lock;
 * allocates nothing, so it works when the host is shortest of memory.
 * Return: 0; -EINVAL for a bad level, source or scope (a caller's bug);
 * -ENOENT for an unknown VM id (for KAB_SCOPE_VM only: the VM may be
 * going away).
 */
int kab_host_report(const struct kab_host_report *r);

/**
 * struct kab_source_ops - what the core calls in a source
 * @name:	directory under sources/ and word in sysfs and traces.
 * @init:	start at module load: 0, KAB_SOURCE_OFF when a module
 *		parameter disabled it, or -errno. Anything but 0 leaves this
 *		source inactive (sources/<name>/state says so) and the module
 *		working with the others.
 * @exit:	stop; called at unload when @init succeeded.
 * @vm_add:	a VM is being registered; vm->memcg is set. May fail
 *		(-ENOMEM), which fails the registration.
 * @vm_del:	undo @vm_add; the VM is no longer registered.
 * @attrs:	extra files in sources/<name>/ (tunables, counters), or NULL.
 *
 * Each hook may be NULL. @vm_add and @vm_del run in process context
 * without vm.c's locks; they are only called while the source is active.
 */
#define KAB_SOURCE_OFF	1

struct kab_source_ops {
	const char *name;
	int (*init)(void);
	void (*exit)(void);
	int (*vm_add)(struct kab_vm *vm);
	void (*vm_del)(struct kab_vm *vm);
	const struct attribute_group *attrs;
};

extern const struct kab_source_ops kab_vmpressure_source;
extern const struct kab_source_ops kab_psi_source;

/* source.c: lifetime of the sources, called by main.c and vm.c. */
int kab_sources_init(struct kobject *parent);
void kab_sources_exit(void);
int kab_sources_vm_add(struct kab_vm *vm, s32 psi_fd);
void kab_sources_vm_start(struct kab_vm *vm);
void kab_sources_vm_del(struct kab_vm *vm);
const char *kab_source_name(unsigned int source);
const char *kab_level_name(unsigned int level);
ssize_t kab_vm_memcg_show(struct kab_vm *vm, char *buf);

/* source_psi.c: PSI triggers bound to a VM or to the whole host. */
struct kab_psi_bind;

int kab_psi_bind_vm(struct kab_vm *vm, s32 psi_fd);
void kab_psi_start_vm(struct kab_vm *vm);
void kab_psi_unbind_vm(struct kab_vm *vm);
const char *kab_psi_state_name(const struct kab_psi_bind *bind);
long kab_psi_bind_host(const void __user *uarg);

#endif /* _KAB_SOURCE_H */
