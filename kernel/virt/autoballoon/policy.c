// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_autoballoon policy: the first, simple rules.
 *
 * Host pressure at level L inflates every VM it concerns by
 * host_step_pages[L]; a guest pressure event at level L deflates that VM by
 * guest_step_pages[L]. The target stays within [total - ceiling,
 * total - floor]. After a change a VM is left alone for cooldown_ms
 * (0 disables the cooldown). Every change bumps seq and records its reason.
 *
 * This file includes nothing but policy.h, so that it builds unchanged in
 * the kernel and in userspace (tools/testing/autoballoon/kab_shim.h).
 */
#include "policy.h"

#define KAB_NS_PER_MS		1000000ULL

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

const struct kab_policy_tunable kab_policy_tunables[] = {
	KAB_TUNABLE("host_step_pages_low", host_step_pages[0],
		    0, KAB_MAX_PAGES, 2048, "pages",
		    "inflation per host pressure event at level low"),
	KAB_TUNABLE("host_step_pages_medium", host_step_pages[1],
		    0, KAB_MAX_PAGES, 8192, "pages",
		    "inflation per host pressure event at level medium"),
	KAB_TUNABLE("host_step_pages_critical", host_step_pages[2],
		    0, KAB_MAX_PAGES, 32768, "pages",
		    "inflation per host pressure event at level critical"),
	KAB_TUNABLE("guest_step_pages_low", guest_step_pages[0],
		    0, KAB_MAX_PAGES, 2048, "pages",
		    "deflation per guest pressure event at level low"),
	KAB_TUNABLE("guest_step_pages_medium", guest_step_pages[1],
		    0, KAB_MAX_PAGES, 8192, "pages",
		    "deflation per guest pressure event at level medium"),
	KAB_TUNABLE("guest_step_pages_critical", guest_step_pages[2],
		    0, KAB_MAX_PAGES, 32768, "pages",
		    "deflation per guest pressure event at level critical"),
	KAB_TUNABLE("cooldown_ms", cooldown_ms,
		    0, 3600000, 1000, "ms",
		    "time a VM is left alone after a target change, 0 = off"),
};

const unsigned int kab_policy_nr_tunables = ARRAY_SIZE(kab_policy_tunables);

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

static bool kab_level_valid(unsigned int level)
{
	return level >= KAB_LEVEL_LOW && level <= KAB_LEVEL_CRITICAL;
}

static bool kab_cooling_down(const struct kab_policy_params *p,
			     const struct kab_policy_vm *vm, u64 now_ns)
{
	if (!p->cooldown_ms)
		return false;
	return now_ns - vm->last_change_ns < p->cooldown_ms * KAB_NS_PER_MS;
}

static bool kab_set_target(struct kab_policy_vm *vm, u64 target, u32 reason,
			   u64 now_ns)
{
	if (target == vm->target_pages)
		return false;
	if (target > vm->target_pages)
		vm->inflations++;
	else
		vm->deflations++;
	vm->target_pages = target;
	vm->seq++;
	vm->reason = reason;
	vm->last_change_ns = now_ns;
	return true;
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
	vm->last_host_level = KAB_LEVEL_NONE;
	vm->last_guest_level = KAB_LEVEL_NONE;
	vm->actual_pages = 0;
	vm->actual_ns = now_ns;
	vm->last_change_ns = 0;
	vm->inflations = 0;
	vm->deflations = 0;
	vm->stalls = 0;
	vm->guest_dropped = 0;
	return 0;
}

bool kab_policy_guest_event(const struct kab_policy_params *p,
			    struct kab_policy_vm *vm, unsigned int level,
			    u64 count, u64 now_ns)
{
	u64 step, room;

	if (!kab_level_valid(level) || !count)
		return false;
	vm->last_guest_level = level;
	if (kab_cooling_down(p, vm, now_ns))
		return false;

	room = vm->target_pages - min_t(u64, vm->target_pages,
					kab_min_target(vm));
	step = min_t(u64, p->guest_step_pages[level - 1], room);
	return kab_set_target(vm, vm->target_pages - step,
			      KAB_REASON_GUEST_PRESSURE, now_ns);
}

static bool kab_inflate_one(const struct kab_policy_params *p,
			    struct kab_policy_vm *vm, unsigned int level,
			    u64 now_ns)
{
	u64 step, room;

	vm->last_host_level = level;
	if (kab_cooling_down(p, vm, now_ns))
		return false;

	room = kab_max_target(vm) - min_t(u64, vm->target_pages,
					  kab_max_target(vm));
	step = min_t(u64, p->host_step_pages[level - 1], room);
	return kab_set_target(vm, vm->target_pages + step,
			      KAB_REASON_HOST_PRESSURE, now_ns);
}

unsigned int kab_policy_host_event(const struct kab_policy_params *p,
				   struct kab_policy_vm **vms, unsigned int nr,
				   unsigned int level, u64 now_ns)
{
	unsigned int i, changed = 0;

	if (!kab_level_valid(level))
		return 0;
	for (i = 0; i < nr; i++)
		changed += kab_inflate_one(p, vms[i], level, now_ns);
	return changed;
}

void kab_policy_actual(const struct kab_policy_params *p,
		       struct kab_policy_vm *vm, u64 actual_pages, u64 now_ns)
{
	vm->actual_pages = actual_pages;
	vm->actual_ns = now_ns;
}

bool kab_policy_tick(const struct kab_policy_params *p,
		     struct kab_policy_vm *vm, u64 now_ns)
{
	return false;
}
