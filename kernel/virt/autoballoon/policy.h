/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm_autoballoon policy: turns host and guest pressure into balloon targets.
 *
 * This is a pure decision core. It knows nothing of eventfds, files, locks or
 * sysfs: the caller serialises every call (the module holds kab_lock, the
 * simulator is single threaded), passes the time in nanoseconds and applies
 * the results. policy.c compiles unchanged into the module, the userspace
 * unit tests and the simulator; outside the kernel, kab_shim.h supplies the
 * few kernel types it uses.
 *
 * All page counts are 4 KiB balloon pages. A VM's target is its balloon size:
 * inflating raises it, deflating lowers it. The target always stays within
 * [total - ceiling, total - floor].
 */
#ifndef _KAB_POLICY_H
#define _KAB_POLICY_H

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/types.h>
#else
#include "kab_shim.h"
#endif

#include <linux/kvm_autoballoon.h>

/**
 * struct kab_policy_params - every tunable of the policy
 *
 * Each field is described, with its unit, range and default, by an entry of
 * kab_policy_tunables[]; the module builds one sysfs file per entry from that
 * table, and the documentation lists the same entries.
 */
struct kab_policy_params {
	u64 host_step_pages[KAB_NR_LEVELS];
	u64 guest_step_pages[KAB_NR_LEVELS];
	u64 cooldown_ms;
};

/**
 * struct kab_policy_tunable - description of one field of kab_policy_params
 * @name:	sysfs file name.
 * @offset:	offsetof() the u64 in struct kab_policy_params.
 * @min:	smallest accepted value.
 * @max:	largest accepted value.
 * @def:	default, set by kab_policy_defaults().
 * @unit:	unit, for documentation ("pages", "ms", "percent", ...).
 * @help:	one line for the documentation.
 */
struct kab_policy_tunable {
	const char *name;
	unsigned int offset;
	u64 min;
	u64 max;
	u64 def;
	const char *unit;
	const char *help;
};

extern const struct kab_policy_tunable kab_policy_tunables[];
extern const unsigned int kab_policy_nr_tunables;

/**
 * struct kab_policy_vm - the policy's view of one VM
 *
 * The caller fills the limits before kab_policy_vm_init() and never writes
 * the rest; the policy owns every other field.
 */
struct kab_policy_vm {
	/* Limits, set by the caller at registration. */
	u64 total_pages;
	u64 floor_pages;
	u64 ceiling_pages;
	u32 weight;

	/* Decision, owned by the policy. */
	u64 target_pages;
	u64 seq;		/* +1 on every target change */
	u32 reason;		/* enum kab_reason of the last change */
	u32 last_host_level;
	u32 last_guest_level;

	/* Feedback from the VMM. */
	u64 actual_pages;
	u64 actual_ns;		/* when actual_pages was last reported */

	/* Policy state. */
	u64 last_change_ns;

	/* Counters. */
	u64 inflations;
	u64 deflations;
	u64 stalls;
	u64 guest_dropped;
};

void kab_policy_defaults(struct kab_policy_params *p);

/*
 * Returns 0, or -EINVAL when the limits are inconsistent (the module checks
 * them before, with precise errnos; this is the policy's own guard). Sets
 * the initial target, total - ceiling, with seq 1 and KAB_REASON_INITIAL.
 */
int kab_policy_vm_init(const struct kab_policy_params *p,
		       struct kab_policy_vm *vm, u64 now_ns);

/*
 * The guest signalled @count pressure events at @level (KAB_LEVEL_LOW..
 * KAB_LEVEL_CRITICAL). Returns true when vm->target_pages changed.
 */
bool kab_policy_guest_event(const struct kab_policy_params *p,
			    struct kab_policy_vm *vm, unsigned int level,
			    u64 count, u64 now_ns);

/*
 * The host is under pressure at @level for the @nr VMs in @vms (all VMs for
 * global pressure, or the VMs whose memcg is under pressure). Returns how
 * many targets changed.
 */
unsigned int kab_policy_host_event(const struct kab_policy_params *p,
				   struct kab_policy_vm **vms, unsigned int nr,
				   unsigned int level, u64 now_ns);

/* The VMM reports the balloon's actual size (already checked <= total). */
void kab_policy_actual(const struct kab_policy_params *p,
		       struct kab_policy_vm *vm, u64 actual_pages, u64 now_ns);

/*
 * Periodic evaluation (stall detection, relaxing after host pressure ends).
 * Returns true when vm->target_pages changed.
 */
bool kab_policy_tick(const struct kab_policy_params *p,
		     struct kab_policy_vm *vm, u64 now_ns);

#endif /* _KAB_POLICY_H */
