/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm_autoballoon policy: turns host and guest pressure into balloon targets.
 *
 * This is a pure decision core. It knows nothing of eventfds, files, locks or
 * sysfs: the caller serialises every call on a VM (the module holds that
 * VM's lock, or every VM's for a host event; the simulator is single
 * threaded), passes the time in nanoseconds and applies
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

/* A time that has not happened yet, for the *_ns fields below. */
#define KAB_POLICY_NEVER	U64_MAX
/* A figure the policy does not know (no guest figures read yet). */
#define KAB_POLICY_UNKNOWN	U64_MAX

/**
 * struct kab_policy_params - every tunable of the policy
 *
 * Each field is described, with its unit, range and default, by an entry of
 * kab_policy_tunables[]; the module builds one sysfs file per entry from that
 * table, and the documentation lists the same entries. Every time-based
 * behaviour is disabled by its _ms tunable being 0.
 */
struct kab_policy_params {
	u64 host_step_pages[KAB_NR_LEVELS];
	u64 guest_step_pages[KAB_NR_LEVELS];
	u64 cooldown_ms;
	/* Caps on one inflation, and the smallest change worth making. */
	u64 max_step_pages;
	u64 max_step_percent;
	u64 min_change_pages;
	/* How long a pressure event counts as the VM's current level. */
	u64 host_hold_ms;
	u64 guest_hold_ms;
	/* Inflation share of a VM whose guest reports low pressure. */
	u64 guest_low_share_percent;
	/* Hysteresis: the guest's pressure mark and the gap kept below it. */
	u64 hysteresis_percent;
	u64 mark_ms;
	/* Opposite-direction blocking. */
	u64 block_after_inflate_ms;
	u64 block_after_deflate_ms;
	u64 block_after_critical_ms;
	/* Per-VM token bucket for guest hints. */
	u64 guest_hint_interval_ms;
	u64 guest_hint_burst;
	/* Stall detection and backoff. */
	u64 stall_ms;
	u64 stall_backoff_max_ms;
	/* Giving memory back once the host is quiet. */
	u64 relax_after_ms;
	u64 relax_step_percent;
	/* What a guest can spare, from its figures. */
	u64 need_decay_ms;
	u64 reserve_percent;
	u64 cache_keep_percent;
	u64 stats_stale_ms;
	/* A guest whose use is rising keeps what it has. */
	u64 grow_percent;
	u64 grow_hold_ms;
	/* The host's deficit, and VMs the policy cannot see into. */
	u64 host_available_percent;
	u64 host_headroom_percent;
	u64 blind_step_percent;
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
 * struct kab_policy_guest - the guest's own memory figures, as last reported
 * @valid:	KAB_GUEST_STAT_* bits of the figures the last report carried;
 *		the others read 0 and mean "not reported".
 * @available_pages:	memory the guest can allocate without swapping.
 * @free_pages:	memory the guest leaves unused.
 * @cache_pages:	memory the guest can drop at once (page cache).
 * @total_pages:	memory the guest sees; <= the VM's total_pages.
 * @committed_pages:	memory promised to the guest's processes; may exceed
 *		@total_pages.
 * @reported_ns:	when the report arrived, KAB_POLICY_NEVER before the
 *		first one.
 * @updates:	reports accepted since registration.
 *
 * All counts are 4 KiB pages, checked by the caller (the module's
 * KAB_VM_SET_GUEST_STATS) against the VM's limits before they get here.
 * They are hints from the guest: a rule may use them to stay away from the
 * guest's need, never to go beyond the VM's limits.
 */
struct kab_policy_guest {
	u64 valid;
	u64 available_pages;
	u64 free_pages;
	u64 cache_pages;
	u64 total_pages;
	u64 committed_pages;
	u64 reported_ns;
	u64 updates;
};

/**
 * struct kab_policy_host - the host's memory, as the caller measured it
 * @total_pages:	host RAM (totalram_pages()); 0 means "not measured":
 *		the inflation of an event then follows its level alone.
 * @available_pages:	memory the host can allocate without swapping
 *		(si_mem_available()).
 *
 * Both in 4 KiB pages. The module measures them for global host pressure;
 * pressure of one memcg or one VM, and injected pressure, carry none.
 */
struct kab_policy_host {
	u64 total_pages;
	u64 available_pages;
};

/**
 * struct kab_policy_vm - the policy's view of one VM
 *
 * The caller fills the limits before kab_policy_vm_init(), and @guest
 * before any later call; it never writes the rest: the policy owns every
 * other field.
 */
struct kab_policy_vm {
	/* Limits, set by the caller at registration. */
	u64 total_pages;
	u64 floor_pages;
	u64 ceiling_pages;
	u32 weight;

	/*
	 * Input, refreshed by the caller before each call: the guest's last
	 * figures (reported_ns KAB_POLICY_NEVER and valid 0 until then).
	 * The policy reads each report once (need, spare) the first time a
	 * call sees it.
	 */
	struct kab_policy_guest guest;

	/* Decision, owned by the policy. */
	u64 target_pages;
	u64 seq;		/* +1 on every target change */
	u32 reason;		/* enum kab_reason of the last change */
	u32 last_host_level;
	u32 last_guest_level;

	/* Feedback from the VMM. */
	u64 actual_pages;
	u64 actual_ns;		/* when actual_pages was last reported */

	/* Policy state; times are KAB_POLICY_NEVER until the first event. */
	u64 last_change_ns;
	u64 last_host_ns;	/* last host pressure event for this VM */
	u64 last_guest_ns;	/* last accepted guest pressure event */
	u64 last_inflate_ns;
	u64 last_deflate_ns;	/* last deflation for guest pressure */
	u32 last_deflate_level;	/* guest level of that deflation */
	u32 backoff_shift;	/* consecutive stalls, doubles the backoff */
	u64 mark_pages;		/* target at which the guest hurt, 0 = none */
	u64 mark_ns;
	u64 progress_ns;	/* last time actual moved toward the target */
	u64 backoff_until_ns;	/* no inflation before, after a stall */
	u64 hint_tokens;	/* guest hints the VM may still send now */
	u64 hint_ns;		/* last refill of hint_tokens */
	u64 host_score;		/* scratch of kab_policy_host_event() */
	u64 host_taken;		/* scratch: this event's inflation */
	u64 host_limit[2];	/* scratch: limits of the sighted rounds */
	u32 host_flags;		/* scratch: KAB_HOST_* of policy.c */
	bool uncooperative;	/* stalled, and has not followed since */

	/* What the guest needs, from its figures. */
	u64 wmark_pages;	/* the guest's high watermark, from its size */
	u64 need_pages;		/* recent peak of used or committed memory */
	u64 used_pages;		/* used memory at the last report read */
	u64 rise_pages;		/* how much it rose since the one before */
	u64 grow_ns;		/* last report that rose by grow_percent */
	u64 stats_ns;		/* reported_ns of the figures last read */
	u64 stats_balloon_pages; /* the balloon when they were read */
	u64 reserve_ns;		/* last report checked against the reserve */

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
 * the initial target, total - ceiling, with seq 1 and KAB_REASON_INITIAL,
 * and every other field the policy owns.
 */
int kab_policy_vm_init(const struct kab_policy_params *p,
		       struct kab_policy_vm *vm, u64 now_ns);

/*
 * The guest was reset (reboot, kexec, its driver reset the device): it owns
 * all its memory (actual 0) and everything the policy learned of it is
 * forgotten, as at registration. The target, the limits and the counters
 * stay; the VMM applies the target again when the driver is back.
 */
void kab_policy_reset(const struct kab_policy_params *p,
		      struct kab_policy_vm *vm, u64 now_ns);

/*
 * The guest arrives with a balloon of @actual_pages and a target of
 * @target_pages (incoming migration, loadvm; the caller checked both
 * against the limits). Forgets the guest as kab_policy_reset() does, then
 * adopts both. Returns true when vm->target_pages changed (a new seq,
 * KAB_REASON_RESTORE).
 */
bool kab_policy_restore(const struct kab_policy_params *p,
			struct kab_policy_vm *vm, u64 target_pages,
			u64 actual_pages, u64 now_ns);

/*
 * What the guest keeps available above its need: the larger of its high
 * watermark and reserve_percent of its size. For sysfs reserve_pages.
 */
u64 kab_policy_reserve(const struct kab_policy_params *p,
		       const struct kab_policy_vm *vm);

/*
 * The largest balloon the guest's last figures allow (both rounds of what
 * it can spare: free memory above its watermark, then page cache above
 * cache_keep_percent, never past total - (need + reserve)), within the
 * VM's limits; KAB_POLICY_UNKNOWN before the first figures with available
 * memory were read. Host inflation of a sighted VM stops there. For
 * sysfs spare_limit_pages; it decides nothing.
 */
u64 kab_policy_spare_limit(const struct kab_policy_params *p,
			   const struct kab_policy_vm *vm);

/*
 * Age in milliseconds of the guest figures at @now_ns; U64_MAX when the
 * guest never reported any, 0 when @now_ns is before the report.
 */
u64 kab_policy_guest_age_ms(const struct kab_policy_vm *vm, u64 now_ns);

/*
 * The guest signalled @count pressure events at @level (KAB_LEVEL_LOW..
 * KAB_LEVEL_CRITICAL; anything else is ignored). Each event counts against
 * the VM's hint rate limit, those over it are added to vm->guest_dropped
 * and ignored; the accepted ones make one decision together. Returns true
 * when vm->target_pages changed.
 */
bool kab_policy_guest_event(const struct kab_policy_params *p,
			    struct kab_policy_vm *vm, unsigned int level,
			    u64 count, u64 now_ns);

/*
 * New figures from the guest are in vm->guest (the caller copied them, as
 * before every call). Updates the guest's need and, when its available
 * memory fell below its reserve, deflates by the gap at once. Returns true
 * when vm->target_pages changed.
 */
bool kab_policy_guest_stats(const struct kab_policy_params *p,
			    struct kab_policy_vm *vm, u64 now_ns);

/*
 * The host is under pressure at @level for the @nr VMs in @vms (all VMs for
 * global pressure, or the VMs whose memcg is under pressure). @host, when
 * not NULL and measured, sizes the inflation by the host's deficit; else
 * the level does. The inflation is split among the VMs by weight and
 * spare memory (see policy.c); the cost is linear in @nr, with at most
 * three 64x64/64 divisions per VM that may inflate.
 * Returns how many targets changed.
 */
unsigned int kab_policy_host_event(const struct kab_policy_params *p,
				   const struct kab_policy_host *host,
				   struct kab_policy_vm **vms, unsigned int nr,
				   unsigned int level, u64 now_ns);

/*
 * The VMM reports the balloon's actual size (already checked <= total). A
 * guest that reaches its target is no longer uncooperative.
 */
void kab_policy_actual(const struct kab_policy_params *p,
		       struct kab_policy_vm *vm, u64 actual_pages, u64 now_ns);

/*
 * The host's headroom, once per tick with the host's figures: when its
 * available memory is below host_headroom_percent of its RAM, take the gap
 * (less the inflations in flight) from the sighted VMs' free memory above
 * need + reserve, paced and split as for low host pressure, before reclaim
 * starts. Page cache and blind VMs are left to host pressure. Returns how
 * many targets changed. kab_policy_headroom_due() is its first test alone:
 * is the host under its headroom at all.
 */
bool kab_policy_headroom_due(const struct kab_policy_params *p,
			     const struct kab_policy_host *host);
unsigned int kab_policy_headroom(const struct kab_policy_params *p,
				 const struct kab_policy_host *host,
				 struct kab_policy_vm **vms, unsigned int nr,
				 u64 now_ns);

/*
 * Periodic evaluation (stall detection, relaxing after host pressure ends),
 * meant to run about once a second. @host as for kab_policy_host_event():
 * a host below its available or its headroom target does not relax. Returns true when
 * vm->target_pages changed.
 */
bool kab_policy_tick(const struct kab_policy_params *p,
		     const struct kab_policy_host *host,
		     struct kab_policy_vm *vm, u64 now_ns);

#endif /* _KAB_POLICY_H */
