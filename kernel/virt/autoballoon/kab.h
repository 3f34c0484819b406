/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm_autoballoon internals shared by main.c, vm.c and sysfs.c.
 */
#ifndef _KAB_H
#define _KAB_H

#include <linux/atomic.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "policy.h"
#include "source.h"

#define KAB_DEFAULT_MAX_VMS	1024
#define KAB_DEFAULT_MAX_VMS_PER_USER	256
#define KAB_LIMIT_MAX_VMS	65536
#define KAB_DEFAULT_TICK_MS	1000

struct kab_vm;

/**
 * struct kab_pressure_bind - one guest-pressure eventfd bound to a VM
 * @vm:		owner.
 * @level:	KAB_LEVEL_LOW..KAB_LEVEL_CRITICAL signalled by this eventfd.
 * @ctx:	the eventfd; reference held until @shutdown has run.
 * @wait:	our entry on the eventfd's wait queue.
 * @pt:		poll table used once, to add @wait.
 * @pending:	events counted by the wake-up callback, not yet handled.
 * @bound:	an eventfd was given for this level; never changes.
 * @active:	true while bound; cleared once, under vm->bind_lock, by
 *		whoever queues @shutdown.
 * @shutdown:	removes @wait and drops @ctx.
 */
struct kab_pressure_bind {
	struct kab_vm *vm;
	unsigned int level;
	struct eventfd_ctx *ctx;
	wait_queue_entry_t wait;
	poll_table pt;
	atomic64_t pending;
	bool bound;
	bool active;
	struct work_struct shutdown;
};

/**
 * struct kab_vm - one registered VM
 *
 * Lifetime: created by KAB_CREATE_VM, owned by the per-VM file. Its release
 * unbinds every eventfd, waits for the work items, removes the sysfs
 * directory and drops the last kobject reference, which frees it.
 */
struct kab_vm {
	struct list_head node;		/* on kab_vms, under kab_lock */
	u32 id;
	pid_t owner_pid;
	kuid_t owner_uid;		/* euid of the registering process */
	bool privileged;		/* it had CAP_SYS_ADMIN */

	/* Under kab_lock. */
	struct kab_policy_vm pol;
	u64 published_seq;		/* last seq the VMM was told about */
	u64 published_target;
	u64 guest_events[KAB_NR_LEVELS];
	u64 host_events[KAB_NR_LEVELS];
	u32 host_last_level;		/* level of the last host event */
	u32 host_last_source;		/* enum kab_source of it */

	struct eventfd_ctx *target_ctx;
	struct file *kvm_file;		/* KVM VM file or NULL; holds a ref */
	struct mem_cgroup *memcg;	/* the VMM's memcg or NULL; ref held */
	struct kab_psi_bind *psi;	/* per-VM PSI trigger or NULL */

	/*
	 * The guest's memory figures from KAB_VM_SET_GUEST_STATS. A VMM may
	 * call it as often as it likes, so it takes only this lock, never
	 * kab_lock, and queues @stats_work, which takes kab_lock once for
	 * however many updates came meanwhile; kab_vm_guest_to_policy()
	 * copies the figures into @pol under kab_lock before each decision.
	 * Lock order: kab_lock, then guest_lock.
	 */
	spinlock_t guest_lock;
	struct kab_policy_guest guest;	/* under @guest_lock */

	spinlock_t bind_lock;		/* active flags of @binds */
	struct kab_pressure_bind binds[KAB_NR_LEVELS];

	struct work_struct event_work;	/* hands guest events to the policy */
	struct work_struct stats_work;	/* hands new figures to the policy */
	struct work_struct signal_work;	/* signals @target_ctx */

	struct kobject kobj;		/* vms/<id>; its release frees us */
};

extern struct mutex kab_lock;
extern struct list_head kab_vms;
extern unsigned int kab_nr_vms;
extern unsigned int kab_tick_ms;
extern struct kab_policy_params kab_params;
extern struct workqueue_struct *kab_wq;

/* vm.c */
long kab_create_vm(const struct kab_create_vm __user *uarg);
void kab_vm_publish(struct kab_vm *vm);
void kab_vm_guest_to_policy(struct kab_vm *vm);
void kab_vm_guest_figures(struct kab_vm *vm, struct kab_policy_guest *out);
void kab_host_measure(struct kab_policy_host *host);
struct kab_vm *kab_vm_find(u32 id);
struct kab_policy_vm **kab_vms_scratch(void);
unsigned int kab_vms_max(void);
int kab_vms_set_max(unsigned int max);
unsigned int kab_vms_max_per_user(void);
void kab_vms_set_max_per_user(unsigned int max);
int kab_vms_init(void);
void kab_vms_exit(void);
void kab_tick_start(void);
void kab_tick_stop(void);

/* main.c */
int kab_copy_sized_arg(void *dst, size_t ksize, const void __user *uarg,
		       u32 min_size);
const char *kab_reason_name(u32 reason);

/* sysfs.c */
extern struct kobject *kab_kobj;
int kab_sysfs_init(void);
void kab_sysfs_exit(void);
int kab_sysfs_add_vm(struct kab_vm *vm);
void kab_sysfs_del_vm(struct kab_vm *vm);
extern const struct kobj_type kab_vm_ktype;

#endif /* _KAB_H */
