// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_autoballoon policy: turns host and guest pressure into balloon targets.
 *
 * This file includes nothing but policy.h, so that it builds unchanged in
 * the kernel and in userspace (tools/testing/autoballoon/kab_shim.h), where
 * the unit tests and the simulator run it.
 *
 * Inputs are pressure events and figures. A host event (vmpressure or PSI,
 * global or per memcg, or injected) names a level and the VMs it concerns,
 * and for global pressure the host's RAM and available memory; a guest
 * event is a doorbell ring at a level; a guest report carries the guest's
 * available, free, cache, total and committed memory. Each event sets the
 * VM's current host or guest level, which stays current for host_hold_ms
 * or guest_hold_ms. Only a host event inflates; a guest event, a report
 * under the guest's reserve, or the host staying quiet deflates, so there
 * is no remembered target to chase: after a deflation the balloon grows
 * again only if the host is pressured again.
 *
 * The rule table: what happens, given the host level and the guest level.
 * A host event reads the row of its own level; a guest event reads the
 * column of its own level in the row of the current host level.
 *
 *   host \ guest   none          low            medium         critical
 *   none           relax (1)     deflate: low   deflate: med   deflate: crit
 *   low            inflate       inflate (2)    deflate: low   deflate: crit
 *   medium         inflate       inflate (2)    hold           deflate: crit
 *   critical       inflate       inflate (2)    hold           hold
 *
 * "deflate: X" lowers the target by guest_step_pages_X. "hold" moves
 * nothing, except that an inflation still in flight stops: the target
 * falls back to the balloon's actual size. (1) once no host event came
 * for relax_after_ms. (2) with guest_low_share_percent of the share the VM
 * would get at guest level none.
 *
 * So a guest under critical pressure always gets memory back unless the
 * host itself is critical, a guest that only drops page cache (low) never
 * stops a pressured host from reclaiming, and equal trouble on both sides
 * (medium/medium, critical/critical) holds the balloon where it is.
 *
 * The table says whether a VM may inflate; its figures say how much:
 * - Need. The recent peak of used memory (total - balloon - available; a
 *   balloon the VMM never reported counts as used), or of committed
 *   memory where the guest reports it and it is larger: up at once, down
 *   toward the current use with the time constant need_decay_ms.
 * - Reserve. The larger of the guest's high watermark (Linux's formula,
 *   from the VM's size) and reserve_percent of its size.
 * - Limit. Never past total - (need + reserve), nor past the balloon at
 *   the report plus the free memory above the high watermark and the page
 *   cache above cache_keep_percent: never anonymous memory, since the
 *   host does not know whether the guest can swap.
 * - Deflation under the reserve. A report with available memory under
 *   the reserve lowers the target at once by the gap, from the balloon's
 *   actual size, with no doorbell needed (a stock driver's figures are
 *   enough), and blocks inflation as critical guest pressure does.
 * - Growing. A report whose used memory rose by grow_percent of the size
 *   or more since the one before makes the guest growing for grow_hold_ms,
 *   at any host level: it keeps its free memory (its growth takes that
 *   first, and taking it now would only make it wait for a deflation) and
 *   another rise like its last above need + reserve; only page cache
 *   above its keep may go. Its reserve for the deflation above counts
 *   that rise once more too.
 * - Sighted and blind. A VM is sighted when its figures (with available
 *   memory) are younger than stats_stale_ms and its VMM has reported the
 *   balloon's size; else blind. A blind VM never gets more of a host
 *   event than the least any sighted VM of the event got (nothing when
 *   one got nothing), and alone at most blind_step_percent of its capped
 *   step. Figures that went stale still bound it (the limits above,
 *   growing included): they are the best the policy knows of the guest,
 *   and a guest too busy to report is no better off for being squeezed.
 * - Trust. A VM whose VMM never reported the balloon's size gets one
 *   inflation of host pressure, with its limit one capped step above its
 *   target so that the size it registered (its word alone) weighs no
 *   more than that step, and no share after it until the VMM reports.
 *
 * On top of that:
 * - Spreading. With the host's figures, a host event reclaims the host's
 *   deficit: how far its available memory is below host_available_percent
 *   of its RAM, less the inflations in flight; no deficit, no inflation.
 * - Headroom. Host pressure comes when reclaim starts, and a balloon moves
 *   a few MiB/s under load: too late and too slowly to catch guests that
 *   grow faster. So each tick, a host whose available memory is below
 *   host_headroom_percent of its RAM takes that gap (less the inflations
 *   in flight) from the sighted VMs' free memory above need + reserve
 *   (+ one rise for a growing guest, which keeps its free memory only
 *   against host pressure), as for low host pressure: the same
 *   eligibility, pacing, caps and weight * room split, one round. Page
 *   cache and blind VMs wait for real host pressure.
 *   Without them (memcg, per-VM and injected pressure) each VM that may
 *   inflate brings host_step_pages of the event's level (reduced by
 *   guest_low_share_percent when its guest is at low pressure) into the
 *   pool. The pool is split in three rounds (sighted VMs' free memory,
 *   their page cache, the blind VMs), each in proportion to
 *   weight * room, room being how far the VM is from the round's limit
 *   (at most its floor, or its pressure mark, below), reduced for a guest
 *   at low. A VM's target changes once per event, by the sum.
 * - Caps. One inflation moves at most max_step_pages and max_step_percent
 *   of the VM's size; a share smaller than min_change_pages is not worth
 *   a change unless it is the VM's whole (capped) step or reaches a limit.
 *   Deflation, the safe direction, is limited only by its step. A VM whose
 *   balloon is more than one capped step behind its target is not inflated
 *   until it catches up.
 * - Pacing. A VM is inflated at most once per cooldown_ms (host critical
 *   ignores this, and is otherwise bound like any level: no floor).
 * - Hysteresis. A guest at medium or critical pressure leaves a mark: the
 *   balloon size that hurt. For mark_ms after that, inflation stops
 *   hysteresis_percent of the VM's size below the mark.
 * - Blocking, split as ChromeOS splits it: short after a high-priority
 *   resize, long after a low-priority one, never against high priority.
 *   Low and medium guest pressure do not deflate within
 *   block_after_inflate_ms of an inflation. Host pressure does not
 *   inflate within block_after_critical_ms of a deflation for critical
 *   guest pressure or under the reserve, nor within block_after_deflate_ms
 *   of one for low or medium guest pressure; host critical ignores both.
 * - Rate limit. A guest may send guest_hint_burst hints at once, then one
 *   per guest_hint_interval_ms; the rest are counted in guest_dropped and
 *   ignored. A call with several coalesced hints makes one decision.
 * - Stalls. A balloon that has not grown toward a larger target for
 *   stall_ms, in a VM whose VMM reports the balloon's size, is a stall:
 *   the target falls back to the actual size, the VM is marked
 *   uncooperative and is not inflated for stall_ms, doubling with each
 *   stall in a row up to stall_backoff_max_ms. Reaching a target clears
 *   the uncooperative mark and the backoff.
 * - Relaxing. When neither a host event nor an inflation came for
 *   relax_after_ms, each tick gives back relax_step_percent of the VM's
 *   size, down to total - ceiling, unless the host's available memory is
 *   below its target or its headroom.
 *
 * All arithmetic is on u64. The divisions (the rate limit, the need's
 * fall, the weighted shares: at most three per VM of a host event) go
 * through the kernel's math64 helpers, which the shim provides outside
 * the kernel, as it provides int_sqrt64().
 */
#include "policy.h"

#define KAB_NS_PER_MS		1000000ULL
#define KAB_MAX_MS		(24ULL * 3600 * 1000)
#define KAB_MAX_BACKOFF_SHIFT	16
/* Room is weighed in 1 MiB units so that sum(weight * room) fits in u64. */
#define KAB_ROOM_SHIFT		8

#define KAB_TUNABLE(_name, _field, _min, _max, _def, _unit, _help)	\
	{								\
		.name	= _name,					\
		.offset	= offsetof(struct kab_policy_params, _field),	\
		.min	= _min,						\
		.max	= _max,						\
		.def	= _def,						\
		.unit	= _unit,					\
		.help	= _help,					\
	}

/* Every _ms tunable turns its behaviour off when set to 0. */
const struct kab_policy_tunable kab_policy_tunables[] = {
	KAB_TUNABLE("host_step_pages_low", host_step_pages[0],
		    0, KAB_MAX_PAGES, 16384, "pages",
		    "inflation per VM for a host pressure event at level low"),
	KAB_TUNABLE("host_step_pages_medium", host_step_pages[1],
		    0, KAB_MAX_PAGES, 65536, "pages",
		    "inflation per VM for a host pressure event at level medium"),
	KAB_TUNABLE("host_step_pages_critical", host_step_pages[2],
		    0, KAB_MAX_PAGES, 262144, "pages",
		    "inflation per VM for a host pressure event at level critical"),
	KAB_TUNABLE("guest_step_pages_low", guest_step_pages[0],
		    0, KAB_MAX_PAGES, 4096, "pages",
		    "deflation for a guest pressure event at level low"),
	KAB_TUNABLE("guest_step_pages_medium", guest_step_pages[1],
		    0, KAB_MAX_PAGES, 32768, "pages",
		    "deflation for a guest pressure event at level medium"),
	KAB_TUNABLE("guest_step_pages_critical", guest_step_pages[2],
		    0, KAB_MAX_PAGES, 131072, "pages",
		    "deflation for a guest pressure event at level critical"),
	KAB_TUNABLE("cooldown_ms", cooldown_ms,
		    0, KAB_MAX_MS, 1000, "ms",
		    "a VM is inflated at most once per this time"),
	KAB_TUNABLE("max_step_pages", max_step_pages,
		    1, KAB_MAX_PAGES, 262144, "pages",
		    "largest single inflation of one VM"),
	KAB_TUNABLE("max_step_percent", max_step_percent,
		    1, 100, 5, "percent",
		    "largest single inflation of one VM, in percent of its size"),
	KAB_TUNABLE("min_change_pages", min_change_pages,
		    0, KAB_MAX_PAGES, 256, "pages",
		    "smaller inflation shares are skipped, unless a whole step or to a limit"),
	KAB_TUNABLE("host_hold_ms", host_hold_ms,
		    0, KAB_MAX_MS, 30000, "ms",
		    "how long a host pressure event stays the current host level"),
	KAB_TUNABLE("guest_hold_ms", guest_hold_ms,
		    0, KAB_MAX_MS, 5000, "ms",
		    "how long a guest pressure event stays the current guest level"),
	KAB_TUNABLE("guest_low_share_percent", guest_low_share_percent,
		    0, 100, 50, "percent",
		    "inflation share of a VM whose guest is at low pressure"),
	KAB_TUNABLE("hysteresis_percent", hysteresis_percent,
		    0, 100, 2, "percent",
		    "inflation stops this far (percent of size) below the pressure mark"),
	KAB_TUNABLE("mark_ms", mark_ms,
		    0, KAB_MAX_MS, 60000, "ms",
		    "lifetime of the mark left by medium/critical guest pressure"),
	KAB_TUNABLE("block_after_inflate_ms", block_after_inflate_ms,
		    0, KAB_MAX_MS, 5000, "ms",
		    "no deflation for low/medium guest pressure after an inflation"),
	KAB_TUNABLE("block_after_deflate_ms", block_after_deflate_ms,
		    0, KAB_MAX_MS, 100000, "ms",
		    "no inflation after a deflation for low/medium guest pressure"),
	KAB_TUNABLE("block_after_critical_ms", block_after_critical_ms,
		    0, KAB_MAX_MS, 10000, "ms",
		    "no inflation after a deflation for critical guest pressure or the reserve"),
	KAB_TUNABLE("guest_hint_interval_ms", guest_hint_interval_ms,
		    0, KAB_MAX_MS, 100, "ms",
		    "a VM earns one guest hint per this time"),
	KAB_TUNABLE("guest_hint_burst", guest_hint_burst,
		    1, 1000000, 10, "hints",
		    "guest hints a VM may send at once"),
	KAB_TUNABLE("stall_ms", stall_ms,
		    0, KAB_MAX_MS, 30000, "ms",
		    "a balloon not growing toward its target this long has stalled"),
	KAB_TUNABLE("stall_backoff_max_ms", stall_backoff_max_ms,
		    0, KAB_MAX_MS, 600000, "ms",
		    "longest pause in inflation after repeated stalls"),
	KAB_TUNABLE("relax_after_ms", relax_after_ms,
		    0, KAB_MAX_MS, 120000, "ms",
		    "give memory back once the host was quiet this long"),
	KAB_TUNABLE("relax_step_percent", relax_step_percent,
		    1, 100, 1, "percent",
		    "memory given back per tick when relaxing, in percent of size"),
	KAB_TUNABLE("need_decay_ms", need_decay_ms,
		    0, KAB_MAX_MS, 60000, "ms",
		    "time constant of the fall of a guest's need to its current use"),
	KAB_TUNABLE("reserve_percent", reserve_percent,
		    0, 100, 5, "percent",
		    "memory left available to a guest above its need, in percent of size"),
	KAB_TUNABLE("cache_keep_percent", cache_keep_percent,
		    0, 100, 5, "percent",
		    "page cache never taken from a guest, in percent of size"),
	KAB_TUNABLE("stats_stale_ms", stats_stale_ms,
		    0, KAB_MAX_MS, 5000, "ms",
		    "a guest's figures older than this no longer count"),
	KAB_TUNABLE("grow_percent", grow_percent,
		    0, 100, 1, "percent",
		    "rise of a guest's use between reports that makes it growing"),
	KAB_TUNABLE("grow_hold_ms", grow_hold_ms,
		    0, KAB_MAX_MS, 2000, "ms",
		    "no host inflation of a guest this long after its use rose"),
	KAB_TUNABLE("host_available_percent", host_available_percent,
		    0, 100, 10, "percent",
		    "host memory that should stay available, in percent of host RAM"),
	KAB_TUNABLE("host_headroom_percent", host_headroom_percent,
		    0, 100, 20, "percent",
		    "below this much available host memory, guests' free memory is taken"),
	KAB_TUNABLE("blind_step_percent", blind_step_percent,
		    0, 100, 50, "percent",
		    "largest inflation of a VM without figures, in percent of its capped step"),
};

const unsigned int kab_policy_nr_tunables = ARRAY_SIZE(kab_policy_tunables);

/* What a host level and a guest level decide; see the table above. */
enum kab_inflate_rule {
	KAB_INFLATE_NO,
	KAB_INFLATE_FULL,
	KAB_INFLATE_REDUCED,
};

struct kab_rule {
	u8 inflate;		/* enum kab_inflate_rule, on a host event */
	u8 deflate_level;	/* guest step used on a guest event, 0 = none */
};

static const struct kab_rule kab_rules[KAB_NR_LEVELS + 1][KAB_NR_LEVELS + 1] = {
	[KAB_LEVEL_NONE] = {
		[KAB_LEVEL_LOW]		= { KAB_INFLATE_NO, KAB_LEVEL_LOW },
		[KAB_LEVEL_MEDIUM]	= { KAB_INFLATE_NO, KAB_LEVEL_MEDIUM },
		[KAB_LEVEL_CRITICAL]	= { KAB_INFLATE_NO, KAB_LEVEL_CRITICAL },
	},
	[KAB_LEVEL_LOW] = {
		[KAB_LEVEL_NONE]	= { KAB_INFLATE_FULL, 0 },
		[KAB_LEVEL_LOW]		= { KAB_INFLATE_REDUCED, 0 },
		[KAB_LEVEL_MEDIUM]	= { KAB_INFLATE_NO, KAB_LEVEL_LOW },
		[KAB_LEVEL_CRITICAL]	= { KAB_INFLATE_NO, KAB_LEVEL_CRITICAL },
	},
	[KAB_LEVEL_MEDIUM] = {
		[KAB_LEVEL_NONE]	= { KAB_INFLATE_FULL, 0 },
		[KAB_LEVEL_LOW]		= { KAB_INFLATE_REDUCED, 0 },
		[KAB_LEVEL_CRITICAL]	= { KAB_INFLATE_NO, KAB_LEVEL_CRITICAL },
	},
	[KAB_LEVEL_CRITICAL] = {
		[KAB_LEVEL_NONE]	= { KAB_INFLATE_FULL, 0 },
		[KAB_LEVEL_LOW]		= { KAB_INFLATE_REDUCED, 0 },
	},
};

void kab_policy_defaults(struct kab_policy_params *p)
{
	unsigned int i;

	for (i = 0; i < kab_policy_nr_tunables; i++) {
		const struct kab_policy_tunable *t = &kab_policy_tunables[i];

		*(u64 *)((char *)p + t->offset) = t->def;
	}
}

/* Smallest and largest balloon the limits allow. */
static u64 kab_min_target(const struct kab_policy_vm *vm)
{
	return vm->total_pages - vm->ceiling_pages;
}

static u64 kab_max_target(const struct kab_policy_vm *vm)
{
	return vm->total_pages - vm->floor_pages;
}

static u64 kab_percent_of(u64 pages, u64 percent)
{
	return div64_u64(pages * percent, 100);
}

/* The largest single inflation of @vm. */
static u64 kab_max_step(const struct kab_policy_params *p,
			const struct kab_policy_vm *vm)
{
	return min_t(u64, p->max_step_pages,
		     kab_percent_of(vm->total_pages, p->max_step_percent));
}

/*
 * Is the balloon more than one step behind its target? Then the VM is not
 * pushed further until it catches up. A VMM that never reported its actual
 * size is not lagging: kab_host_eligible() gives it one inflation only.
 */
static bool kab_lagging(const struct kab_policy_params *p,
			const struct kab_policy_vm *vm)
{
	return vm->actual_ns != KAB_POLICY_NEVER &&
	       vm->target_pages > vm->actual_pages + kab_max_step(p, vm);
}

static bool kab_level_valid(unsigned int level)
{
	return level >= KAB_LEVEL_LOW && level <= KAB_LEVEL_CRITICAL;
}

/* Did @then happen less than @ms before @now? Never, when @ms is 0. */
static bool kab_recent(u64 now_ns, u64 then_ns, u64 ms)
{
	if (!ms || then_ns == KAB_POLICY_NEVER)
		return false;
	if (now_ns < then_ns)	/* a caller's clock went back: be careful */
		return true;
	return now_ns - then_ns < ms * KAB_NS_PER_MS;
}

static unsigned int kab_host_level(const struct kab_policy_params *p,
				   const struct kab_policy_vm *vm, u64 now_ns)
{
	if (!kab_recent(now_ns, vm->last_host_ns, p->host_hold_ms))
		return KAB_LEVEL_NONE;
	return vm->last_host_level;
}

static unsigned int kab_guest_level(const struct kab_policy_params *p,
				    const struct kab_policy_vm *vm, u64 now_ns)
{
	if (!kab_recent(now_ns, vm->last_guest_ns, p->guest_hold_ms))
		return KAB_LEVEL_NONE;
	return vm->last_guest_level;
}

static bool kab_set_target(struct kab_policy_vm *vm, u64 target, u32 reason,
			   u64 now_ns)
{
	if (target == vm->target_pages)
		return false;
	/* A new gap opens: the stall clock starts now, not at every push. */
	if (vm->target_pages <= vm->actual_pages)
		vm->progress_ns = now_ns;
	if (target > vm->target_pages) {
		vm->inflations++;
		vm->last_inflate_ns = now_ns;
	} else {
		vm->deflations++;
	}
	vm->target_pages = target;
	vm->seq++;
	vm->reason = reason;
	vm->last_change_ns = now_ns;
	return true;
}

/* Lower the target by up to @step, never below total - ceiling. */
static bool kab_deflate(struct kab_policy_vm *vm, u64 step, u32 reason,
			u64 now_ns)
{
	u64 lo = kab_min_target(vm);

	if (vm->target_pages <= lo || !step)
		return false;
	step = min_t(u64, step, vm->target_pages - lo);
	return kab_set_target(vm, vm->target_pages - step, reason, now_ns);
}

/*
 * Linux's high watermark for a zone of @pages: min_free_kbytes is
 * 4 * sqrt(KiB), 128 KiB to 256 MiB, and low and high sit one and two
 * max(min / 4, 0.1 % of the zone) above min (watermark_scale_factor 10).
 */
static u64 kab_wmark_high(u64 pages)
{
	u64 min = 2 * (u64)int_sqrt64(pages), gap;

	min = clamp_t(u64, min, 32, 65536);
	gap = max_t(u64, min / 4, div64_u64(pages, 1000));
	return min + 2 * gap;
}

/*
 * Everything the policy learned of the guest, as at registration: the
 * limits, the target and the counters are not the guest's to forget.
 */
static void kab_forget_guest(const struct kab_policy_params *p,
			     struct kab_policy_vm *vm, u64 now_ns)
{
	vm->last_host_level = KAB_LEVEL_NONE;
	vm->last_guest_level = KAB_LEVEL_NONE;
	vm->actual_pages = 0;
	vm->actual_ns = KAB_POLICY_NEVER;
	vm->last_change_ns = now_ns;
	vm->last_host_ns = KAB_POLICY_NEVER;
	vm->last_guest_ns = KAB_POLICY_NEVER;
	vm->last_inflate_ns = KAB_POLICY_NEVER;
	vm->last_deflate_ns = KAB_POLICY_NEVER;
	vm->last_deflate_level = KAB_LEVEL_NONE;
	vm->backoff_shift = 0;
	vm->mark_pages = 0;
	vm->mark_ns = KAB_POLICY_NEVER;
	vm->progress_ns = now_ns;
	vm->backoff_until_ns = 0;
	vm->hint_tokens = p->guest_hint_burst;
	vm->hint_ns = now_ns;
	vm->host_score = 0;
	vm->host_taken = 0;
	vm->host_flags = 0;
	vm->uncooperative = false;
	vm->need_pages = 0;
	vm->used_pages = 0;
	vm->rise_pages = 0;
	vm->grow_ns = KAB_POLICY_NEVER;
	vm->stats_ns = KAB_POLICY_NEVER;
	vm->stats_balloon_pages = 0;
	vm->reserve_ns = KAB_POLICY_NEVER;
	vm->guest = (struct kab_policy_guest){ .reported_ns = KAB_POLICY_NEVER };
}

int kab_policy_vm_init(const struct kab_policy_params *p,
		       struct kab_policy_vm *vm, u64 now_ns)
{
	if (!vm->total_pages || vm->total_pages > KAB_MAX_PAGES ||
	    !vm->floor_pages || vm->floor_pages > vm->ceiling_pages ||
	    vm->ceiling_pages > vm->total_pages ||
	    !vm->weight || vm->weight > KAB_MAX_WEIGHT)
		return -EINVAL;

	vm->target_pages = kab_min_target(vm);
	vm->seq = 1;
	vm->reason = KAB_REASON_INITIAL;
	kab_forget_guest(p, vm, now_ns);
	vm->wmark_pages = kab_wmark_high(vm->total_pages);
	vm->inflations = 0;
	vm->deflations = 0;
	vm->stalls = 0;
	vm->guest_dropped = 0;
	return 0;
}

void kab_policy_reset(const struct kab_policy_params *p,
		      struct kab_policy_vm *vm, u64 now_ns)
{
	kab_forget_guest(p, vm, now_ns);
}

bool kab_policy_restore(const struct kab_policy_params *p,
			struct kab_policy_vm *vm, u64 target_pages,
			u64 actual_pages, u64 now_ns)
{
	kab_forget_guest(p, vm, now_ns);
	vm->actual_pages = actual_pages;
	vm->actual_ns = now_ns;
	return kab_set_target(vm, target_pages, KAB_REASON_RESTORE, now_ns);
}

u64 kab_policy_guest_age_ms(const struct kab_policy_vm *vm, u64 now_ns)
{
	if (vm->guest.reported_ns == KAB_POLICY_NEVER)
		return U64_MAX;
	if (now_ns <= vm->guest.reported_ns)
		return 0;
	return div64_u64(now_ns - vm->guest.reported_ns, KAB_NS_PER_MS);
}

/* ---- what a guest can spare ---- */

/* What a guest keeps available above its need. */
u64 kab_policy_reserve(const struct kab_policy_params *p,
		       const struct kab_policy_vm *vm)
{
	return max_t(u64, vm->wmark_pages,
		     kab_percent_of(vm->total_pages, p->reserve_percent));
}

static bool kab_has(const struct kab_policy_vm *vm, u64 bit)
{
	return vm->guest.valid & bit;
}

/* Are the guest's figures there, with available memory, and recent? */
static bool kab_figures_fresh(const struct kab_policy_params *p,
			      const struct kab_policy_vm *vm, u64 now_ns)
{
	if (vm->stats_ns == KAB_POLICY_NEVER ||
	    !kab_has(vm, KAB_GUEST_STAT_AVAILABLE))
		return false;
	return !p->stats_stale_ms ||
	       kab_recent(now_ns, vm->guest.reported_ns, p->stats_stale_ms);
}

/* Has the guest ever reported figures with available memory? */
static bool kab_has_figures(const struct kab_policy_vm *vm)
{
	return vm->stats_ns != KAB_POLICY_NEVER &&
	       kab_has(vm, KAB_GUEST_STAT_AVAILABLE);
}

/*
 * Can the policy see into @vm: fresh figures, and a VMM that reports the
 * balloon's size? Only then does it know what the guest can spare.
 */
static bool kab_sighted(const struct kab_policy_params *p,
			const struct kab_policy_vm *vm, u64 now_ns)
{
	return vm->actual_ns != KAB_POLICY_NEVER &&
	       kab_figures_fresh(p, vm, now_ns);
}

/*
 * Read a new report once: used memory is total - balloon - available (a
 * VMM that never reported the balloon's size counts it as used), or the
 * committed memory when the guest reports it and it is larger. The need
 * is the recent peak of it: it follows a rise at once and falls toward a
 * lower use with the time constant need_decay_ms. A rise since the report
 * before by grow_percent of the size or more makes the guest growing: the
 * rise is kept (rise_pages, else 0) and its time (grow_ns).
 */
static void kab_read_figures(const struct kab_policy_params *p,
			     struct kab_policy_vm *vm)
{
	const struct kab_policy_guest *g = &vm->guest;
	u64 balloon, used = 0, dt_ms, fall;

	if (g->reported_ns == KAB_POLICY_NEVER || g->reported_ns == vm->stats_ns)
		return;
	balloon = vm->actual_ns == KAB_POLICY_NEVER ? 0 : vm->actual_pages;
	if (kab_has(vm, KAB_GUEST_STAT_AVAILABLE)) {
		if (vm->total_pages > balloon + g->available_pages)
			used = vm->total_pages - balloon - g->available_pages;
		if (kab_has(vm, KAB_GUEST_STAT_COMMITTED))
			used = max_t(u64, used, g->committed_pages);
		vm->rise_pages = 0;
		if (p->grow_percent && vm->stats_ns != KAB_POLICY_NEVER &&
		    g->reported_ns > vm->stats_ns &&
		    used >= vm->used_pages +
			    kab_percent_of(vm->total_pages, p->grow_percent)) {
			vm->rise_pages = used - vm->used_pages;
			vm->grow_ns = g->reported_ns;
		}
		vm->used_pages = used;
		if (used >= vm->need_pages || vm->stats_ns == KAB_POLICY_NEVER ||
		    !p->need_decay_ms || g->reported_ns < vm->stats_ns) {
			vm->need_pages = used;
		} else {
			dt_ms = div64_u64(g->reported_ns - vm->stats_ns,
					  KAB_NS_PER_MS);
			dt_ms = min_t(u64, dt_ms, p->need_decay_ms);
			fall = mul_u64_u64_div_u64(vm->need_pages - used, dt_ms,
						   p->need_decay_ms);
			vm->need_pages -= fall;
		}
	}
	vm->stats_balloon_pages = vm->actual_ns == KAB_POLICY_NEVER ?
				  vm->target_pages : vm->actual_pages;
	vm->stats_ns = g->reported_ns;
}

/* The three rounds of a host event's split, in order. */
enum kab_split_round {
	KAB_SPLIT_FREE,		/* sighted VMs: free memory above watermarks */
	KAB_SPLIT_CACHE,	/* sighted VMs: page cache above its keep */
	KAB_SPLIT_BLIND,	/* the others, capped (see below) */
};

/*
 * The largest balloons the guest's figures allow, into @limit[]: never
 * past total - (need + reserve), and no more than the balloon at the
 * report plus the free memory above the guest's high watermark
 * (limit[KAB_SPLIT_FREE]) and the page cache above cache_keep_percent
 * (limit[KAB_SPLIT_CACHE], with the free memory). Anonymous memory is
 * never counted: the policy does not know whether the guest can swap. A
 * @growing guest keeps its free memory, which its growth takes first, and
 * another rise like its last above need + reserve: only its page cache
 * may go.
 */
/*
 * How far the free and the cache round may take @vm's balloon, from its
 * figures: never past total - (need + reserve), plus one more rise when
 * @growing. A growing guest keeps its free memory too, unless @free_growing
 * (the headroom, which acts before the host is short).
 */
static void kab_figures_limits(const struct kab_policy_params *p,
			       const struct kab_policy_vm *vm, bool growing,
			       bool free_growing, u64 *limit)
{
	const struct kab_policy_guest *g = &vm->guest;
	u64 keep_cache = kab_percent_of(vm->total_pages, p->cache_keep_percent);
	u64 hold = vm->need_pages + kab_policy_reserve(p, vm), top, base;

	if (growing)
		hold += vm->rise_pages;
	limit[KAB_SPLIT_FREE] = 0;
	limit[KAB_SPLIT_CACHE] = 0;
	if (hold >= vm->total_pages)
		return;
	top = vm->total_pages - hold;
	base = vm->stats_balloon_pages;
	if ((!growing || free_growing) && kab_has(vm, KAB_GUEST_STAT_FREE) &&
	    g->free_pages > vm->wmark_pages)
		base += g->free_pages - vm->wmark_pages;
	limit[KAB_SPLIT_FREE] = min_t(u64, top, base);
	if (kab_has(vm, KAB_GUEST_STAT_CACHE) && g->cache_pages > keep_cache)
		base += g->cache_pages - keep_cache;
	limit[KAB_SPLIT_CACHE] = min_t(u64, top, base);
}

u64 kab_policy_spare_limit(const struct kab_policy_params *p,
			   const struct kab_policy_vm *vm)
{
	u64 limit[2];

	if (vm->stats_ns == KAB_POLICY_NEVER ||
	    !kab_has(vm, KAB_GUEST_STAT_AVAILABLE))
		return KAB_POLICY_UNKNOWN;
	kab_figures_limits(p, vm, false, false, limit);
	return min_t(u64, limit[KAB_SPLIT_CACHE], kab_max_target(vm));
}

/*
 * Token bucket: how many of @count hints the VM may send now. Hints earn
 * back one token per guest_hint_interval_ms, up to guest_hint_burst.
 */
static u64 kab_hints_accepted(const struct kab_policy_params *p,
			      struct kab_policy_vm *vm, u64 count, u64 now_ns)
{
	u64 interval = p->guest_hint_interval_ms * KAB_NS_PER_MS;
	u64 burst = p->guest_hint_burst;
	u64 earned, accepted;

	if (!interval) {
		/* Rate limit off: the bucket stays full for when it is on. */
		vm->hint_tokens = burst;
		vm->hint_ns = now_ns;
		return count;
	}
	/* The burst may have been lowered since the bucket was filled. */
	vm->hint_tokens = min_t(u64, vm->hint_tokens, burst);
	if (now_ns > vm->hint_ns) {
		earned = div64_u64(now_ns - vm->hint_ns, interval);
		if (earned >= burst || vm->hint_tokens + earned >= burst) {
			vm->hint_tokens = burst;
			vm->hint_ns = now_ns;
		} else if (earned) {
			vm->hint_tokens += earned;
			vm->hint_ns += earned * interval;
		}
	}
	accepted = min_t(u64, count, vm->hint_tokens);
	vm->hint_tokens -= accepted;
	return accepted;
}

/*
 * Note a deflation for the guest's need: blocking, and for medium or
 * critical trouble the pressure mark at the balloon size that hurt.
 */
static void kab_note_deflate(const struct kab_policy_params *p,
			     struct kab_policy_vm *vm, unsigned int level,
			     u64 old, u64 now_ns)
{
	vm->last_deflate_ns = now_ns;
	vm->last_deflate_level = level;
	if (level >= KAB_LEVEL_MEDIUM && p->mark_ms) {
		if (!kab_recent(now_ns, vm->mark_ns, p->mark_ms) ||
		    old < vm->mark_pages)
			vm->mark_pages = old;
		vm->mark_ns = now_ns;
	}
}

/*
 * Hold: medium or critical guest pressure that the host level does not let
 * deflate still stops an inflation in flight, at the balloon's actual size.
 */
static bool kab_hold(struct kab_policy_vm *vm, unsigned int level, u64 now_ns)
{
	if (level < KAB_LEVEL_MEDIUM || vm->actual_ns == KAB_POLICY_NEVER ||
	    vm->target_pages <= vm->actual_pages)
		return false;
	return kab_set_target(vm, max_t(u64, vm->actual_pages,
					kab_min_target(vm)),
			      KAB_REASON_GUEST_PRESSURE, now_ns);
}

bool kab_policy_guest_event(const struct kab_policy_params *p,
			    struct kab_policy_vm *vm, unsigned int level,
			    u64 count, u64 now_ns)
{
	unsigned int step_level;
	u64 accepted, old;

	if (!kab_level_valid(level) || !count)
		return false;
	accepted = kab_hints_accepted(p, vm, count, now_ns);
	vm->guest_dropped += count - accepted;
	if (!accepted)
		return false;

	vm->last_guest_level = level;
	vm->last_guest_ns = now_ns;

	step_level = kab_rules[kab_host_level(p, vm, now_ns)][level].deflate_level;
	if (!step_level)
		return kab_hold(vm, level, now_ns);
	if (level != KAB_LEVEL_CRITICAL &&
	    kab_recent(now_ns, vm->last_inflate_ns, p->block_after_inflate_ms))
		return false;

	old = vm->target_pages;
	if (!kab_deflate(vm, p->guest_step_pages[step_level - 1],
			 KAB_REASON_GUEST_PRESSURE, now_ns))
		return false;

	kab_note_deflate(p, vm, level, old, now_ns);
	return true;
}

bool kab_policy_guest_stats(const struct kab_policy_params *p,
			    struct kab_policy_vm *vm, u64 now_ns)
{
	u64 reserve, gap, base, lo, target, old;

	/*
	 * Another decision may have read these figures first (the module
	 * copies them before every call): the reserve is checked once per
	 * report all the same.
	 */
	kab_read_figures(p, vm);
	if (vm->reserve_ns == vm->stats_ns ||
	    !kab_figures_fresh(p, vm, now_ns))
		return false;
	vm->reserve_ns = vm->stats_ns;
	/*
	 * A guest whose use rose since its last report may rise as much
	 * again before the next one: it is under its reserve already when
	 * its available memory is under reserve + rise.
	 */
	reserve = kab_policy_reserve(p, vm) + vm->rise_pages;
	if (vm->guest.available_pages >= reserve)
		return false;

	/*
	 * Under its reserve: give the gap back now, from the balloon the
	 * guest actually has, so that an inflation in flight stops too.
	 * This is high-priority trouble, as critical guest pressure is.
	 */
	gap = reserve - vm->guest.available_pages;
	base = min_t(u64, vm->target_pages, vm->stats_balloon_pages);
	lo = kab_min_target(vm);
	target = base > lo + gap ? base - gap : lo;
	old = vm->target_pages;
	if (target >= old ||
	    !kab_set_target(vm, target, KAB_REASON_GUEST_PRESSURE, now_ns))
		return false;
	kab_note_deflate(p, vm, KAB_LEVEL_CRITICAL, old, now_ns);
	return true;
}

/*
 * The largest target inflation may reach: total - floor, and while the
 * guest's pressure mark lasts, hysteresis_percent of the size below it.
 */
static u64 kab_inflate_limit(const struct kab_policy_params *p,
			     const struct kab_policy_vm *vm, u64 now_ns)
{
	u64 hi = kab_max_target(vm), gap;

	/*
	 * A VMM that never reported the balloon's size is trusted with one
	 * capped step, so that its registered size, which is its word
	 * alone, cannot weigh more in the split than that step.
	 */
	if (vm->actual_ns == KAB_POLICY_NEVER)
		hi = min_t(u64, hi, vm->target_pages + kab_max_step(p, vm));

	if (!vm->mark_pages || !kab_recent(now_ns, vm->mark_ns, p->mark_ms))
		return hi;
	gap = kab_percent_of(vm->total_pages, p->hysteresis_percent);
	if (vm->mark_pages <= gap)
		return 0;
	return min_t(u64, hi, vm->mark_pages - gap);
}

/* host_flags: what kab_host_eligible() found for the current event. */
#define KAB_HOST_ELIGIBLE	0x1	/* the rules let it inflate */
#define KAB_HOST_REDUCED	0x2	/* its guest is at low pressure */
#define KAB_HOST_SIGHTED	0x4	/* its figures say what it can spare */

/*
 * May @vm inflate now, for host pressure at @level? The rule table, then
 * pacing, blocking, backoff and lag. Host critical ignores pacing and
 * blocking: what the guest can spare still bounds it. Returns
 * KAB_HOST_* flags; KAB_HOST_SIGHTED is set whether or not it may.
 */
static u32 kab_host_eligible(const struct kab_policy_params *p,
			     const struct kab_policy_vm *vm, unsigned int level,
			     u64 now_ns)
{
	unsigned int guest = kab_guest_level(p, vm, now_ns);
	u8 rule = kab_rules[level][guest].inflate;
	bool critical = level == KAB_LEVEL_CRITICAL;
	u32 sighted = kab_sighted(p, vm, now_ns) ? KAB_HOST_SIGHTED : 0;
	u64 block;

	if (rule == KAB_INFLATE_NO)
		return sighted;
	/*
	 * A VMM that never reported the balloon's size gets one inflation,
	 * the one that makes the balloon move (and an honest VMM report
	 * it), and no share of host pressure after that until it reports.
	 */
	if (vm->actual_ns == KAB_POLICY_NEVER && vm->inflations)
		return sighted;
	if (critical)
		goto backoff;
	if (kab_recent(now_ns, vm->last_inflate_ns, p->cooldown_ms))
		return sighted;
	block = vm->last_deflate_level == KAB_LEVEL_CRITICAL ?
		p->block_after_critical_ms : p->block_after_deflate_ms;
	if (kab_recent(now_ns, vm->last_deflate_ns, block))
		return sighted;
backoff:
	if (now_ns < vm->backoff_until_ns || kab_lagging(p, vm))
		return sighted;
	return sighted | KAB_HOST_ELIGIBLE |
	       (rule == KAB_INFLATE_REDUCED ? KAB_HOST_REDUCED : 0);
}

/*
 * How far each round may take @vm's balloon, into vm->host_limit[].
 * Figures that went stale still bound a blind VM: the blind round's limit
 * is that of the cache round for any VM that ever reported, of no round
 * for the others. Returns the largest.
 */
static u64 kab_round_limits(const struct kab_policy_params *p,
			    struct kab_policy_vm *vm, bool headroom,
			    u64 now_ns)
{
	u64 limit = kab_inflate_limit(p, vm, now_ns);

	if (!kab_has_figures(vm)) {
		vm->host_limit[KAB_SPLIT_FREE] = limit;
		vm->host_limit[KAB_SPLIT_CACHE] = limit;
		return limit;
	}
	kab_figures_limits(p, vm,
			   kab_recent(now_ns, vm->grow_ns, p->grow_hold_ms),
			   headroom, vm->host_limit);
	vm->host_limit[KAB_SPLIT_FREE] =
		min_t(u64, limit, vm->host_limit[KAB_SPLIT_FREE]);
	vm->host_limit[KAB_SPLIT_CACHE] =
		min_t(u64, limit, vm->host_limit[KAB_SPLIT_CACHE]);
	return vm->host_limit[KAB_SPLIT_CACHE];
}

static u64 kab_round_limit(const struct kab_policy_vm *vm,
			   enum kab_split_round round)
{
	if (round == KAB_SPLIT_BLIND)
		return vm->host_limit[KAB_SPLIT_CACHE];
	return vm->host_limit[round];
}

/*
 * One round: split what is left of @pool among the VMs of the round in
 * proportion to weight * room (room in 1 MiB units, reduced for a guest
 * at low pressure), each at most its @cap (the capped step of this
 * event, less what earlier rounds gave it; for a blind VM
 * blind_step_percent of that step and at most @blind_cap). A share under
 * min_change_pages is not worth a change, unless it is the VM's whole
 * step (min(@level_step, cap), for a small VM) or reaches the limit.
 */
static void kab_split(const struct kab_policy_params *p,
		      struct kab_policy_vm **vms, unsigned int nr,
		      enum kab_split_round round, u64 *pool, u64 level_step,
		      u64 blind_cap)
{
	bool blind = round == KAB_SPLIT_BLIND;
	u64 total_score = 0, left = *pool, share, cap, room, step, at;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		struct kab_policy_vm *vm = vms[i];
		u64 limit, score;

		vm->host_score = 0;
		if (!(vm->host_flags & KAB_HOST_ELIGIBLE) ||
		    !(vm->host_flags & KAB_HOST_SIGHTED) != blind)
			continue;
		at = vm->target_pages + vm->host_taken;
		limit = kab_round_limit(vm, round);
		if (at >= limit)
			continue;
		score = (u64)vm->weight *
			((limit - at + (1 << KAB_ROOM_SHIFT) - 1) >>
			 KAB_ROOM_SHIFT);
		if (vm->host_flags & KAB_HOST_REDUCED)
			score = kab_percent_of(score, p->guest_low_share_percent);
		vm->host_score = score;
		total_score += score;
	}
	if (!total_score)
		return;

	for (i = 0; i < nr; i++) {
		struct kab_policy_vm *vm = vms[i];

		if (!vm->host_score)
			continue;
		at = vm->target_pages + vm->host_taken;
		room = kab_round_limit(vm, round) - at;
		cap = kab_max_step(p, vm);
		if (blind)
			cap = min_t(u64, blind_cap,
				    kab_percent_of(cap, p->blind_step_percent));
		if (cap <= vm->host_taken)
			continue;
		cap -= vm->host_taken;
		share = mul_u64_u64_div_u64(left, vm->host_score, total_score);
		step = min_t(u64, share, cap);
		if (step >= room)
			step = room;
		else if (step < p->min_change_pages &&
			 step < min_t(u64, level_step, cap))
			continue;
		step = min_t(u64, step, *pool);
		vm->host_taken += step;
		*pool -= step;
	}
}

/*
 * The host's deficit: how far its available memory is below @percent of
 * its RAM, less the inflations still in flight in @vms (their memory is
 * on its way back).
 */
static u64 kab_host_deficit(const struct kab_policy_host *host,
			    u64 percent, struct kab_policy_vm **vms,
			    unsigned int nr)
{
	u64 want = kab_percent_of(host->total_pages, percent);
	u64 deficit, flight = 0;
	unsigned int i;

	if (host->available_pages >= want)
		return 0;
	deficit = want - host->available_pages;
	for (i = 0; i < nr; i++)
		if (vms[i]->actual_ns != KAB_POLICY_NEVER &&
		    vms[i]->target_pages > vms[i]->actual_pages)
			flight += vms[i]->target_pages - vms[i]->actual_pages;
	return deficit > flight ? deficit - flight : 0;
}

static bool kab_host_measured(const struct kab_policy_host *host)
{
	return host && host->total_pages;
}

/* Raise each VM's target by what the split gave it; how many changed. */
static unsigned int kab_apply_taken(struct kab_policy_vm **vms,
				    unsigned int nr, u32 reason, u64 now_ns)
{
	unsigned int i, changed = 0;

	for (i = 0; i < nr; i++)
		if (vms[i]->host_taken)
			changed += kab_set_target(vms[i], vms[i]->target_pages +
						  vms[i]->host_taken, reason,
						  now_ns);
	return changed;
}

bool kab_policy_headroom_due(const struct kab_policy_params *p,
			     const struct kab_policy_host *host)
{
	return p->host_headroom_percent && kab_host_measured(host) &&
	       host->available_pages <
	       kab_percent_of(host->total_pages, p->host_headroom_percent);
}

unsigned int kab_policy_host_event(const struct kab_policy_params *p,
				   const struct kab_policy_host *host,
				   struct kab_policy_vm **vms, unsigned int nr,
				   unsigned int level, u64 now_ns)
{
	u64 pool = 0, step, blind_cap = U64_MAX;
	unsigned int i, nr_sighted = 0, nr_eligible = 0;

	if (!kab_level_valid(level))
		return 0;

	/*
	 * Without host figures each VM that may inflate brings its step (or
	 * its reduced step) into the pool; with them the pool is the
	 * host's deficit.
	 */
	step = p->host_step_pages[level - 1];
	for (i = 0; i < nr; i++) {
		struct kab_policy_vm *vm = vms[i];

		vm->last_host_level = level;
		vm->last_host_ns = now_ns;
		vm->host_taken = 0;
		kab_read_figures(p, vm);
		vm->host_flags = kab_host_eligible(p, vm, level, now_ns);
		if (!(vm->host_flags & KAB_HOST_ELIGIBLE))
			continue;
		if (vm->target_pages >=
		    kab_round_limits(p, vm, false, now_ns)) {
			vm->host_flags &= ~KAB_HOST_ELIGIBLE;
			continue;
		}
		nr_eligible++;
		nr_sighted += !!(vm->host_flags & KAB_HOST_SIGHTED);
		if (vm->host_flags & KAB_HOST_REDUCED)
			pool += kab_percent_of(step, p->guest_low_share_percent);
		else
			pool += step;
	}
	if (kab_host_measured(host))
		pool = kab_host_deficit(host, p->host_available_percent, vms,
					nr);
	if (!pool)
		return 0;

	if (nr_sighted) {
		kab_split(p, vms, nr, KAB_SPLIT_FREE, &pool, step, 0);
		kab_split(p, vms, nr, KAB_SPLIT_CACHE, &pool, step, 0);
	}

	/*
	 * A VM the policy cannot see into never gets more than the least
	 * that any sighted VM of the event got (nothing, when one got
	 * nothing, or could not inflate at all).
	 */
	if (nr_eligible > nr_sighted) {
		for (i = 0; i < nr; i++)
			if (vms[i]->host_flags & KAB_HOST_SIGHTED)
				blind_cap = min_t(u64, blind_cap,
						  vms[i]->host_taken);
		kab_split(p, vms, nr, KAB_SPLIT_BLIND, &pool, step, blind_cap);
	}

	return kab_apply_taken(vms, nr, KAB_REASON_HOST_PRESSURE, now_ns);
}

unsigned int kab_policy_headroom(const struct kab_policy_params *p,
				 const struct kab_policy_host *host,
				 struct kab_policy_vm **vms, unsigned int nr,
				 u64 now_ns)
{
	u64 pool, step = p->host_step_pages[KAB_LEVEL_LOW - 1];
	unsigned int i;

	if (!kab_policy_headroom_due(p, host))
		return 0;
	pool = kab_host_deficit(host, p->host_headroom_percent, vms, nr);
	if (!pool)
		return 0;

	for (i = 0; i < nr; i++) {
		struct kab_policy_vm *vm = vms[i];
		u32 flags;

		vm->host_taken = 0;
		kab_read_figures(p, vm);
		flags = kab_host_eligible(p, vm, KAB_LEVEL_LOW, now_ns);
		/*
		 * Fresh figures or nothing: a VM the policy cannot see into
		 * waits for host pressure. A VMM reports the balloon's size
		 * when it changes, so before the first inflation it has not:
		 * its figures are seen all the same, and the trust rule gives
		 * it one capped inflation until it reports.
		 */
		if (kab_figures_fresh(p, vm, now_ns))
			flags |= KAB_HOST_SIGHTED;
		else
			flags = 0;
		vm->host_flags = flags;
		if (flags)
			kab_round_limits(p, vm, true, now_ns);
	}
	kab_split(p, vms, nr, KAB_SPLIT_FREE, &pool, step, 0);

	return kab_apply_taken(vms, nr, KAB_REASON_HEADROOM, now_ns);
}

void kab_policy_actual(const struct kab_policy_params *p,
		       struct kab_policy_vm *vm, u64 actual_pages, u64 now_ns)
{
	u64 target = vm->target_pages;
	u64 old_gap, new_gap;

	old_gap = target > vm->actual_pages ? target - vm->actual_pages :
					      vm->actual_pages - target;
	new_gap = target > actual_pages ? target - actual_pages :
					  actual_pages - target;
	if (new_gap < old_gap)
		vm->progress_ns = now_ns;
	if (new_gap <= p->min_change_pages) {
		vm->uncooperative = false;
		vm->backoff_shift = 0;
		vm->progress_ns = now_ns;
	}
	vm->actual_pages = actual_pages;
	vm->actual_ns = now_ns;
}

/*
 * The balloon has not grown toward a larger target for stall_ms: stop
 * pushing. The target falls back to what the guest actually gave, and
 * inflation pauses for stall_ms << stalls-in-a-row, at most
 * stall_backoff_max_ms. A VMM that never reported the balloon's size is
 * not judged.
 */
static bool kab_check_stall(const struct kab_policy_params *p,
			    struct kab_policy_vm *vm, u64 now_ns)
{
	u64 backoff, lo = kab_min_target(vm);

	if (!p->stall_ms || vm->actual_ns == KAB_POLICY_NEVER ||
	    vm->target_pages <= vm->actual_pages + p->min_change_pages ||
	    kab_recent(now_ns, vm->progress_ns, p->stall_ms))
		return false;

	vm->stalls++;
	vm->uncooperative = true;
	backoff = p->stall_ms << vm->backoff_shift;
	backoff = min_t(u64, backoff, p->stall_backoff_max_ms);
	vm->backoff_until_ns = now_ns + backoff * KAB_NS_PER_MS;
	if (vm->backoff_shift < KAB_MAX_BACKOFF_SHIFT)
		vm->backoff_shift++;
	vm->progress_ns = now_ns;
	return kab_set_target(vm, max_t(u64, vm->actual_pages, lo),
			      KAB_REASON_STALL, now_ns);
}

bool kab_policy_tick(const struct kab_policy_params *p,
		     const struct kab_policy_host *host,
		     struct kab_policy_vm *vm, u64 now_ns)
{
	u64 step;

	if (kab_check_stall(p, vm, now_ns))
		return true;

	/*
	 * A host short of memory, or of headroom, is not quiet, whatever its
	 * events say: relaxing would give back what headroom takes.
	 */
	if (kab_host_measured(host) &&
	    host->available_pages <
	    kab_percent_of(host->total_pages,
			   max_t(u64, p->host_available_percent,
				 p->host_headroom_percent)))
		return false;
	if (!p->relax_after_ms ||
	    kab_recent(now_ns, vm->last_host_ns, p->relax_after_ms) ||
	    kab_recent(now_ns, vm->last_inflate_ns, p->relax_after_ms))
		return false;
	step = kab_percent_of(vm->total_pages, p->relax_step_percent);
	return kab_deflate(vm, max_t(u64, step, 1), KAB_REASON_RELAX, now_ns);
}
