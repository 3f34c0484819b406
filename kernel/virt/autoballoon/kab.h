/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm_autoballoon internals shared by main.c, vm.c, sysfs.c and the
 * sources. Each file owns its state and offers functions for it: vm.c the
 * VMs, their list and limits, the policy's tunables and the tick; main.c
 * the workqueue; sysfs.c the tree.
 */
#ifndef _KAB_H
#define _KAB_H

#include <linux/atomic.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rwsem.h>
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
 * Locking: vm.c's "Locking" comment.
 */
struct kab_vm {
	struct list_head node;		/* on vm.c's list, kab_vms_lock */
	u32 id;
	pid_t owner_pid;
	kuid_t owner_uid;		/* euid of the registering process */
	bool privileged;		/* it had CAP_SYS_ADMIN */

	/*
	 * The policy state and the fields down to @host_last_source: under
	 * @lock (with vm.c's kab_vms_lock held for reading), or under
	 * kab_vms_lock held for writing (a host event).
	 */
	struct mutex lock;
	struct kab_policy_vm pol;
	u64 published_seq;		/* last seq the VMM was told about */
	u64 published_target;		/* and also under @target_lock */
	u32 published_reason;
	u64 guest_events[KAB_NR_LEVELS];
	u64 host_events[KAB_NR_LEVELS];
	u32 host_last_level;		/* level of the last host event */
	u32 host_last_source;		/* enum kab_source of it */

	/* The published_* fields for KAB_VM_GET_TARGET, which takes no other. */
	spinlock_t target_lock;

	struct eventfd_ctx *target_ctx;
	struct file *kvm_file;		/* KVM VM file or NULL; holds a ref */
	struct mem_cgroup *memcg;	/* the VMM's memcg or NULL; ref held */
	struct kab_psi_bind *psi;	/* per-VM PSI trigger or NULL */

	/*
	 * The guest's memory figures from KAB_VM_SET_GUEST_STATS. A VMM may
	 * call it as often as it likes, so it takes only this lock and
	 * queues @stats_work, no earlier than @stats_next, which takes @lock
	 * once for however many updates came meanwhile; kab_vm_guest_to_policy() copies the
	 * figures into @pol before each decision. Lock order: @lock (or
	 * kab_vms_lock for writing), then guest_lock.
	 */
	spinlock_t guest_lock;
	struct kab_policy_guest guest;	/* under @guest_lock */

	spinlock_t bind_lock;		/* active flags of @binds */
	struct kab_pressure_bind binds[KAB_NR_LEVELS];

	/* Hands guest events to the policy, not before @event_next. */
	struct delayed_work event_work;
	unsigned long event_next;	/* jiffies; written by event_work */
	/* Hands new figures to the policy, not before @stats_next. */
	struct delayed_work stats_work;
	unsigned long stats_next;	/* jiffies; written by stats_work */
	struct work_struct signal_work;	/* signals @target_ctx */

	struct kobject kobj;		/* vms/<id>; its release frees us */
};

/* vm.c */
long kab_create_vm(const struct kab_create_vm __user *uarg);
void kab_vm_lock(struct kab_vm *vm);
void kab_vm_unlock(struct kab_vm *vm);
u64 kab_vm_spare_limit(struct kab_vm *vm);
u64 kab_vm_reserve(struct kab_vm *vm);
void kab_vm_guest_figures(struct kab_vm *vm, struct kab_policy_guest *out);
void kab_host_measure(struct kab_policy_host *host);
unsigned int kab_vms_host_event(const struct kab_policy_host *host,
				unsigned int level, unsigned int source,
				bool (*match)(const struct kab_vm *vm,
					      const void *arg),
				const void *arg, bool one);
unsigned int kab_vms_count(void);
u64 kab_vms_param(const struct kab_policy_tunable *t);
void kab_vms_set_param(const struct kab_policy_tunable *t, u64 val);
unsigned int kab_tick_period_ms(void);
void kab_tick_set_period_ms(unsigned int ms);
unsigned int kab_vms_max(void);
int kab_vms_set_max(unsigned int max);
unsigned int kab_vms_max_per_user(void);
void kab_vms_set_max_per_user(unsigned int max);
int kab_vms_init(void);
void kab_vms_exit(void);

/* main.c */
bool kab_queue_work(struct work_struct *work);
bool kab_queue_delayed_work(struct delayed_work *dwork, unsigned long delay);
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
