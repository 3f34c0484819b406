// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of kernel/virt/autoballoon/policy.c, built unchanged against
 * kab_shim.h. Each test is named after the rule it checks (see the rule
 * table at the top of policy.c). Output is TAP; the exit status is 0 when
 * every test passed, 1 otherwise.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define MS		1000000ULL
#define SEC		(1000 * MS)
#define T0		(1000 * SEC)	/* tests start far from time 0 */

/* Fail the current test, saying what was expected and what came back. */
#define EXPECT(cond, fmt, ...)						\
	do {								\
		if (!(cond)) {						\
			printf("#   %s:%d: expected %s: " fmt "\n",		\
			       __FILE__, __LINE__, #cond, ##__VA_ARGS__);	\
			return false;					\
		}							\
	} while (0)

#define EXPECT_U64(got, want)						\
	do {								\
		u64 __g = (got), __w = (want);				\
		EXPECT(__g == __w, "%s is %" PRIu64 ", want %" PRIu64,	\
		       #got, __g, __w);					\
	} while (0)

static struct kab_policy_params params;

static u64 *tunable(const char *name)
{
	unsigned int i;

	for (i = 0; i < kab_policy_nr_tunables; i++)
		if (!strcmp(kab_policy_tunables[i].name, name))
			return (u64 *)((char *)&params +
				       kab_policy_tunables[i].offset);
	printf("# no tunable %s\n", name);
	exit(1);
}

static bool is_time_tunable(const char *name)
{
	size_t len = strlen(name);

	return len > 3 && !strcmp(name + len - 3, "_ms");
}

/* Defaults, then every time-based behaviour off: deterministic steps. */
static void defaults_no_timers(void)
{
	unsigned int i;

	kab_policy_defaults(&params);
	for (i = 0; i < kab_policy_nr_tunables; i++)
		if (is_time_tunable(kab_policy_tunables[i].name))
			*tunable(kab_policy_tunables[i].name) = 0;
	/*
	 * The tests of the level rules use VMs without figures alone in
	 * their events: let them take whole steps.
	 */
	params.blind_step_percent = 100;
	/* Nor does a rise of use make a guest growing, unless a test asks. */
	params.grow_percent = 0;
}

/* No caps or minimum getting in the way of exact step arithmetic. */
static void no_caps(void)
{
	params.max_step_pages = KAB_MAX_PAGES;
	params.max_step_percent = 100;
	params.min_change_pages = 0;
}

static struct kab_policy_vm mkvm(u64 total, u64 floor, u64 ceiling,
				 u32 weight)
{
	struct kab_policy_vm vm = {
		.total_pages = total,
		.floor_pages = floor,
		.ceiling_pages = ceiling,
		.weight = weight,
	};

	if (kab_policy_vm_init(&params, &vm, T0)) {
		printf("# mkvm(%" PRIu64 ", %" PRIu64 ", %" PRIu64
		       ", %u) refused\n", total, floor, ceiling, weight);
		exit(1);
	}
	return vm;
}

static unsigned int host1(struct kab_policy_vm *vm, unsigned int level,
			  u64 now)
{
	return kab_policy_host_event(&params, NULL, &vm, 1, level, now);
}

/*
 * host1(), and the VMM reports at once that the balloon followed: the
 * honest VMM that the level rules assume. A VMM that never reports gets
 * one inflation only (test_never_actual_gets_one_inflation).
 */
static unsigned int host1_follow(struct kab_policy_vm *vm, unsigned int level,
				 u64 now)
{
	unsigned int changed = host1(vm, level, now);

	kab_policy_actual(&params, vm, vm->target_pages, now);
	return changed;
}

/* ---- the tests ---- */

static bool test_tunables_table(void)
{
	unsigned int i, j;

	EXPECT(kab_policy_nr_tunables >= 20, "only %u tunables",
	       kab_policy_nr_tunables);
	kab_policy_defaults(&params);
	for (i = 0; i < kab_policy_nr_tunables; i++) {
		const struct kab_policy_tunable *t = &kab_policy_tunables[i];

		EXPECT(t->offset % sizeof(u64) == 0 &&
		       t->offset < sizeof(params), "%s offset %u", t->name,
		       t->offset);
		EXPECT(t->min <= t->def && t->def <= t->max,
		       "%s default %" PRIu64 " outside [%" PRIu64 ", %" PRIu64
		       "]", t->name, t->def, t->min, t->max);
		EXPECT(*tunable(t->name) == t->def, "%s not set to default",
		       t->name);
		EXPECT(t->unit && *t->unit && t->help && *t->help,
		       "%s lacks unit or help", t->name);
		EXPECT(!is_time_tunable(t->name) || t->min == 0,
		       "time tunable %s cannot be 0 (min %" PRIu64 ")",
		       t->name, t->min);
		EXPECT(!is_time_tunable(t->name) || !strcmp(t->unit, "ms"),
		       "%s ends in _ms but its unit is %s", t->name, t->unit);
		for (j = 0; j < i; j++)
			EXPECT(strcmp(t->name, kab_policy_tunables[j].name) &&
			       t->offset != kab_policy_tunables[j].offset,
			       "%s and %s collide", t->name,
			       kab_policy_tunables[j].name);
	}
	EXPECT_U64(kab_policy_nr_tunables * sizeof(u64), sizeof(params));
	return true;
}

static bool test_init_target_is_total_minus_ceiling(void)
{
	struct kab_policy_vm vm;

	defaults_no_timers();
	vm = mkvm(100000, 10000, 80000, 1);
	EXPECT_U64(vm.target_pages, 20000);
	EXPECT_U64(vm.seq, 1);
	EXPECT_U64(vm.reason, KAB_REASON_INITIAL);
	EXPECT_U64(vm.inflations + vm.deflations + vm.stalls, 0);
	return true;
}

static bool test_init_rejects_inconsistent_limits(void)
{
	static const struct { u64 total, floor, ceiling; u32 weight; } bad[] = {
		{ 0, 0, 0, 1 },
		{ 100, 0, 50, 1 },			/* floor 0 */
		{ 100, 60, 50, 1 },			/* floor > ceiling */
		{ 100, 10, 101, 1 },			/* ceiling > total */
		{ 100, 10, 50, 0 },			/* weight 0 */
		{ 100, 10, 50, KAB_MAX_WEIGHT + 1 },
		{ KAB_MAX_PAGES + 1, 10, 50, 1 },
	};
	struct kab_policy_vm vm;
	unsigned int i;
	int ret;

	defaults_no_timers();
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&vm, 0, sizeof(vm));
		vm.total_pages = bad[i].total;
		vm.floor_pages = bad[i].floor;
		vm.ceiling_pages = bad[i].ceiling;
		vm.weight = bad[i].weight;
		ret = kab_policy_vm_init(&params, &vm, T0);
		EXPECT(ret == -EINVAL, "case %u returned %d, want -EINVAL", i,
		       ret);
	}
	return true;
}

static bool test_host_pressure_inflates_by_step_per_level(void)
{
	struct kab_policy_vm vm;
	unsigned int level;
	u64 before;

	defaults_no_timers();
	no_caps();
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	for (level = KAB_LEVEL_LOW; level <= KAB_LEVEL_CRITICAL; level++) {
		before = vm.target_pages;
		EXPECT_U64(host1_follow(&vm, level, T0), 1);
		EXPECT_U64(vm.target_pages - before,
			   params.host_step_pages[level - 1]);
		EXPECT_U64(vm.reason, KAB_REASON_HOST_PRESSURE);
		EXPECT_U64(vm.last_host_level, level);
	}
	EXPECT_U64(vm.seq, 4);
	EXPECT_U64(vm.inflations, 3);
	return true;
}

static bool test_guest_pressure_deflates_by_step_per_level(void)
{
	struct kab_policy_vm vm;
	unsigned int level;
	u64 before;

	defaults_no_timers();
	no_caps();
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	params.host_step_pages[2] = 1 << 22;
	host1(&vm, KAB_LEVEL_CRITICAL, T0);
	for (level = KAB_LEVEL_LOW; level <= KAB_LEVEL_CRITICAL; level++) {
		before = vm.target_pages;
		EXPECT(kab_policy_guest_event(&params, &vm, level, 1, T0),
		       "level %u did not deflate", level);
		EXPECT_U64(before - vm.target_pages,
			   params.guest_step_pages[level - 1]);
		EXPECT_U64(vm.reason, KAB_REASON_GUEST_PRESSURE);
		EXPECT_U64(vm.last_guest_level, level);
	}
	EXPECT_U64(vm.deflations, 3);
	return true;
}

static bool test_target_never_crosses_floor_or_ceiling(void)
{
	struct kab_policy_vm vm;
	int i;

	defaults_no_timers();
	vm = mkvm(100000, 30000, 90000, 1);
	for (i = 0; i < 100; i++)
		host1_follow(&vm, KAB_LEVEL_CRITICAL, T0 + i * SEC);
	EXPECT_U64(vm.target_pages, 100000 - 30000);
	EXPECT_U64(host1_follow(&vm, KAB_LEVEL_CRITICAL, T0 + 200 * SEC), 0);
	for (i = 0; i < 100; i++)
		kab_policy_guest_event(&params, &vm, KAB_LEVEL_CRITICAL, 1,
				       T0 + (300 + i) * SEC);
	EXPECT_U64(vm.target_pages, 100000 - 90000);
	EXPECT(!kab_policy_guest_event(&params, &vm, KAB_LEVEL_CRITICAL, 1,
				       T0 + 500 * SEC), "moved below ceiling");
	return true;
}

static bool test_bad_levels_and_empty_events_are_ignored(void)
{
	struct kab_policy_vm vm, *one = &vm;
	u64 seq;

	defaults_no_timers();
	vm = mkvm(100000, 10000, 100000, 1);
	host1(&vm, KAB_LEVEL_LOW, T0);
	seq = vm.seq;
	EXPECT_U64(kab_policy_host_event(&params, NULL, &one, 1, 0, T0), 0);
	EXPECT_U64(kab_policy_host_event(&params, NULL, &one, 1, 4, T0), 0);
	EXPECT_U64(kab_policy_host_event(&params, NULL, &one, 0, 1, T0), 0);
	EXPECT(!kab_policy_guest_event(&params, &vm, 0, 1, T0), "level 0");
	EXPECT(!kab_policy_guest_event(&params, &vm, 4, 1, T0), "level 4");
	EXPECT(!kab_policy_guest_event(&params, &vm, 3, 0, T0), "count 0");
	EXPECT_U64(vm.seq, seq);
	EXPECT_U64(vm.last_guest_level, KAB_LEVEL_NONE);
	return true;
}

/* Rule table, guest side: a row is the host level, held by host_hold_ms. */
static bool check_guest_rule(unsigned int host, unsigned int guest,
			     u64 want_step)
{
	struct kab_policy_vm vm;
	u64 before;

	defaults_no_timers();
	no_caps();
	params.host_hold_ms = 10000;
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	params.host_step_pages[host - 1] = 1 << 22;
	host1(&vm, host, T0);
	before = vm.target_pages;
	kab_policy_guest_event(&params, &vm, guest, 1, T0 + SEC);
	EXPECT(before - vm.target_pages == want_step,
	       "host %u guest %u: deflated %" PRIu64 ", want %" PRIu64, host,
	       guest, before - vm.target_pages, want_step);
	return true;
}

static bool test_rule_guest_critical_wins_unless_host_critical(void)
{
	defaults_no_timers();
	if (!check_guest_rule(KAB_LEVEL_LOW, KAB_LEVEL_CRITICAL,
			      params.guest_step_pages[2]) ||
	    !check_guest_rule(KAB_LEVEL_MEDIUM, KAB_LEVEL_CRITICAL,
			      params.guest_step_pages[2]) ||
	    !check_guest_rule(KAB_LEVEL_CRITICAL, KAB_LEVEL_CRITICAL, 0))
		return false;
	return true;
}

static bool test_rule_guest_low_never_stops_a_pressured_host(void)
{
	return check_guest_rule(KAB_LEVEL_LOW, KAB_LEVEL_LOW, 0) &&
	       check_guest_rule(KAB_LEVEL_MEDIUM, KAB_LEVEL_LOW, 0) &&
	       check_guest_rule(KAB_LEVEL_CRITICAL, KAB_LEVEL_LOW, 0);
}

static bool test_rule_guest_medium_vs_host(void)
{
	defaults_no_timers();
	return check_guest_rule(KAB_LEVEL_LOW, KAB_LEVEL_MEDIUM,
				params.guest_step_pages[0]) &&
	       check_guest_rule(KAB_LEVEL_MEDIUM, KAB_LEVEL_MEDIUM, 0) &&
	       check_guest_rule(KAB_LEVEL_CRITICAL, KAB_LEVEL_MEDIUM, 0);
}

static bool test_rule_host_level_expires_after_host_hold(void)
{
	struct kab_policy_vm vm;
	u64 before;

	defaults_no_timers();
	params.host_hold_ms = 2000;
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	host1(&vm, KAB_LEVEL_CRITICAL, T0);
	before = vm.target_pages;
	EXPECT(!kab_policy_guest_event(&params, &vm, KAB_LEVEL_LOW, 1,
				       T0 + 1999 * MS),
	       "guest low deflated while the host was critical");
	EXPECT(kab_policy_guest_event(&params, &vm, KAB_LEVEL_LOW, 1,
				      T0 + 2000 * MS),
	       "guest low did not deflate once the host level expired");
	EXPECT_U64(before - vm.target_pages, params.guest_step_pages[0]);
	return true;
}

/* Rule table, host side: the guest level is held by guest_hold_ms. */
static bool check_host_rule(unsigned int host, unsigned int guest,
			    u64 want_step)
{
	struct kab_policy_vm vm;
	u64 before;

	defaults_no_timers();
	no_caps();
	params.guest_hold_ms = 10000;
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	kab_policy_guest_event(&params, &vm, guest, 1, T0);
	before = vm.target_pages;
	host1(&vm, host, T0 + SEC);
	EXPECT(vm.target_pages - before == want_step,
	       "host %u guest %u: inflated %" PRIu64 ", want %" PRIu64, host,
	       guest, vm.target_pages - before, want_step);
	return true;
}

static bool test_rule_host_inflates_less_when_guest_low(void)
{
	unsigned int h;

	for (h = KAB_LEVEL_LOW; h <= KAB_LEVEL_CRITICAL; h++) {
		defaults_no_timers();
		if (!check_host_rule(h, KAB_LEVEL_LOW,
				     params.host_step_pages[h - 1] *
				     params.guest_low_share_percent / 100))
			return false;
	}
	return true;
}

static bool test_rule_host_never_inflates_guest_medium_or_critical(void)
{
	unsigned int h, g;

	for (h = KAB_LEVEL_LOW; h <= KAB_LEVEL_CRITICAL; h++)
		for (g = KAB_LEVEL_MEDIUM; g <= KAB_LEVEL_CRITICAL; g++)
			if (!check_host_rule(h, g, 0))
				return false;
	return true;
}

static bool test_rule_guest_level_expires_after_guest_hold(void)
{
	struct kab_policy_vm vm;

	defaults_no_timers();
	no_caps();
	params.guest_hold_ms = 5000;
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	kab_policy_guest_event(&params, &vm, KAB_LEVEL_CRITICAL, 1, T0);
	EXPECT_U64(host1(&vm, KAB_LEVEL_MEDIUM, T0 + 4999 * MS), 0);
	EXPECT_U64(host1(&vm, KAB_LEVEL_MEDIUM, T0 + 5000 * MS), 1);
	return true;
}

static bool test_spread_by_weight(void)
{
	struct kab_policy_vm a, b, *vms[] = { &a, &b };
	u64 step;

	defaults_no_timers();
	no_caps();
	step = params.host_step_pages[0];
	a = mkvm(1 << 24, 1 << 20, 1 << 24, 100);
	b = mkvm(1 << 24, 1 << 20, 1 << 24, 300);
	EXPECT_U64(kab_policy_host_event(&params, NULL, vms, 2, KAB_LEVEL_LOW, T0),
		   2);
	/* A pool of two steps, split 1:3. */
	EXPECT_U64(a.target_pages, 2 * step / 4);
	EXPECT_U64(b.target_pages, 2 * step * 3 / 4);
	return true;
}

static bool test_spread_by_room_to_floor(void)
{
	struct kab_policy_vm a, b, *vms[] = { &a, &b };
	u64 step;

	defaults_no_timers();
	no_caps();
	step = params.host_step_pages[1];
	/* Room 1 GiB and 3 GiB. */
	a = mkvm(1 << 20, 3 << 18, 1 << 20, 10);
	b = mkvm(1 << 20, 1 << 18, 1 << 20, 10);
	kab_policy_host_event(&params, NULL, vms, 2, KAB_LEVEL_MEDIUM, T0);
	EXPECT_U64(a.target_pages, 2 * step / 4);
	EXPECT_U64(b.target_pages, 2 * step * 3 / 4);
	return true;
}

static bool test_spread_skips_vm_at_floor_and_guest_under_pressure(void)
{
	struct kab_policy_vm a, b, c, *vms[] = { &a, &b, &c };
	u64 step;

	defaults_no_timers();
	no_caps();
	params.guest_hold_ms = 10000;
	step = params.host_step_pages[0];
	a = mkvm(1 << 20, 1 << 20, 1 << 20, 10);	/* floor = total */
	b = mkvm(1 << 20, 1 << 18, 1 << 20, 10);
	c = mkvm(1 << 20, 1 << 18, 1 << 20, 10);
	kab_policy_guest_event(&params, &c, KAB_LEVEL_MEDIUM, 1, T0);
	EXPECT_U64(kab_policy_host_event(&params, NULL, vms, 3, KAB_LEVEL_LOW,
					 T0 + SEC), 1);
	EXPECT_U64(a.target_pages, 0);
	EXPECT_U64(b.target_pages, step);
	EXPECT_U64(c.target_pages, 0);
	return true;
}

static bool test_spread_guest_low_gets_reduced_share(void)
{
	struct kab_policy_vm a, b, *vms[] = { &a, &b };
	u64 step;

	defaults_no_timers();
	no_caps();
	params.guest_hold_ms = 10000;
	params.guest_low_share_percent = 50;
	step = params.host_step_pages[0];
	a = mkvm(1 << 20, 1 << 18, 1 << 20, 10);
	b = mkvm(1 << 20, 1 << 18, 1 << 20, 10);
	kab_policy_guest_event(&params, &b, KAB_LEVEL_LOW, 1, T0);
	kab_policy_host_event(&params, NULL, vms, 2, KAB_LEVEL_LOW, T0 + SEC);
	/* Pool: step + step / 2, split 2:1. */
	EXPECT_U64(a.target_pages, step);
	EXPECT_U64(b.target_pages, step / 2);
	return true;
}

static bool test_spread_never_overflows_with_huge_vms(void)
{
	static struct kab_policy_vm vm[1024];
	static struct kab_policy_vm *vms[1024];
	u64 before = 0, after = 0;
	unsigned int i;

	defaults_no_timers();
	no_caps();
	params.host_step_pages[2] = KAB_MAX_PAGES;
	for (i = 0; i < 1024; i++) {
		vm[i] = mkvm(KAB_MAX_PAGES, 1, KAB_MAX_PAGES,
			     i % 2 ? KAB_MAX_WEIGHT : 1);
		vms[i] = &vm[i];
		before += vm[i].target_pages;
	}
	kab_policy_host_event(&params, NULL, vms, 1024, KAB_LEVEL_CRITICAL, T0);
	for (i = 0; i < 1024; i++) {
		EXPECT(vm[i].target_pages <= KAB_MAX_PAGES - 1,
		       "vm %u target %" PRIu64 " above its limit", i,
		       vm[i].target_pages);
		after += vm[i].target_pages;
	}
	EXPECT(after > before, "nothing inflated");
	EXPECT(vm[1].target_pages > vm[0].target_pages,
	       "heavy VM got %" PRIu64 ", light VM %" PRIu64,
	       vm[1].target_pages, vm[0].target_pages);
	return true;
}

static bool test_step_cap_absolute(void)
{
	struct kab_policy_vm vm;

	defaults_no_timers();
	no_caps();
	params.max_step_pages = 1000;
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	host1(&vm, KAB_LEVEL_CRITICAL, T0);
	EXPECT_U64(vm.target_pages, 1000);
	return true;
}

static bool test_step_cap_percent_of_size(void)
{
	struct kab_policy_vm vm;

	defaults_no_timers();
	no_caps();
	params.max_step_percent = 5;
	vm = mkvm(200000, 1000, 200000, 1);
	host1(&vm, KAB_LEVEL_CRITICAL, T0);
	EXPECT_U64(vm.target_pages, 10000);
	return true;
}

static bool test_min_change_skips_small_shares_not_whole_steps(void)
{
	struct kab_policy_vm a, b, *vms[] = { &a, &b };

	defaults_no_timers();
	no_caps();
	params.min_change_pages = 1000;
	params.host_step_pages[0] = 4096;
	a = mkvm(1 << 20, 1 << 18, 1 << 20, 1);
	b = mkvm(1 << 20, 1 << 18, 1 << 20, 1000);
	/* A's share of the 8192-page pool is 8 pages: not worth it. */
	EXPECT_U64(kab_policy_host_event(&params, NULL, vms, 2, KAB_LEVEL_LOW, T0),
		   1);
	EXPECT_U64(a.target_pages, 0);
	EXPECT_U64(b.target_pages, 8192 * 1000 / 1001);
	EXPECT_U64(a.seq, 1);
	/* A whole step below min_change (a small VM) is still made. */
	params.host_step_pages[0] = 300;
	EXPECT_U64(host1_follow(&a, KAB_LEVEL_LOW, T0), 1);
	EXPECT_U64(a.target_pages, 300);
	/* So is a small move that lands exactly on the floor. */
	params.host_step_pages[0] = 4096;
	a.target_pages = (1 << 20) - (1 << 18) - 100;
	EXPECT_U64(host1_follow(&a, KAB_LEVEL_LOW, T0), 1);
	EXPECT_U64(a.target_pages, (1 << 20) - (1 << 18));
	return true;
}

static bool test_cooldown_paces_inflation_except_host_critical(void)
{
	struct kab_policy_vm vm;

	defaults_no_timers();
	params.cooldown_ms = 1000;
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	EXPECT_U64(host1_follow(&vm, KAB_LEVEL_LOW, T0), 1);
	EXPECT_U64(host1_follow(&vm, KAB_LEVEL_MEDIUM, T0 + 999 * MS), 0);
	EXPECT_U64(host1_follow(&vm, KAB_LEVEL_CRITICAL, T0 + 999 * MS), 1);
	EXPECT_U64(host1_follow(&vm, KAB_LEVEL_LOW, T0 + 1998 * MS), 0);
	EXPECT_U64(host1_follow(&vm, KAB_LEVEL_LOW, T0 + 1999 * MS), 1);
	return true;
}

static bool test_hysteresis_inflation_stops_below_pressure_mark(void)
{
	struct kab_policy_vm vm;
	u64 mark, gap;
	int i;

	defaults_no_timers();
	params.mark_ms = 60000;
	params.hysteresis_percent = 2;
	vm = mkvm(1 << 20, 1 << 16, 1 << 20, 1);
	for (i = 0; i < 10; i++)
		host1_follow(&vm, KAB_LEVEL_MEDIUM, T0);
	mark = vm.target_pages;
	gap = (1 << 20) * 2 / 100;
	kab_policy_guest_event(&params, &vm, KAB_LEVEL_MEDIUM, 1, T0 + SEC);
	for (i = 0; i < 50; i++)
		host1_follow(&vm, KAB_LEVEL_MEDIUM, T0 + 2 * SEC + i * MS);
	EXPECT_U64(vm.target_pages, mark - gap);
	/* The mark expires: the floor is the limit again. */
	for (i = 0; i < 100; i++)
		host1_follow(&vm, KAB_LEVEL_MEDIUM, T0 + 61 * SEC + i * MS);
	EXPECT_U64(vm.target_pages, (1 << 20) - (1 << 16));
	return true;
}

static bool test_block_deflate_after_inflate_unless_critical(void)
{
	struct kab_policy_vm vm;

	defaults_no_timers();
	params.block_after_inflate_ms = 5000;
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	host1(&vm, KAB_LEVEL_CRITICAL, T0);
	EXPECT(!kab_policy_guest_event(&params, &vm, KAB_LEVEL_LOW, 1,
				       T0 + 4999 * MS), "low deflated");
	EXPECT(!kab_policy_guest_event(&params, &vm, KAB_LEVEL_MEDIUM, 1,
				       T0 + 4999 * MS), "medium deflated");
	EXPECT(kab_policy_guest_event(&params, &vm, KAB_LEVEL_CRITICAL, 1,
				      T0 + 4999 * MS), "critical blocked");
	host1(&vm, KAB_LEVEL_CRITICAL, T0 + 6 * SEC);
	EXPECT(kab_policy_guest_event(&params, &vm, KAB_LEVEL_MEDIUM, 1,
				      T0 + 11 * SEC), "medium still blocked");
	return true;
}

static bool test_block_inflate_after_guest_deflate(void)
{
	struct kab_policy_vm vm;

	defaults_no_timers();
	params.block_after_deflate_ms = 10000;
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	host1_follow(&vm, KAB_LEVEL_CRITICAL, T0);
	kab_policy_guest_event(&params, &vm, KAB_LEVEL_MEDIUM, 1, T0 + SEC);
	EXPECT_U64(host1_follow(&vm, KAB_LEVEL_MEDIUM, T0 + 10999 * MS), 0);
	EXPECT_U64(host1_follow(&vm, KAB_LEVEL_CRITICAL, T0 + 10999 * MS), 1);
	EXPECT_U64(host1_follow(&vm, KAB_LEVEL_LOW, T0 + 11 * SEC), 1);
	return true;
}

/*
 * ChromeOS's split: a high-priority (critical) resize blocks the other
 * direction for a short time, a low-priority one for a long time; host
 * critical pressure, high priority itself, is blocked by neither.
 */
static bool test_block_inflate_after_critical_except_host_critical(void)
{
	struct kab_policy_vm vm;

	defaults_no_timers();
	params.block_after_critical_ms = 10000;
	params.block_after_deflate_ms = 100000;
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	host1_follow(&vm, KAB_LEVEL_CRITICAL, T0);
	kab_policy_guest_event(&params, &vm, KAB_LEVEL_CRITICAL, 1, T0);
	EXPECT_U64(host1_follow(&vm, KAB_LEVEL_MEDIUM, T0 + 9999 * MS), 0);
	EXPECT_U64(host1_follow(&vm, KAB_LEVEL_CRITICAL, T0 + 9999 * MS), 1);
	EXPECT_U64(host1_follow(&vm, KAB_LEVEL_LOW, T0 + 10 * SEC), 1);
	/* A low-priority deflation blocks for the long time. */
	kab_policy_guest_event(&params, &vm, KAB_LEVEL_LOW, 1, T0 + 20 * SEC);
	EXPECT_U64(host1_follow(&vm, KAB_LEVEL_MEDIUM, T0 + 119999 * MS), 0);
	EXPECT_U64(host1_follow(&vm, KAB_LEVEL_CRITICAL, T0 + 119999 * MS), 1);
	EXPECT_U64(host1_follow(&vm, KAB_LEVEL_MEDIUM, T0 + 120 * SEC), 1);
	return true;
}

static bool test_block_defaults_follow_chromeos_split(void)
{
	kab_policy_defaults(&params);
	EXPECT_U64(params.block_after_critical_ms, 10000);
	EXPECT_U64(params.block_after_deflate_ms, 100000);
	return true;
}

static bool test_hold_stops_inflation_in_flight(void)
{
	struct kab_policy_vm vm;

	defaults_no_timers();
	params.host_hold_ms = 10000;
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	host1(&vm, KAB_LEVEL_CRITICAL, T0);
	kab_policy_actual(&params, &vm, 5000, T0 + 100 * MS);
	/* Host critical x guest critical holds: no deflation below actual. */
	EXPECT(kab_policy_guest_event(&params, &vm, KAB_LEVEL_CRITICAL, 1,
				      T0 + 200 * MS), "target not held");
	EXPECT_U64(vm.target_pages, 5000);
	EXPECT(!kab_policy_guest_event(&params, &vm, KAB_LEVEL_CRITICAL, 1,
				       T0 + 300 * MS), "moved below actual");
	/* Low guest pressure does not hold. */
	host1(&vm, KAB_LEVEL_CRITICAL, T0 + 400 * MS);
	EXPECT(!kab_policy_guest_event(&params, &vm, KAB_LEVEL_LOW, 1,
				       T0 + 500 * MS), "low held");
	return true;
}

static bool test_no_push_while_balloon_lags(void)
{
	struct kab_policy_vm vm;
	u64 step;

	defaults_no_timers();
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	step = params.max_step_pages;
	if ((1 << 24) * params.max_step_percent / 100 < step)
		step = (1 << 24) * params.max_step_percent / 100;
	kab_policy_actual(&params, &vm, 0, T0);
	EXPECT_U64(host1(&vm, KAB_LEVEL_CRITICAL, T0), 1);
	EXPECT_U64(vm.target_pages, step);
	EXPECT_U64(host1(&vm, KAB_LEVEL_CRITICAL, T0 + SEC), 1);
	/* Two steps ahead of a balloon still at 0: wait for it. */
	EXPECT_U64(host1(&vm, KAB_LEVEL_CRITICAL, T0 + 2 * SEC), 0);
	kab_policy_actual(&params, &vm, step, T0 + 3 * SEC);
	EXPECT_U64(host1(&vm, KAB_LEVEL_CRITICAL, T0 + 3 * SEC), 1);
	return true;
}

static bool test_no_rechase_after_deflate(void)
{
	struct kab_policy_vm vm;
	u64 after_deflate;
	int i;

	kab_policy_defaults(&params);	/* every timer on */
	vm = mkvm(1 << 20, 1 << 16, 1 << 20, 1);
	for (i = 0; i < 20; i++)
		host1(&vm, KAB_LEVEL_MEDIUM, T0 + i * 2 * SEC);
	kab_policy_actual(&params, &vm, vm.target_pages, T0 + 40 * SEC);
	kab_policy_guest_event(&params, &vm, KAB_LEVEL_CRITICAL, 1,
			       T0 + 41 * SEC);
	after_deflate = vm.target_pages;
	kab_policy_actual(&params, &vm, after_deflate, T0 + 42 * SEC);
	for (i = 0; i < 1000; i++) {
		kab_policy_tick(&params, NULL, &vm, T0 + (43 + i) * SEC);
		EXPECT(vm.target_pages <= after_deflate,
		       "target rose to %" PRIu64 " from %" PRIu64
		       " without host pressure at tick %d", vm.target_pages,
		       after_deflate, i);
	}
	return true;
}

static bool test_stall_backs_off_and_marks_uncooperative(void)
{
	struct kab_policy_vm vm;

	defaults_no_timers();
	params.stall_ms = 30000;
	params.stall_backoff_max_ms = 100000;
	/* A VMM that never reported the balloon's size is not judged. */
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	host1(&vm, KAB_LEVEL_MEDIUM, T0);
	EXPECT(!kab_policy_tick(&params, NULL, &vm, T0 + 100 * SEC),
	       "stall without any actual report");

	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	host1(&vm, KAB_LEVEL_MEDIUM, T0);
	kab_policy_actual(&params, &vm, 1000, T0 + SEC);
	/* Progress at T0 + 1 s: no stall before T0 + 31 s. */
	EXPECT(!kab_policy_tick(&params, NULL, &vm, T0 + 30 * SEC), "early stall");
	host1(&vm, KAB_LEVEL_MEDIUM, T0 + 30 * SEC);	/* pushing more */
	EXPECT(kab_policy_tick(&params, NULL, &vm, T0 + 31 * SEC), "no stall");
	EXPECT_U64(vm.stalls, 1);
	EXPECT(vm.uncooperative, "not marked uncooperative");
	EXPECT_U64(vm.target_pages, 1000);
	EXPECT_U64(vm.reason, KAB_REASON_STALL);
	/* Backed off: not pushed again for stall_ms. */
	EXPECT_U64(host1(&vm, KAB_LEVEL_CRITICAL, T0 + 60 * SEC), 0);
	EXPECT_U64(host1(&vm, KAB_LEVEL_MEDIUM, T0 + 61 * SEC), 1);
	/* Second stall in a row: the backoff doubles (60 s). */
	EXPECT(kab_policy_tick(&params, NULL, &vm, T0 + 92 * SEC), "no 2nd stall");
	EXPECT_U64(vm.stalls, 2);
	EXPECT_U64(host1(&vm, KAB_LEVEL_MEDIUM, T0 + 151 * SEC), 0);
	EXPECT_U64(host1(&vm, KAB_LEVEL_MEDIUM, T0 + 152 * SEC), 1);
	/* The guest follows: cooperative again. */
	kab_policy_actual(&params, &vm, vm.target_pages, T0 + 153 * SEC);
	EXPECT(!vm.uncooperative, "still marked uncooperative");
	EXPECT_U64(vm.backoff_shift, 0);
	return true;
}

static bool test_stall_not_declared_while_balloon_moves(void)
{
	struct kab_policy_vm vm;
	int i;

	defaults_no_timers();
	params.stall_ms = 30000;
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	params.host_step_pages[2] = 1 << 20;
	params.max_step_pages = 1 << 20;
	params.max_step_percent = 100;
	host1(&vm, KAB_LEVEL_CRITICAL, T0);
	for (i = 1; i <= 100; i++) {
		kab_policy_actual(&params, &vm, i * 10000, T0 + i * 20 * SEC);
		EXPECT(!kab_policy_tick(&params, NULL, &vm, T0 + i * 20 * SEC + SEC),
		       "stall declared at step %d", i);
	}
	EXPECT_U64(vm.stalls, 0);
	return true;
}

static bool test_guest_hint_rate_limit_counts_dropped(void)
{
	struct kab_policy_vm vm;
	int i;

	defaults_no_timers();
	params.guest_hint_interval_ms = 100;
	params.guest_hint_burst = 10;
	params.host_step_pages[2] = 1 << 22;
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	host1(&vm, KAB_LEVEL_CRITICAL, T0);
	/* A flood: 15 coalesced hints, then 20 single ones, same instant. */
	EXPECT(kab_policy_guest_event(&params, &vm, KAB_LEVEL_LOW, 15, T0),
	       "first hints refused");
	EXPECT_U64(vm.guest_dropped, 5);
	for (i = 0; i < 20; i++)
		EXPECT(!kab_policy_guest_event(&params, &vm, KAB_LEVEL_CRITICAL,
					       1, T0),
		       "hint %d over the limit was obeyed", i);
	EXPECT_U64(vm.guest_dropped, 25);
	EXPECT_U64(vm.last_guest_level, KAB_LEVEL_LOW);
	/* One token back after 100 ms, no more. */
	EXPECT(kab_policy_guest_event(&params, &vm, KAB_LEVEL_LOW, 1,
				      T0 + 100 * MS), "refilled hint refused");
	EXPECT(!kab_policy_guest_event(&params, &vm, KAB_LEVEL_LOW, 1,
				       T0 + 150 * MS), "second hint obeyed");
	EXPECT_U64(vm.guest_dropped, 26);
	/* Over a long run a flooder gets one hint per interval. */
	for (i = 0; i < 10000; i++)
		kab_policy_guest_event(&params, &vm, KAB_LEVEL_LOW, 1,
				       T0 + SEC + i * 10 * MS);
	EXPECT(vm.guest_dropped >= 26 + 9000 - 20,
	       "only %" PRIu64 " dropped", vm.guest_dropped);
	return true;
}

/* Tunables changed under a registered VM take effect at once. */
static bool test_guest_hint_rate_limit_follows_tunable_changes(void)
{
	struct kab_policy_vm vm;
	int i;

	defaults_no_timers();		/* rate limit off */
	params.guest_hint_burst = 10;
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	for (i = 0; i < 50; i++)
		kab_policy_guest_event(&params, &vm, KAB_LEVEL_LOW, 1, T0);
	EXPECT_U64(vm.guest_dropped, 0);
	/* Turned on with a smaller burst: 2 pass, then one per hour. */
	params.guest_hint_interval_ms = 3600000;
	params.guest_hint_burst = 2;
	for (i = 0; i < 5; i++)
		kab_policy_guest_event(&params, &vm, KAB_LEVEL_LOW, 1,
				       T0 + (i + 1) * SEC);
	EXPECT_U64(vm.guest_dropped, 3);
	kab_policy_guest_event(&params, &vm, KAB_LEVEL_LOW, 1,
			       T0 + 3601 * SEC);
	EXPECT_U64(vm.guest_dropped, 3);
	return true;
}

static bool test_relax_after_host_quiet(void)
{
	struct kab_policy_vm vm;
	u64 high;
	int i;

	defaults_no_timers();
	params.relax_after_ms = 30000;
	params.relax_step_percent = 1;
	vm = mkvm(1 << 20, 1 << 16, 1 << 20, 1);
	for (i = 0; i < 20; i++)
		host1(&vm, KAB_LEVEL_MEDIUM, T0);
	high = vm.target_pages;
	EXPECT(!kab_policy_tick(&params, NULL, &vm, T0 + 29999 * MS), "too early");
	EXPECT(kab_policy_tick(&params, NULL, &vm, T0 + 30 * SEC), "no relax");
	EXPECT_U64(high - vm.target_pages, (1 << 20) / 100);
	EXPECT_U64(vm.reason, KAB_REASON_RELAX);
	for (i = 0; i < 1000; i++)
		kab_policy_tick(&params, NULL, &vm, T0 + (31 + i) * SEC);
	EXPECT_U64(vm.target_pages, 0);
	params.relax_after_ms = 0;
	host1(&vm, KAB_LEVEL_MEDIUM, T0 + 2000 * SEC);
	high = vm.target_pages;
	for (i = 0; i < 100; i++)
		kab_policy_tick(&params, NULL, &vm, T0 + (3000 + i * 100) * SEC);
	EXPECT_U64(vm.target_pages, high);
	return true;
}

/*
 * With every _ms tunable at 0 the policy is the simple one the module's
 * selftests rely on: host level L adds host_step_pages[L], guest level L
 * removes guest_step_pages[L], whatever came before.
 */
static bool test_zero_timers_give_deterministic_steps(void)
{
	struct kab_policy_vm vm;
	u64 want;
	unsigned int i, level;

	defaults_no_timers();
	no_caps();
	vm = mkvm(1 << 24, 1 << 20, 1 << 24, 1);
	want = vm.target_pages;
	for (i = 0; i < 300; i++) {
		level = 1 + (i * 7) % 3;
		if (i % 3) {
			want += params.host_step_pages[level - 1];
			if (want > (1 << 24) - (1 << 20))
				want = (1 << 24) - (1 << 20);
			host1_follow(&vm, level, T0);
		} else {
			want -= want < params.guest_step_pages[level - 1] ?
				want : params.guest_step_pages[level - 1];
			kab_policy_guest_event(&params, &vm, level, 1, T0);
		}
		EXPECT(vm.target_pages == want, "event %u: target %" PRIu64
		       ", want %" PRIu64, i, vm.target_pages, want);
		kab_policy_tick(&params, NULL, &vm, T0);
	}
	return true;
}

static u64 rnd_state;

/* A fixed-seed linear congruential generator: every run is the same. */
static u64 rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return rnd_state >> 33;
}

/* Invariants under random events and random in-range tunables. */
static bool test_invariants_under_random_events(void)
{
	static struct kab_policy_vm vm[16];
	struct kab_policy_vm *vms[16];
	struct kab_policy_host host;
	u64 now = T0, seq[16], lo, hi;
	unsigned int i, round, n, k;

	rnd_state = 42;
	for (round = 0; round < 200; round++) {
		for (i = 0; i < kab_policy_nr_tunables; i++) {
			const struct kab_policy_tunable *t =
				&kab_policy_tunables[i];
			u64 span = t->max - t->min;

			*tunable(t->name) = rnd() % 4 ? t->def :
				t->min + (span > 100000 ? rnd() % 100000 :
					  rnd() % (span + 1));
		}
		for (i = 0; i < 16; i++) {
			u64 total = 1 + rnd() % (1 << 22);
			u64 ceiling = 1 + rnd() % total;
			u64 floor = 1 + rnd() % ceiling;

			vm[i] = mkvm(total, floor, ceiling, 1 + rnd() % 100);
			vms[i] = &vm[i];
			seq[i] = vm[i].seq;
		}
		for (k = 0; k < 500; k++) {
			now += rnd() % (3 * SEC);
			i = rnd() % 16;
			switch (rnd() % 5) {
			case 0:
				n = 1 + rnd() % 16;
				host.total_pages = rnd() % 2 ? 1 + rnd() % (1 << 24) : 0;
				host.available_pages = rnd() % (1 << 24);
				kab_policy_host_event(&params, rnd() % 3 ? &host : NULL,
						      vms + 16 - n, n, rnd() % 5, now);
				break;
			case 4:
				vm[i].guest.valid = rnd() % (KAB_GUEST_STAT_ALL + 1);
				vm[i].guest.available_pages = rnd() % (vm[i].total_pages + 1);
				vm[i].guest.free_pages = rnd() % (vm[i].total_pages + 1);
				vm[i].guest.cache_pages = rnd() % (vm[i].total_pages + 1);
				vm[i].guest.committed_pages = rnd() % (2 * vm[i].total_pages + 1);
				vm[i].guest.reported_ns = now;
				kab_policy_guest_stats(&params, &vm[i], now);
				break;
			case 1:
				n = rnd() % 5;
				kab_policy_guest_event(&params, &vm[i], n,
						       rnd() % 30, now);
				break;
			case 2:
				kab_policy_actual(&params, &vm[i],
						  rnd() % (vm[i].total_pages + 1),
						  now);
				break;
			default:
				kab_policy_tick(&params, rnd() % 2 ? &host : NULL,
						&vm[i], now);
			}
			for (i = 0; i < 16; i++) {
				lo = vm[i].total_pages - vm[i].ceiling_pages;
				hi = vm[i].total_pages - vm[i].floor_pages;
				EXPECT(vm[i].target_pages >= lo &&
				       vm[i].target_pages <= hi,
				       "round %u: target %" PRIu64
				       " outside [%" PRIu64 ", %" PRIu64 "]",
				       round, vm[i].target_pages, lo, hi);
				EXPECT(vm[i].seq - seq[i] <= 1,
				       "seq jumped by %" PRIu64,
				       vm[i].seq - seq[i]);
				EXPECT(vm[i].seq == 1 + vm[i].inflations +
				       vm[i].deflations,
				       "seq %" PRIu64 " != 1 + %" PRIu64
				       " inflations + %" PRIu64 " deflations",
				       vm[i].seq, vm[i].inflations,
				       vm[i].deflations);
				seq[i] = vm[i].seq;
			}
		}
	}
	return true;
}

/*
 * The guest's figures are an input the caller refreshes; init starts them
 * empty, the age follows the clock, and the policy never writes them.
 */
static bool test_guest_figures_init_and_age(void)
{
	struct kab_policy_vm a, b;

	defaults_no_timers();
	a = mkvm(262144, 65536, 196608, 100);
	EXPECT_U64(a.guest.valid, 0);
	EXPECT_U64(a.guest.reported_ns, KAB_POLICY_NEVER);
	EXPECT_U64(a.guest.updates, 0);
	EXPECT_U64(kab_policy_guest_age_ms(&a, T0), U64_MAX);
	EXPECT_U64(a.stats_ns, KAB_POLICY_NEVER);
	EXPECT_U64(a.need_pages, 0);

	/* A stale copy from before init is cleared by it. */
	memset(&b, 0xa5, sizeof(b));
	b.total_pages = 262144;
	b.floor_pages = 65536;
	b.ceiling_pages = 196608;
	b.weight = 100;
	b.guest.valid = KAB_GUEST_STAT_ALL;
	b.guest.reported_ns = T0;
	EXPECT(!kab_policy_vm_init(&params, &b, T0), "init refused");
	EXPECT_U64(b.guest.valid, 0);
	EXPECT_U64(b.guest.reported_ns, KAB_POLICY_NEVER);
	EXPECT_U64(b.stats_ns, KAB_POLICY_NEVER);

	b.guest.valid = KAB_GUEST_STAT_AVAILABLE | KAB_GUEST_STAT_TOTAL;
	b.guest.available_pages = 100000;
	b.guest.total_pages = 200000;
	b.guest.reported_ns = T0 + 10 * MS;
	b.guest.updates = 1;
	EXPECT_U64(kab_policy_guest_age_ms(&b, T0), 0);
	EXPECT_U64(kab_policy_guest_age_ms(&b, T0 + 10 * MS), 0);
	EXPECT_U64(kab_policy_guest_age_ms(&b, T0 + 1510 * MS + 999), 1500);
	kab_policy_guest_stats(&params, &b, T0 + 20 * MS);
	EXPECT_U64(b.guest.available_pages, 100000);
	EXPECT_U64(b.guest.updates, 1);
	EXPECT_U64(b.stats_ns, T0 + 10 * MS);
	return true;
}

/* ---- what a guest can spare ---- */

#define G_TOTAL		163840ULL	/* 640 MiB */
#define G_FLOOR		25600ULL	/* 100 MiB */

/* A host of 1 GiB with @avail pages available. */
static struct kab_policy_host host_at(u64 avail)
{
	return (struct kab_policy_host){ .total_pages = 262144,
					 .available_pages = avail };
}

/* New figures from the guest at @now, and the policy told of them. */
static bool report(struct kab_policy_vm *vm, u64 avail, u64 free, u64 cache,
		   u64 now)
{
	vm->guest.valid = KAB_GUEST_STAT_AVAILABLE | KAB_GUEST_STAT_FREE |
			  KAB_GUEST_STAT_CACHE | KAB_GUEST_STAT_TOTAL;
	vm->guest.available_pages = avail;
	vm->guest.free_pages = free;
	vm->guest.cache_pages = cache;
	vm->guest.total_pages = vm->total_pages - vm->actual_pages;
	vm->guest.reported_ns = now;
	vm->guest.updates++;
	return kab_policy_guest_stats(&params, vm, now);
}

/* A VM whose VMM reports the balloon (at its target) and its figures. */
static struct kab_policy_vm mksighted(u64 avail, u64 free, u64 cache, u32 w)
{
	struct kab_policy_vm vm = mkvm(G_TOTAL, G_FLOOR, G_TOTAL, w);

	kab_policy_actual(&params, &vm, vm.target_pages, T0);
	report(&vm, avail, free, cache, T0);
	return vm;
}

static u64 reserve_of(const struct kab_policy_vm *vm)
{
	u64 r = vm->total_pages * params.reserve_percent / 100;

	return r > 1212 ? r : 1212;	/* 640 MiB: high watermark 1212 */
}

static unsigned int hostev(const struct kab_policy_host *h,
			   struct kab_policy_vm **vms, unsigned int nr,
			   unsigned int level, u64 now)
{
	return kab_policy_host_event(&params, h, vms, nr, level, now);
}

static bool test_need_follows_peak_up_fast_down_slow(void)
{
	struct kab_policy_vm vm;

	defaults_no_timers();
	params.need_decay_ms = 60000;
	vm = mksighted(100000, 90000, 10000, 1);
	EXPECT_U64(vm.need_pages, G_TOTAL - 100000);
	/* Use rises: the need follows at once. */
	report(&vm, 40000, 30000, 10000, T0 + SEC);
	EXPECT_U64(vm.need_pages, G_TOTAL - 40000);
	/* Use falls: 30 s close half the gap (linear in the time step). */
	report(&vm, 100000, 90000, 10000, T0 + 31 * SEC);
	EXPECT_U64(vm.need_pages, G_TOTAL - 40000 - 30000);
	/* A step of a whole time constant lands on the use. */
	report(&vm, 100000, 90000, 10000, T0 + 100 * SEC);
	EXPECT_U64(vm.need_pages, G_TOTAL - 100000);
	/* The same report read twice changes nothing. */
	kab_policy_guest_stats(&params, &vm, T0 + 101 * SEC);
	EXPECT_U64(vm.need_pages, G_TOTAL - 100000);
	/* need_decay_ms 0: no memory of the peak. */
	params.need_decay_ms = 0;
	report(&vm, 40000, 30000, 10000, T0 + 102 * SEC);
	report(&vm, 100000, 90000, 10000, T0 + 103 * SEC);
	EXPECT_U64(vm.need_pages, G_TOTAL - 100000);
	return true;
}

static bool test_need_uses_committed_when_larger(void)
{
	struct kab_policy_vm vm;

	defaults_no_timers();
	vm = mksighted(100000, 90000, 10000, 1);
	vm.guest.valid |= KAB_GUEST_STAT_COMMITTED;
	vm.guest.committed_pages = 120000;
	vm.guest.reported_ns = T0 + SEC;
	kab_policy_guest_stats(&params, &vm, T0 + SEC);
	EXPECT_U64(vm.need_pages, 120000);
	/* Smaller than the use: the use counts. */
	vm.guest.committed_pages = 1000;
	vm.guest.reported_ns = T0 + 2 * SEC;
	params.need_decay_ms = 0;
	kab_policy_guest_stats(&params, &vm, T0 + 2 * SEC);
	EXPECT_U64(vm.need_pages, G_TOTAL - 100000);
	return true;
}

static bool test_never_inflate_past_need_plus_reserve(void)
{
	struct kab_policy_vm vm, *one = &vm;
	struct kab_policy_host h = host_at(0);
	u64 limit;
	int i;

	defaults_no_timers();
	no_caps();
	/* Plenty of free memory: the need and reserve are the limit. */
	vm = mksighted(120000, 120000, 0, 1);
	limit = G_TOTAL - (G_TOTAL - 120000) - reserve_of(&vm);
	for (i = 0; i < 50; i++) {
		hostev(&h, &one, 1, KAB_LEVEL_CRITICAL, T0 + i * SEC);
		kab_policy_actual(&params, &vm, vm.target_pages,
				  T0 + i * SEC + 1);
	}
	EXPECT_U64(vm.target_pages, limit);
	return true;
}

/* sysfs spare_limit_pages: unknown before figures, where inflation stops. */
static bool test_spare_limit_is_where_inflation_stops(void)
{
	struct kab_policy_vm vm, *one = &vm;
	struct kab_policy_host h = host_at(0);
	int i;

	defaults_no_timers();
	no_caps();
	vm = mkvm(G_TOTAL, G_FLOOR, G_TOTAL, 100);
	EXPECT_U64(kab_policy_spare_limit(&params, &vm), KAB_POLICY_UNKNOWN);
	vm = mksighted(120000, 120000, 0, 1);
	for (i = 0; i < 50; i++) {
		hostev(&h, &one, 1, KAB_LEVEL_CRITICAL, T0 + i * SEC);
		kab_policy_actual(&params, &vm, vm.target_pages,
				  T0 + i * SEC + 1);
	}
	EXPECT_U64(kab_policy_spare_limit(&params, &vm),
		   120000 - reserve_of(&vm));
	EXPECT_U64(vm.target_pages, kab_policy_spare_limit(&params, &vm));
	return true;
}

static bool test_critical_host_pressure_no_longer_goes_to_floor(void)
{
	struct kab_policy_vm vm, *one = &vm;
	struct kab_policy_host h = host_at(0);
	int i;

	kab_policy_defaults(&params);	/* every timer on */
	vm = mksighted(60000, 50000, 10000, 1);
	for (i = 0; i < 100; i++) {
		u64 b = vm.target_pages;

		/* The balloon takes free pages: the guest has less free. */
		report(&vm, b < 60000 ? 60000 - b : 0,
		       b < 50000 ? 50000 - b : 0, b < 50000 ? 10000 :
		       b < 60000 ? 60000 - b : 0, T0 + i * SEC);
		hostev(&h, &one, 1, KAB_LEVEL_CRITICAL, T0 + i * SEC);
		kab_policy_actual(&params, &vm, vm.target_pages,
				  T0 + i * SEC + 1);
	}
	EXPECT(vm.target_pages < G_TOTAL - G_FLOOR,
	       "critical host pressure took the guest to its floor");
	/* The need (total - 60000 available) and the reserve stay. */
	EXPECT(vm.target_pages <= 60000 - reserve_of(&vm),
	       "took %" PRIu64 " of 60000 available pages", vm.target_pages);
	return true;
}

static bool test_free_first_then_cache_never_anon(void)
{
	struct kab_policy_vm a, b, c, *vms[] = { &a, &b, &c };
	struct kab_policy_host h;
	u64 keep = G_TOTAL * 5 / 100;

	defaults_no_timers();
	no_caps();
	params.cache_keep_percent = 5;
	a = mksighted(80000, 60000, 20000, 1);	/* free and cache */
	b = mksighted(60000, 1000, 59000, 1);	/* cache only */
	c = mksighted(1214, 1000, 214, 1);	/* anonymous only */
	/* A small deficit comes from free memory alone. */
	h = host_at(262144 / 10 - 10000);
	EXPECT_U64(hostev(&h, vms, 3, KAB_LEVEL_MEDIUM, T0 + SEC), 1);
	EXPECT_U64(a.target_pages, 10000);
	EXPECT_U64(b.target_pages + c.target_pages, 0);
	/* A large one takes cache above its keep next, never anon. */
	kab_policy_actual(&params, &a, a.target_pages, T0 + SEC);
	h = (struct kab_policy_host){ .total_pages = 10 * 262144 };
	hostev(&h, vms, 3, KAB_LEVEL_MEDIUM, T0 + 2 * SEC);
	EXPECT(a.target_pages > 60000 - 1212, "a's cache not taken");
	EXPECT(a.target_pages <= 60000 - 1212 + 20000 - keep,
	       "a: %" PRIu64, a.target_pages);
	EXPECT(b.target_pages > 0 && b.target_pages <= 59000 - keep,
	       "b: %" PRIu64, b.target_pages);
	EXPECT_U64(c.target_pages, 0);
	return true;
}

static bool test_host_deficit_sizes_inflation(void)
{
	struct kab_policy_vm a, b, *vms[] = { &a, &b };
	struct kab_policy_host h;

	defaults_no_timers();
	no_caps();
	a = mksighted(100000, 100000, 0, 1);
	b = mksighted(100000, 100000, 0, 3);
	/* No deficit: host pressure at any level takes nothing. */
	h = host_at(262144 / 10);
	EXPECT_U64(hostev(&h, vms, 2, KAB_LEVEL_CRITICAL, T0 + SEC), 0);
	/* A deficit of 8000 pages, split 1:3 by weight x headroom. */
	h = host_at(262144 / 10 - 8000);
	EXPECT_U64(hostev(&h, vms, 2, KAB_LEVEL_LOW, T0 + SEC), 2);
	EXPECT_U64(a.target_pages, 2000);
	EXPECT_U64(b.target_pages, 6000);
	/* In flight (not yet taken by the balloons): not asked again. */
	EXPECT_U64(hostev(&h, vms, 2, KAB_LEVEL_LOW, T0 + 2 * SEC), 0);
	return true;
}

static bool test_step_caps_bound_the_deficit_share(void)
{
	struct kab_policy_vm vm, *one = &vm;
	struct kab_policy_host h = host_at(0);

	defaults_no_timers();
	vm = mksighted(150000, 150000, 0, 1);
	hostev(&h, &one, 1, KAB_LEVEL_CRITICAL, T0 + SEC);
	EXPECT_U64(vm.target_pages, G_TOTAL * params.max_step_percent / 100);
	return true;
}

static bool test_deflate_at_once_below_reserve(void)
{
	struct kab_policy_vm vm, *one = &vm;
	struct kab_policy_host h = host_at(0);
	u64 reserve, before;

	defaults_no_timers();
	no_caps();
	params.block_after_critical_ms = 10000;
	params.block_after_inflate_ms = 5000;	/* not for this rule */
	vm = mksighted(100000, 100000, 0, 1);
	reserve = reserve_of(&vm);
	hostev(&h, &one, 1, KAB_LEVEL_CRITICAL, T0 + SEC);
	kab_policy_actual(&params, &vm, 20000, T0 + SEC + 1);
	before = vm.target_pages;
	EXPECT(before > 20000, "nothing in flight: %" PRIu64, before);
	/* Available falls 1000 under the reserve: 1000 back, from actual. */
	EXPECT(report(&vm, reserve - 1000, 0, 0, T0 + 2 * SEC),
	       "no deflation under the reserve");
	EXPECT_U64(vm.target_pages, 19000);
	EXPECT_U64(vm.reason, KAB_REASON_GUEST_PRESSURE);
	/* The same figures again: nothing more. */
	EXPECT(!kab_policy_guest_stats(&params, &vm, T0 + 2 * SEC + 1),
	       "deflated twice for one report");
	/* A report another decision read first is still checked. */
	kab_policy_actual(&params, &vm, 19000, T0 + 2 * SEC + 2);
	vm.guest.reported_ns = T0 + 2 * SEC + 3;
	hostev(&h, &one, 1, KAB_LEVEL_CRITICAL, T0 + 2 * SEC + 3);
	EXPECT_U64(vm.target_pages, 19000);
	EXPECT(kab_policy_guest_stats(&params, &vm, T0 + 2 * SEC + 4),
	       "a report read by a host event first was not checked");
	EXPECT_U64(vm.target_pages, 18000);
	/* At the reserve: nothing. */
	EXPECT(!report(&vm, reserve, 0, 0, T0 + 3 * SEC), "deflated at it");
	/* It blocks as critical guest pressure does, not against critical. */
	kab_policy_actual(&params, &vm, 18000, T0 + 3 * SEC);
	report(&vm, 100000, 100000, 0, T0 + 4 * SEC);
	EXPECT_U64(hostev(&h, &one, 1, KAB_LEVEL_MEDIUM, T0 + 5 * SEC), 0);
	EXPECT_U64(hostev(&h, &one, 1, KAB_LEVEL_CRITICAL, T0 + 5 * SEC), 1);
	return true;
}

/* A guest whose use rises keeps what it has, at every host level. */
static bool test_growing_guest_is_not_inflated(void)
{
	struct kab_policy_vm a, b, *both[2] = { &a, &b };
	struct kab_policy_host h = host_at(0);
	u64 step = G_TOTAL / 100;	/* grow_percent 1 */

	defaults_no_timers();
	no_caps();
	params.grow_percent = 1;
	params.grow_hold_ms = 5000;
	a = mksighted(120000, 120000, 0, 1);
	b = mksighted(120000, 120000, 0, 1);
	/* A's use rises by two steps in one report: growing. B's does not. */
	report(&a, 120000 - 2 * step, 120000 - 2 * step, 0, T0 + SEC);
	report(&b, 120000, 120000, 0, T0 + SEC);
	EXPECT_U64(a.grow_ns, T0 + SEC);
	EXPECT_U64(a.rise_pages, 2 * step);
	EXPECT_U64(b.grow_ns, KAB_POLICY_NEVER);
	EXPECT_U64(b.rise_pages, 0);
	/* Host critical: B alone inflates. */
	EXPECT_U64(hostev(&h, both, 2, KAB_LEVEL_CRITICAL, T0 + 2 * SEC), 1);
	EXPECT_U64(a.target_pages, 0);
	EXPECT(b.target_pages > 0, "B was not inflated");
	kab_policy_actual(&params, &b, b.target_pages, T0 + 2 * SEC + 1);
	/* A rise under one step does not count, nor make A growing again. */
	report(&a, 120000 - 3 * step + 1, 120000 - 3 * step + 1, 0,
	       T0 + 3 * SEC);
	EXPECT_U64(a.rise_pages, 0);
	EXPECT_U64(a.grow_ns, T0 + SEC);
	EXPECT_U64(hostev(&h, &both[0], 1, KAB_LEVEL_CRITICAL, T0 + 4 * SEC),
		   0);
	/* grow_hold_ms after its last rise A may inflate again. */
	EXPECT_U64(hostev(&h, &both[0], 1, KAB_LEVEL_CRITICAL,
			  T0 + 6 * SEC + 1), 1);
	EXPECT(a.target_pages > 0, "A was not inflated after the hold");
	/* grow_percent 0: no guest is ever growing. */
	params.grow_percent = 0;
	report(&b, 60000, 60000, 0, T0 + 7 * SEC);
	EXPECT_U64(b.rise_pages, 0);
	EXPECT_U64(b.grow_ns, KAB_POLICY_NEVER);
	return true;
}

/* A growing guest gives up page cache above its keep, not free memory. */
static bool test_growing_guest_gives_cache_only(void)
{
	struct kab_policy_vm vm, *one = &vm;
	struct kab_policy_host h = { 0 };	/* no host figures: steps */
	u64 step = G_TOTAL / 100, keep = G_TOTAL * 5 / 100;

	defaults_no_timers();
	no_caps();
	params.grow_percent = 1;
	params.grow_hold_ms = 5000;
	vm = mksighted(120000, 100000, 20000, 1);
	/* Use rises by two steps, out of free memory: growing. */
	report(&vm, 120000 - 2 * step, 100000 - 2 * step, 20000, T0 + SEC);
	EXPECT_U64(hostev(&h, &one, 1, KAB_LEVEL_CRITICAL, T0 + 2 * SEC), 1);
	EXPECT_U64(vm.target_pages, 20000 - keep);
	kab_policy_actual(&params, &vm, vm.target_pages, T0 + 2 * SEC + 1);
	/* The hold over, free memory above the watermark (1212) goes too. */
	report(&vm, 120000 - 2 * step - (20000 - keep),
	       100000 - 2 * step, keep, T0 + 8 * SEC);
	EXPECT_U64(hostev(&h, &one, 1, KAB_LEVEL_CRITICAL, T0 + 9 * SEC), 1);
	EXPECT_U64(vm.target_pages, 20000 - keep + 100000 - 2 * step - 1212);
	return true;
}

/*
 * A growing guest is under its reserve as soon as another rise like its
 * last would take it there: it gets the difference back at once.
 */
static bool test_reserve_counts_the_rise(void)
{
	struct kab_policy_vm vm, *one = &vm;
	/* A host deficit of 20000 pages under host_available_percent 10. */
	struct kab_policy_host h = host_at(262144 / 10 - 20000);
	u64 reserve;

	defaults_no_timers();
	no_caps();
	params.grow_percent = 1;
	vm = mksighted(34192, 34192, 0, 1);
	reserve = reserve_of(&vm);
	EXPECT_U64(reserve, 8192);
	EXPECT_U64(hostev(&h, &one, 1, KAB_LEVEL_CRITICAL, T0 + SEC), 1);
	EXPECT_U64(vm.target_pages, 20000);
	kab_policy_actual(&params, &vm, 20000, T0 + SEC + 1);
	/* The same use, 6000 above the reserve: nothing. */
	EXPECT(!report(&vm, reserve + 6000, 0, 0, T0 + 2 * SEC),
	       "deflated above the reserve");
	/* Use rises by 5000: 1000 above the reserve, 4000 under it + rise. */
	EXPECT(report(&vm, reserve + 1000, 0, 0, T0 + 3 * SEC),
	       "no deflation for a rise toward the reserve");
	EXPECT_U64(vm.target_pages, 16000);
	EXPECT_U64(vm.reason, KAB_REASON_GUEST_PRESSURE);
	/* The same figures without grow_percent: the plain reserve. */
	params.grow_percent = 0;
	vm = mksighted(34192, 34192, 0, 1);
	hostev(&h, &one, 1, KAB_LEVEL_CRITICAL, T0 + SEC);
	kab_policy_actual(&params, &vm, 20000, T0 + SEC + 1);
	report(&vm, reserve + 6000, 0, 0, T0 + 2 * SEC);
	EXPECT(!report(&vm, reserve + 1000, 0, 0, T0 + 3 * SEC),
	       "deflated above the plain reserve");
	EXPECT_U64(vm.target_pages, 20000);
	return true;
}

/* Figures that went stale still bound a VM, and still show it growing. */
static bool test_stale_figures_still_bound(void)
{
	struct kab_policy_vm vm, *one = &vm;
	struct kab_policy_host h = { 0 };	/* no host figures: steps */
	u64 step = G_TOTAL / 100;

	defaults_no_timers();
	no_caps();
	params.stats_stale_ms = 5000;
	vm = mksighted(120000, 120000, 0, 1);
	/* 10 s later the figures are stale: blind, yet not past them. */
	EXPECT_U64(hostev(&h, &one, 1, KAB_LEVEL_CRITICAL, T0 + 10 * SEC), 1);
	EXPECT_U64(vm.target_pages, 120000 - reserve_of(&vm));
	/* Growing at its last report, then silent: no inflation. */
	params.grow_percent = 1;
	params.grow_hold_ms = 5000;
	params.stats_stale_ms = 500;
	vm = mksighted(120000, 120000, 0, 1);
	report(&vm, 120000 - 2 * step, 120000 - 2 * step, 0, T0 + SEC);
	EXPECT_U64(hostev(&h, &one, 1, KAB_LEVEL_CRITICAL, T0 + 2 * SEC), 0);
	EXPECT_U64(vm.target_pages, 0);
	/* Once the hold is over, the stale figures bound it again. */
	EXPECT_U64(hostev(&h, &one, 1, KAB_LEVEL_CRITICAL, T0 + 7 * SEC), 1);
	EXPECT_U64(vm.target_pages, 120000 - 2 * step - reserve_of(&vm));
	return true;
}

static bool test_stock_driver_figures_alone(void)
{
	struct kab_policy_vm vm, *one = &vm;
	struct kab_policy_host h = host_at(0);
	u64 t = T0, taken;
	int i;

	/* Debian's virtio_balloon: figures every second, never a doorbell. */
	kab_policy_defaults(&params);
	vm = mksighted(120000, 110000, 10000, 1);
	for (i = 0; i < 30; i++) {
		t += SEC;
		report(&vm, 120000 - vm.actual_pages, 110000 - vm.actual_pages,
		       10000, t);
		hostev(&h, &one, 1, KAB_LEVEL_MEDIUM, t);
		kab_policy_actual(&params, &vm, vm.target_pages, t + MS);
	}
	taken = vm.target_pages;
	EXPECT(taken > 20000, "only %" PRIu64 " taken", taken);
	/* The guest's use jumps: its figures alone get memory back. */
	t += SEC;
	EXPECT(report(&vm, 2000, 1000, 1000, t), "no deflation");
	EXPECT(vm.target_pages < taken, "target stayed");
	EXPECT_U64(vm.guest_dropped, 0);
	EXPECT_U64(vm.last_guest_level, KAB_LEVEL_NONE);
	return true;
}

static bool test_stale_or_missing_figures_are_blind(void)
{
	struct kab_policy_vm a, b, *vms[] = { &a, &b };
	struct kab_policy_host h = host_at(0);

	defaults_no_timers();
	no_caps();
	params.stats_stale_ms = 5000;
	params.blind_step_percent = 50;
	a = mksighted(100000, 100000, 0, 1);
	b = mksighted(100000, 100000, 0, 1);
	/* b's guest stopped reporting 5 s ago; a reports: b gets at most a's. */
	report(&a, 100000, 100000, 0, T0 + 5 * SEC);
	hostev(&h, vms, 2, KAB_LEVEL_CRITICAL, T0 + 5 * SEC);
	EXPECT(a.target_pages > 0, "a took nothing");
	EXPECT(b.target_pages <= a.target_pages,
	       "stale b %" PRIu64 " > a %" PRIu64, b.target_pages,
	       a.target_pages);
	/* stats_stale_ms 0: figures never go stale. */
	params.stats_stale_ms = 0;
	EXPECT(kab_policy_guest_age_ms(&b, T0 + 3600 * SEC) > 5000, "age");
	return true;
}

static bool test_blind_never_gets_more_than_sighted(void)
{
	struct kab_policy_vm s, n, v, *vms[] = { &n, &v, &s };
	struct kab_policy_host h = host_at(0);

	defaults_no_timers();
	no_caps();
	params.blind_step_percent = 100;
	s = mksighted(G_TOTAL - 30000, 20000, 0, 1);	/* 20000 free */
	/* No figures (a stock driver without stats, or none yet). */
	n = mkvm(G_TOTAL, G_FLOOR, G_TOTAL, 10000);
	kab_policy_actual(&params, &n, 0, T0);
	/* Figures, but a VMM that never reports the balloon's size. */
	v = mkvm(G_TOTAL, G_FLOOR, G_TOTAL, 10000);
	report(&v, 150000, 150000, 0, T0);
	hostev(&h, vms, 3, KAB_LEVEL_CRITICAL, T0 + SEC);
	EXPECT(s.target_pages > 0, "the sighted VM took nothing");
	EXPECT(n.target_pages <= s.target_pages && v.target_pages <=
	       s.target_pages, "blind %" PRIu64 "/%" PRIu64 " > sighted %"
	       PRIu64, n.target_pages, v.target_pages, s.target_pages);
	/* A sighted VM that can spare nothing: blind VMs get nothing. */
	kab_policy_actual(&params, &s, s.target_pages, T0 + SEC);
	report(&s, 1214, 1000, 0, T0 + 2 * SEC);
	n.target_pages = v.target_pages = 0;
	EXPECT_U64(hostev(&h, vms, 3, KAB_LEVEL_CRITICAL, T0 + 2 * SEC), 0);
	return true;
}

/* Today a registration that never reports actual absorbed the pool. */
static bool test_never_actual_does_not_absorb_pool(void)
{
	struct kab_policy_vm a, v, *vms[] = { &a, &v };
	u64 t = T0;
	int i;

	defaults_no_timers();
	a = mksighted(150000, 150000, 0, 1);
	v = mkvm(G_TOTAL, G_FLOOR, G_TOTAL, 1);
	for (i = 0; i < 20; i++) {
		t += SEC;
		report(&a, 150000, 150000, 0, t);
		report(&v, 150000, 150000, 0, t);
		hostev(NULL, vms, 2, KAB_LEVEL_CRITICAL, t);
		/* a's balloon is slow: it lags half the time. */
		if (i % 2)
			kab_policy_actual(&params, &a, a.target_pages, t);
	}
	EXPECT(v.target_pages <= a.target_pages,
	       "never-actual VM %" PRIu64 " > reporting VM %" PRIu64,
	       v.target_pages, a.target_pages);
	return true;
}

/*
 * A VMM that never reports the balloon's size gets the one inflation that
 * would make the balloon move, and nothing after that until it reports.
 */
static bool test_never_actual_gets_one_inflation(void)
{
	struct kab_policy_vm vm;
	u64 once;

	defaults_no_timers();
	vm = mkvm(1 << 20, 1 << 16, 1 << 20, 1);
	EXPECT_U64(host1(&vm, KAB_LEVEL_CRITICAL, T0), 1);
	once = vm.target_pages;
	EXPECT(once > 0 && once <= (1 << 20) * params.max_step_percent / 100,
	       "first inflation %" PRIu64, once);
	EXPECT_U64(host1(&vm, KAB_LEVEL_CRITICAL, T0 + SEC), 0);
	EXPECT_U64(vm.target_pages, once);
	kab_policy_actual(&params, &vm, once, T0 + 2 * SEC);
	EXPECT_U64(host1(&vm, KAB_LEVEL_CRITICAL, T0 + 3 * SEC), 1);
	return true;
}

/*
 * The review's reproduction: 100 real 16 GiB VMs, whose VMMs report the
 * balloon as it follows, and one registration claiming 4 PiB at the
 * highest weight that never reports. 20 critical host events inflated the
 * real VMs by 0; they must get what they get without the fake, and the
 * fake no more than one capped step.
 */
#define REAL_VMS	100
#define REAL_TOTAL	(16ULL << 18)	/* 16 GiB */

static u64 real_vms_inflation(bool with_fake, u64 *fake_target)
{
	static struct kab_policy_vm vms[REAL_VMS + 1];
	struct kab_policy_vm *pv[REAL_VMS + 1];
	u64 t = T0, sum = 0;
	unsigned int i, e, nr = REAL_VMS;

	for (i = 0; i < REAL_VMS; i++) {
		vms[i] = mkvm(REAL_TOTAL, REAL_TOTAL / 4, REAL_TOTAL, 100);
		kab_policy_actual(&params, &vms[i], vms[i].target_pages, t);
		pv[i] = &vms[i];
	}
	if (with_fake) {
		vms[REAL_VMS] = mkvm(KAB_MAX_PAGES, 1, KAB_MAX_PAGES,
				     KAB_MAX_WEIGHT);
		pv[nr++] = &vms[REAL_VMS];
	}
	for (e = 0; e < 20; e++) {
		t += SEC;
		kab_policy_host_event(&params, NULL, pv, nr,
				      KAB_LEVEL_CRITICAL, t);
		for (i = 0; i < REAL_VMS; i++)
			kab_policy_actual(&params, &vms[i],
					  vms[i].target_pages, t + SEC / 2);
	}
	for (i = 0; i < REAL_VMS; i++)
		sum += vms[i].target_pages;
	*fake_target = with_fake ? vms[REAL_VMS].target_pages : 0;
	return sum;
}

static bool test_fake_registration_does_not_starve_real_vms(void)
{
	u64 honest, real, fake, ignored;

	kab_policy_defaults(&params);
	honest = real_vms_inflation(false, &ignored);
	real = real_vms_inflation(true, &fake);
	EXPECT(honest >= REAL_VMS * 20ULL * 65536,
	       "without the fake only %" PRIu64 " MiB", honest >> 8);
	EXPECT(real == honest, "real VMs got %" PRIu64 " MiB, %" PRIu64
	       " MiB without the fake", real >> 8, honest >> 8);
	EXPECT(fake <= params.max_step_pages,
	       "the fake took %" PRIu64 " MiB", fake >> 8);
	return true;
}

static bool test_blind_alone_takes_blind_step(void)
{
	struct kab_policy_vm vm;

	defaults_no_timers();
	params.blind_step_percent = 50;
	vm = mkvm(200000, 1000, 200000, 1);
	host1(&vm, KAB_LEVEL_CRITICAL, T0);
	EXPECT_U64(vm.target_pages, 200000 * params.max_step_percent / 100 / 2);
	params.blind_step_percent = 0;
	EXPECT_U64(host1(&vm, KAB_LEVEL_CRITICAL, T0 + SEC), 0);
	return true;
}

static bool test_relax_waits_for_host_available(void)
{
	struct kab_policy_vm vm;
	struct kab_policy_host h = host_at(0);
	int i;

	defaults_no_timers();
	params.relax_after_ms = 30000;
	vm = mkvm(1 << 20, 1 << 16, 1 << 20, 1);
	for (i = 0; i < 20; i++)
		host1(&vm, KAB_LEVEL_MEDIUM, T0);
	EXPECT(!kab_policy_tick(&params, &h, &vm, T0 + 60 * SEC),
	       "relaxed with the host short of memory");
	/* At host_available_percent, but under the headroom (20 %). */
	h = host_at(262144 / 10);
	EXPECT(!kab_policy_tick(&params, &h, &vm, T0 + 61 * SEC),
	       "relaxed under the host's headroom");
	h = host_at(262144 / 5);
	EXPECT(kab_policy_tick(&params, &h, &vm, T0 + 62 * SEC),
	       "no relax with the host at its headroom");
	/* Without headroom, host_available_percent alone holds it. */
	params.host_headroom_percent = 0;
	h = host_at(262144 / 10);
	EXPECT(kab_policy_tick(&params, &h, &vm, T0 + 63 * SEC),
	       "no relax with the host at its target, headroom off");
	return true;
}

static unsigned int headroom(const struct kab_policy_host *h,
			     struct kab_policy_vm **vms, unsigned int nr,
			     u64 now)
{
	return kab_policy_headroom(&params, h, vms, nr, now);
}

/*
 * Under its headroom the host takes the gap from the guests' free memory
 * above need + reserve, before any host event; never their page cache.
 */
static bool test_headroom_takes_free_memory_only(void)
{
	struct kab_policy_vm vm, *one = &vm;
	/* 6000 pages under a headroom of 20 % of 262144. */
	struct kab_policy_host h = host_at(262144 / 5 - 6000);

	defaults_no_timers();
	no_caps();
	/* Lots free: the gap, exactly. */
	vm = mksighted(120000, 100000, 20000, 1);
	EXPECT_U64(headroom(&h, &one, 1, T0 + SEC), 1);
	EXPECT_U64(vm.target_pages, 6000);
	EXPECT_U64(vm.reason, KAB_REASON_HEADROOM);
	/* In flight, it counts: nothing more until the balloon follows. */
	EXPECT_U64(headroom(&h, &one, 1, T0 + 2 * SEC), 0);
	/* Followed, the host no better off (the pages were free): more. */
	kab_policy_actual(&params, &vm, 6000, T0 + 2 * SEC);
	EXPECT_U64(headroom(&h, &one, 1, T0 + 3 * SEC), 1);
	EXPECT_U64(vm.target_pages, 12000);

	/* Page cache only, free at the watermark: nothing, whatever the gap. */
	h = host_at(0);
	vm = mksighted(120000, 1212, 118788, 1);
	EXPECT_U64(headroom(&h, &one, 1, T0 + SEC), 0);
	EXPECT_U64(vm.target_pages, 0);
	/* Some free: only what is above the watermark (1212). */
	vm = mksighted(120000, 11212, 108788, 1);
	EXPECT_U64(headroom(&h, &one, 1, T0 + SEC), 1);
	EXPECT_U64(vm.target_pages, 10000);
	return true;
}

static bool test_headroom_off_or_met_or_unmeasured(void)
{
	struct kab_policy_vm vm, *one = &vm;
	struct kab_policy_host h = host_at(262144 / 5);

	defaults_no_timers();
	no_caps();
	vm = mksighted(120000, 100000, 20000, 1);
	EXPECT_U64(headroom(&h, &one, 1, T0 + SEC), 0);
	EXPECT_U64(headroom(NULL, &one, 1, T0 + SEC), 0);
	h = (struct kab_policy_host){ 0 };
	EXPECT_U64(headroom(&h, &one, 1, T0 + SEC), 0);
	h = host_at(0);
	params.host_headroom_percent = 0;
	EXPECT_U64(headroom(&h, &one, 1, T0 + SEC), 0);
	EXPECT_U64(vm.target_pages, 0);
	return true;
}

/*
 * Headroom is no host pressure: a blind VM waits for real pressure, a
 * growing guest keeps its free memory, and the pacing and blocking of low
 * host pressure apply.
 */
static bool test_headroom_spares_blind_growing_and_paced(void)
{
	struct kab_policy_vm vm, blind, *two[2] = { &vm, &blind };
	struct kab_policy_host h = host_at(0);
	u64 step = G_TOTAL / 100;

	defaults_no_timers();
	no_caps();
	blind = mkvm(G_TOTAL, G_FLOOR, G_TOTAL, 1);
	kab_policy_actual(&params, &blind, blind.target_pages, T0);
	vm = mksighted(120000, 100000, 20000, 1);
	EXPECT_U64(headroom(&h, two, 2, T0 + SEC), 1);
	EXPECT_U64(blind.target_pages, 0);
	/* All of the gap (20 % of the host) to the VM that can spare it. */
	EXPECT_U64(vm.target_pages, 262144 / 5);

	/*
	 * Growing: its use rose by two steps out of free memory. Host
	 * pressure leaves it its free memory; headroom takes what is above
	 * need + reserve + one more rise.
	 */
	params.grow_percent = 1;
	params.grow_hold_ms = 5000;
	/* A big host far under its headroom: the VM's limits bind. */
	h = (struct kab_policy_host){ .total_pages = 1 << 20 };
	vm = mksighted(150000, 140000, 10000, 1);
	report(&vm, 150000 - 2 * step, 140000 - 2 * step, 10000, T0 + SEC);
	EXPECT_U64(headroom(&h, two, 1, T0 + 2 * SEC), 1);
	EXPECT_U64(vm.target_pages, G_TOTAL - vm.need_pages - reserve_of(&vm) -
		   2 * step);
	vm = mksighted(150000, 140000, 10000, 1);
	report(&vm, 150000 - 2 * step, 140000 - 2 * step, 10000, T0 + SEC);
	params.host_available_percent = 20;
	EXPECT_U64(hostev(&h, two, 1, KAB_LEVEL_LOW, T0 + 2 * SEC), 1);
	EXPECT_U64(vm.target_pages, 10000 - G_TOTAL * 5 / 100);
	params.host_available_percent = 10;
	params.grow_percent = 0;
	h = host_at(0);

	/* Paced: at most once per cooldown_ms. */
	params.cooldown_ms = 1000;
	params.max_step_pages = 1000;
	vm = mksighted(120000, 100000, 20000, 1);
	EXPECT_U64(headroom(&h, two, 1, T0 + SEC), 1);
	kab_policy_actual(&params, &vm, vm.target_pages, T0 + SEC);
	EXPECT_U64(headroom(&h, two, 1, T0 + SEC + SEC / 2), 0);
	EXPECT_U64(headroom(&h, two, 1, T0 + 2 * SEC + 1), 1);
	EXPECT_U64(vm.target_pages, 2000);

	/*
	 * A VMM that has not reported the balloon's size yet (the balloon
	 * never moved): its fresh figures count, for one capped inflation.
	 */
	params.cooldown_ms = 0;
	blind = mkvm(G_TOTAL, G_FLOOR, G_TOTAL, 1);
	report(&blind, 120000, 100000, 20000, T0);
	EXPECT_U64(headroom(&h, &two[1], 1, T0 + SEC), 1);
	EXPECT_U64(blind.target_pages, 1000);
	EXPECT_U64(headroom(&h, &two[1], 1, T0 + 2 * SEC), 0);
	kab_policy_actual(&params, &blind, 1000, T0 + 2 * SEC);
	report(&blind, 119000, 99000, 20000, T0 + 2 * SEC);
	EXPECT_U64(headroom(&h, &two[1], 1, T0 + 3 * SEC), 1);
	EXPECT_U64(blind.target_pages, 2000);
	params.cooldown_ms = 1000;

	/* Blocked after a deflation for critical guest pressure. */
	params.block_after_critical_ms = 10000;
	EXPECT(kab_policy_guest_event(&params, &vm, KAB_LEVEL_CRITICAL, 1,
				      T0 + 3 * SEC), "no deflation");
	EXPECT_U64(headroom(&h, two, 1, T0 + 5 * SEC), 0);
	return true;
}

struct policy_test {
	const char *name;
	bool (*fn)(void);
};

/* The name without its "test_" prefix. */
#define TEST(fn) { &#fn[5], fn }

static const struct policy_test tests[] = {
	TEST(test_tunables_table),
	TEST(test_init_target_is_total_minus_ceiling),
	TEST(test_init_rejects_inconsistent_limits),
	TEST(test_host_pressure_inflates_by_step_per_level),
	TEST(test_guest_pressure_deflates_by_step_per_level),
	TEST(test_target_never_crosses_floor_or_ceiling),
	TEST(test_bad_levels_and_empty_events_are_ignored),
	TEST(test_rule_guest_critical_wins_unless_host_critical),
	TEST(test_rule_guest_low_never_stops_a_pressured_host),
	TEST(test_rule_guest_medium_vs_host),
	TEST(test_rule_host_level_expires_after_host_hold),
	TEST(test_rule_host_inflates_less_when_guest_low),
	TEST(test_rule_host_never_inflates_guest_medium_or_critical),
	TEST(test_rule_guest_level_expires_after_guest_hold),
	TEST(test_spread_by_weight),
	TEST(test_spread_by_room_to_floor),
	TEST(test_spread_skips_vm_at_floor_and_guest_under_pressure),
	TEST(test_spread_guest_low_gets_reduced_share),
	TEST(test_spread_never_overflows_with_huge_vms),
	TEST(test_step_cap_absolute),
	TEST(test_step_cap_percent_of_size),
	TEST(test_min_change_skips_small_shares_not_whole_steps),
	TEST(test_cooldown_paces_inflation_except_host_critical),
	TEST(test_hysteresis_inflation_stops_below_pressure_mark),
	TEST(test_block_deflate_after_inflate_unless_critical),
	TEST(test_block_inflate_after_guest_deflate),
	TEST(test_block_inflate_after_critical_except_host_critical),
	TEST(test_block_defaults_follow_chromeos_split),
	TEST(test_hold_stops_inflation_in_flight),
	TEST(test_no_push_while_balloon_lags),
	TEST(test_no_rechase_after_deflate),
	TEST(test_stall_backs_off_and_marks_uncooperative),
	TEST(test_stall_not_declared_while_balloon_moves),
	TEST(test_guest_hint_rate_limit_counts_dropped),
	TEST(test_guest_hint_rate_limit_follows_tunable_changes),
	TEST(test_relax_after_host_quiet),
	TEST(test_zero_timers_give_deterministic_steps),
	TEST(test_invariants_under_random_events),
	TEST(test_guest_figures_init_and_age),
	TEST(test_need_follows_peak_up_fast_down_slow),
	TEST(test_need_uses_committed_when_larger),
	TEST(test_never_inflate_past_need_plus_reserve),
	TEST(test_spare_limit_is_where_inflation_stops),
	TEST(test_critical_host_pressure_no_longer_goes_to_floor),
	TEST(test_free_first_then_cache_never_anon),
	TEST(test_host_deficit_sizes_inflation),
	TEST(test_step_caps_bound_the_deficit_share),
	TEST(test_deflate_at_once_below_reserve),
	TEST(test_growing_guest_is_not_inflated),
	TEST(test_growing_guest_gives_cache_only),
	TEST(test_reserve_counts_the_rise),
	TEST(test_stale_figures_still_bound),
	TEST(test_stock_driver_figures_alone),
	TEST(test_stale_or_missing_figures_are_blind),
	TEST(test_blind_never_gets_more_than_sighted),
	TEST(test_never_actual_does_not_absorb_pool),
	TEST(test_never_actual_gets_one_inflation),
	TEST(test_fake_registration_does_not_starve_real_vms),
	TEST(test_blind_alone_takes_blind_step),
	TEST(test_relax_waits_for_host_available),
	TEST(test_headroom_takes_free_memory_only),
	TEST(test_headroom_off_or_met_or_unmeasured),
	TEST(test_headroom_spares_blind_growing_and_paced),
};

int main(void)
{
	unsigned int i, failed = 0;

	printf("TAP version 13\n1..%zu\n", ARRAY_SIZE(tests));
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		bool ok = tests[i].fn();

		printf("%sok %u %s\n", ok ? "" : "not ", i + 1, tests[i].name);
		failed += !ok;
	}
	return failed ? 1 : 0;
}
