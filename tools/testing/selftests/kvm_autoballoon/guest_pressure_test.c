// SPDX-License-Identifier: GPL-2.0
/*
 * A signal on a guest-pressure eventfd lowers the target (deflates), counts
 * as a guest event of its level, fires the target eventfd, and never takes
 * the target below total - ceiling.
 *
 * The target starts at its lowest (total - ceiling), so each test first
 * raises it with injected host pressure. Every time-based policy tunable is
 * set to 0 first, so each event is one deterministic policy step.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

static const char *level_name(unsigned int i)
{
	static const char * const names[KAB_NR_LEVELS] = {
		"low", "medium", "critical",
	};

	return i < KAB_NR_LEVELS ? names[i] : "?";
}

FIXTURE(gp) {
	int dev;
	struct kab_policy_snapshot policy;
	bool policy_saved;
	struct kab_test_vm vm;
	bool have_vm;
};

FIXTURE_VARIANT(gp) {
	unsigned int level;
};

FIXTURE_VARIANT_ADD(gp, low) { .level = KAB_LEVEL_LOW };
FIXTURE_VARIANT_ADD(gp, medium) { .level = KAB_LEVEL_MEDIUM };
FIXTURE_VARIANT_ADD(gp, critical) { .level = KAB_LEVEL_CRITICAL };

FIXTURE_SETUP(gp)
{
	struct kab_create_vm req;

	self->dev = -1;
	KAB_REQUIRE_MODULE();
	self->dev = kab_dev_open();
	KAB_ASSERT_OK(self->dev, "open " KAB_DEV_PATH);
	KAB_SETUP_POLICY(self);

	/* A small VM: the target moves within [0, 200] pages. */
	kab_create_vm_defaults(&req);
	req.total_pages = 10000;
	req.floor_pages = 9800;
	req.ceiling_pages = 10000;
	KAB_ASSERT_OK(kab_vm_create(self->dev, &self->vm, &req,
				    KAB_VM_PRESSURE_FDS), "create");
	self->have_vm = true;
}

FIXTURE_TEARDOWN(gp)
{
	if (self->have_vm)
		kab_vm_destroy(&self->vm);
	if (self->policy_saved)
		EXPECT_EQ(0, kab_policy_restore(&self->policy));
	if (self->dev >= 0)
		close(self->dev);
}

/* Wait until the VM has counted @want guest events at @level. */
static int wait_guest_events(int vm_fd, unsigned int level, uint64_t want,
			     struct kab_vm_stats *s)
{
	uint64_t deadline = kab_now_ns() + KAB_WAIT_MS * 1000000ull;
	int ret;

	for (;;) {
		ret = kab_get_stats(vm_fd, s);
		if (ret)
			return ret;
		if (s->guest_events[level - 1] >= want)
			return 0;
		if (kab_now_ns() > deadline)
			return -ETIMEDOUT;
		kab_sleep_ms(2);
	}
}

/*
 * Raise the target with host pressure until it is at least @min. The VMM
 * reports that the balloon followed each step, as an honest one does: one
 * that never reports gets a single inflation.
 */
static int raise_target(struct kab_test_vm *vm, uint64_t min,
			struct kab_target *t)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < 1000; i++) {
		ret = kab_get_target(vm->fd, t);
		if (!ret)
			ret = kab_set_actual(vm->fd, t->target_pages);
		if (ret || t->target_pages >= min)
			break;
		ret = kab_inject(KAB_LEVEL_CRITICAL, vm->id);
		if (ret)
			return ret;
	}
	if (!ret && t->target_pages < min)
		return -ERANGE;
	/* Let the signal of the last change arrive and consume it. */
	if (!ret)
		ret = kab_wait_target_signal(vm, t->seq, KAB_WAIT_MS, t);
	return ret;
}

TEST_F(gp, lowers_target)
{
	unsigned int l = variant->level - 1, i;
	struct kab_test_vm *vm = &self->vm;
	struct kab_target before, t;
	struct kab_vm_stats s;
	char reason[32], file[64];
	uint64_t cnt, val;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(raise_target(vm, 200, &before),
		      "raise the target to the top with host pressure");

	KAB_ASSERT_OK(kab_eventfd_signal(vm->pressure_efd[l], 1),
		      "signal the guest-pressure eventfd");
	KAB_ASSERT_OK(kab_wait_target_signal(vm, before.seq + 1, KAB_WAIT_MS,
					     &t),
		      "target eventfd, then a new seq, after guest pressure");
	EXPECT_EQ(before.seq + 1, t.seq);
	EXPECT_GT(before.target_pages, t.target_pages)
		TH_LOG("guest pressure %s did not lower the target",
		       level_name(l));
	EXPECT_EQ(KAB_REASON_GUEST_PRESSURE, t.reason);

	ASSERT_EQ(0, kab_get_stats(vm->fd, &s));
	for (i = 0; i < KAB_NR_LEVELS; i++)
		EXPECT_EQ(i == l ? 1 : 0, s.guest_events[i])
			TH_LOG("guest_events[%s]", level_name(i));
	EXPECT_EQ(1, s.deflations);
	EXPECT_EQ(0, s.guest_events_dropped);

	snprintf(file, sizeof(file), "guest_events_%s", level_name(l));
	EXPECT_EQ(0, kab_vm_sysfs_read_u64(vm->id, file, &val));
	EXPECT_EQ(1, val);
	EXPECT_EQ(0, kab_vm_sysfs_read(vm->id, "last_reason", reason,
				       sizeof(reason)));
	EXPECT_STREQ("guest_pressure", reason);

	/* The module consumed the guest's count: the eventfd is quiet. */
	KAB_EXPECT_ERR(EAGAIN, kab_eventfd_drain(vm->pressure_efd[l], &cnt),
		       "read of the guest-pressure eventfd after it was handled");
}

/* At total - ceiling already, guest pressure is counted but moves nothing. */
TEST_F(gp, at_bottom)
{
	struct kab_test_vm *vm = &self->vm;
	struct kab_vm_stats s;
	struct kab_target t;
	uint64_t cnt;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_eventfd_signal(vm->pressure_efd[variant->level - 1],
					 1), "signal");
	KAB_ASSERT_OK(wait_guest_events(vm->fd, variant->level, 1, &s),
		      "wait for the guest event to be counted");
	ASSERT_EQ(0, kab_get_target(vm->fd, &t));
	EXPECT_EQ(0, t.target_pages);
	EXPECT_EQ(1, t.seq);
	EXPECT_EQ(0, s.deflations);
	EXPECT_EQ(-ETIMEDOUT, kab_eventfd_wait(vm->target_efd, 300, &cnt))
		TH_LOG("the target eventfd fired, the target did not move");
}

/* Deflate event by event: down to total - ceiling, never past it. */
TEST_F_TIMEOUT(gp, never_past_ceiling, 300)
{
	unsigned int level = variant->level;
	struct kab_test_vm *vm = &self->vm;
	struct kab_vm_stats s;
	struct kab_target t;
	uint64_t prev, n;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(raise_target(vm, 200, &t), "raise the target");
	prev = t.target_pages;

	for (n = 1; n <= 1000 && prev > 0; n++) {
		KAB_ASSERT_OK(kab_eventfd_signal(vm->pressure_efd[level - 1],
						 1), "signal");
		KAB_ASSERT_OK(wait_guest_events(vm->fd, level, n, &s),
			      "wait for the guest event");
		ASSERT_EQ(n, s.guest_events[level - 1])
			TH_LOG("events were merged or lost");
		ASSERT_EQ(0, kab_get_target(vm->fd, &t));
		ASSERT_GE(prev, t.target_pages)
			TH_LOG("guest pressure raised the target");
		prev = t.target_pages;
	}
	EXPECT_EQ(0, prev)
		TH_LOG("%" PRIu64 " guest events left the target at %" PRIu64,
		       n - 1, prev);

	/* More pressure at the bottom changes nothing. */
	ASSERT_EQ(0, kab_get_target(vm->fd, &t));
	KAB_ASSERT_OK(kab_eventfd_signal(vm->pressure_efd[level - 1], 1),
		      "signal");
	KAB_ASSERT_OK(wait_guest_events(vm->fd, level, n, &s), "wait");
	EXPECT_EQ(0, s.target_pages);
	EXPECT_EQ(t.seq, s.target_seq);
	EXPECT_EQ(s.deflations + s.inflations + 1, s.target_seq);
}

/* Host pressure up, guest pressure down, host again: the target follows. */
TEST_F(gp, tug_of_war)
{
	struct kab_test_vm *vm = &self->vm;
	unsigned int l = variant->level - 1, round;
	struct kab_target t0, t1, t2;
	struct kab_vm_stats s;

	KAB_BAIL_IF_SKIPPED();
	for (round = 1; round <= 5; round++) {
		ASSERT_EQ(0, kab_get_target(vm->fd, &t0));
		KAB_ASSERT_OK(kab_inject(KAB_LEVEL_CRITICAL, vm->id), "inject");
		KAB_ASSERT_OK(kab_wait_target_signal(vm, t0.seq + 1,
						     KAB_WAIT_MS, &t1),
			      "eventfd after host pressure");
		EXPECT_LT(t0.target_pages, t1.target_pages) TH_LOG("round %u", round);
		KAB_ASSERT_OK(kab_set_actual(vm->fd, t1.target_pages),
			      "the balloon follows");

		KAB_ASSERT_OK(kab_eventfd_signal(vm->pressure_efd[l], 1),
			      "signal");
		KAB_ASSERT_OK(kab_wait_target_signal(vm, t1.seq + 1,
						     KAB_WAIT_MS, &t2),
			      "eventfd after guest pressure");
		EXPECT_GT(t1.target_pages, t2.target_pages) TH_LOG("round %u", round);
		EXPECT_EQ(t0.seq + 2, t2.seq);
	}
	ASSERT_EQ(0, kab_get_stats(vm->fd, &s));
	EXPECT_EQ(5, s.guest_events[l]);
	EXPECT_EQ(5, s.host_events[KAB_LEVEL_CRITICAL - 1]);
	EXPECT_EQ(5, s.inflations);
	EXPECT_EQ(5, s.deflations);
}

/*
 * Guest hints are rate limited: guest_hint_burst at once, then one per
 * guest_hint_interval_ms; the rest are counted as dropped and change
 * nothing. With an hour between hints, a burst of 2 lets 2 of 5 through.
 */
TEST_F(gp, rate_limited)
{
	unsigned int level = variant->level;
	struct kab_create_vm req;
	struct kab_test_vm vm;
	struct kab_vm_stats s;
	struct kab_target t;
	uint64_t dropped;
	unsigned int n;

	KAB_BAIL_IF_SKIPPED();
	if (!kab_sysfs_exists("policy/guest_hint_interval_ms") ||
	    !kab_sysfs_exists("policy/guest_hint_burst"))
		SKIP(return, "rate_limited: no guest hint rate limit tunables");
	/* A large VM raised well up: five steps down cannot reach the floor. */
	kab_create_vm_defaults(&req);
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, &req, KAB_VM_PRESSURE_FDS),
		      "create");
	KAB_ASSERT_OK(raise_target(&vm, KAB_TEST_TOTAL / 2, &t),
		      "raise the target");
	KAB_ASSERT_OK(kab_sysfs_write("policy/guest_hint_interval_ms",
				      "3600000"), "guest_hint_interval_ms");
	KAB_ASSERT_OK(kab_sysfs_write("policy/guest_hint_burst", "2"),
		      "guest_hint_burst");

	for (n = 1; n <= 5; n++) {
		KAB_ASSERT_OK(kab_eventfd_signal(vm.pressure_efd[level - 1], 1),
			      "signal");
		KAB_ASSERT_OK(wait_guest_events(vm.fd, level, n, &s),
			      "wait for the guest event");
	}
	EXPECT_EQ(5, s.guest_events[level - 1]);
	EXPECT_EQ(3, s.guest_events_dropped)
		TH_LOG("5 hints with a burst of 2 and an hour between hints");
	EXPECT_LE(1, s.deflations);
	EXPECT_GE(2, s.deflations) TH_LOG("a dropped hint deflated");
	EXPECT_EQ(0, kab_vm_sysfs_read_u64(vm.id, "guest_events_dropped",
					   &dropped));
	EXPECT_EQ(3, dropped);
	kab_vm_destroy(&vm);
}

KAB_TEST_MAIN
