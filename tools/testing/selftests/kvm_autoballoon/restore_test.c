// SPDX-License-Identifier: GPL-2.0
/*
 * KAB_VM_RESTORE: a guest that arrives with a balloon (incoming migration,
 * loadvm) and a guest that was reset (reboot, kexec). A restore adopts the
 * target and actual it is given, announces a moved target like any other
 * decision, and forgets the guest's figures; a reset reports actual 0,
 * forgets the figures and keeps the target. Bad arguments are in
 * bad_input_test.c.
 */
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

/* Limits of the test VM: targets from total - ceiling to total - floor. */
#define MIN_TARGET	(KAB_TEST_TOTAL - KAB_TEST_CEILING)
#define MAX_TARGET	(KAB_TEST_TOTAL - KAB_TEST_FLOOR)

FIXTURE(restore) {
	int dev;
	struct kab_test_vm vm;
	bool vm_made;
	struct kab_policy_snapshot policy;
	bool policy_saved;
};

FIXTURE_SETUP(restore)
{
	self->dev = -1;
	self->vm_made = false;
	KAB_REQUIRE_MODULE();
	self->dev = kab_dev_open();
	KAB_ASSERT_OK(self->dev, "open " KAB_DEV_PATH);
	/* No timer may move the target behind the test's back. */
	KAB_SETUP_POLICY(self);
	KAB_ASSERT_OK(kab_vm_create(self->dev, &self->vm, NULL, 0),
		      "KAB_CREATE_VM");
	self->vm_made = true;
}

FIXTURE_TEARDOWN(restore)
{
	if (self->vm_made)
		kab_vm_destroy(&self->vm);
	if (self->policy_saved)
		EXPECT_EQ(0, kab_policy_restore(&self->policy));
	if (self->dev >= 0)
		close(self->dev);
}

static int do_restore(int vm_fd, uint32_t flags, uint64_t target,
		      uint64_t actual)
{
	struct kab_restore r = {
		.size = sizeof(r),
		.flags = flags,
		.target_pages = target,
		.actual_pages = actual,
	};

	return (int)kab_sys(ioctl(vm_fd, KAB_VM_RESTORE, &r));
}

/* The guest's figures are in sysfs; after a restore or reset they are not. */
static void check_figures_forgotten(struct __test_metadata *_metadata,
				    uint32_t id, const char *what)
{
	char buf[32];

	KAB_EXPECT_OK(kab_vm_sysfs_read(id, "guest_total_pages", buf,
					sizeof(buf)), "guest_total_pages");
	EXPECT_STREQ("unknown", buf)
		TH_LOG("%s: guest_total_pages still %s, the old guest's", what,
		       buf);
}

static void give_figures(struct __test_metadata *_metadata,
			 struct kab_test_vm *vm)
{
	struct kab_guest_stats gs;
	char buf[32];
	int i;

	kab_guest_stats_defaults(&gs);
	KAB_ASSERT_OK(kab_set_guest_stats(vm->fd, &gs),
		      "KAB_VM_SET_GUEST_STATS");
	/* The update reaches sysfs at once; its work item may come later. */
	for (i = 0; i < KAB_WAIT_MS / 10; i++) {
		KAB_ASSERT_OK(kab_vm_sysfs_read(vm->id, "guest_total_pages",
						buf, sizeof(buf)),
			      "guest_total_pages");
		if (strcmp(buf, "unknown"))
			break;
		kab_sleep_ms(10);
	}
	ASSERT_STRNE("unknown", buf);
}

/* The balloon of an incoming guest becomes the VM's, and is announced. */
TEST_F(restore, adopts_target_and_actual)
{
	struct kab_vm_stats s;
	struct kab_target t;
	char reason[32];
	uint64_t seq;

	KAB_BAIL_IF_SKIPPED();
	give_figures(_metadata, &self->vm);
	ASSERT_EQ(0, kab_get_target(self->vm.fd, &t));
	seq = t.seq;

	KAB_ASSERT_OK(do_restore(self->vm.fd, 0, MIN_TARGET + 5000, 4000),
		      "KAB_VM_RESTORE target min + 5000, actual 4000");
	EXPECT_EQ(0, kab_wait_target_signal(&self->vm, seq + 1, KAB_WAIT_MS,
					    &t))
		TH_LOG("no target signal after a restore that moved the target");
	EXPECT_EQ(MIN_TARGET + 5000, t.target_pages);
	EXPECT_EQ(seq + 1, t.seq);
	EXPECT_EQ(KAB_REASON_RESTORE, t.reason);
	ASSERT_EQ(0, kab_get_stats(self->vm.fd, &s));
	EXPECT_EQ(4000, s.actual_pages);
	EXPECT_EQ(MIN_TARGET + 5000, s.target_pages);
	KAB_EXPECT_OK(kab_vm_sysfs_read(self->vm.id, "last_reason", reason,
					sizeof(reason)), "last_reason");
	EXPECT_STREQ("restore", reason);
	check_figures_forgotten(_metadata, self->vm.id, "restore");

	/* Both limits are valid targets. */
	KAB_EXPECT_OK(do_restore(self->vm.fd, 0, MAX_TARGET, KAB_TEST_TOTAL),
		      "restore at total - floor, actual total");
	KAB_EXPECT_OK(do_restore(self->vm.fd, 0, MIN_TARGET, 0),
		      "restore at total - ceiling, actual 0");
	ASSERT_EQ(0, kab_get_target(self->vm.fd, &t));
	EXPECT_EQ(MIN_TARGET, t.target_pages);
	EXPECT_EQ(seq + 3, t.seq);
}

/* The target it already has: nothing to announce, the actual is taken. */
TEST_F(restore, same_target_no_new_seq)
{
	struct kab_vm_stats s;
	struct kab_target t;
	uint64_t count;

	KAB_BAIL_IF_SKIPPED();
	ASSERT_EQ(0, kab_get_target(self->vm.fd, &t));
	KAB_ASSERT_OK(do_restore(self->vm.fd, 0, t.target_pages, 777),
		      "restore at the current target");
	ASSERT_EQ(0, kab_get_stats(self->vm.fd, &s));
	EXPECT_EQ(t.seq, s.target_seq);
	EXPECT_EQ(777, s.actual_pages);
	EXPECT_EQ(-EAGAIN, kab_eventfd_drain(self->vm.target_efd, &count))
		TH_LOG("the target eventfd fired for an unchanged target");
}

/* A reset: actual 0, the guest forgotten, the target and its seq kept. */
TEST_F(restore, reset_keeps_target)
{
	struct kab_vm_stats s;
	struct kab_target t, t2;
	uint64_t count;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(do_restore(self->vm.fd, 0, MIN_TARGET + 9000, 0),
		      "restore a target to keep");
	ASSERT_EQ(0, kab_wait_target_signal(&self->vm, 2, KAB_WAIT_MS, &t));
	KAB_ASSERT_OK(kab_set_actual(self->vm.fd, 6000), "actual 6000");
	give_figures(_metadata, &self->vm);

	KAB_ASSERT_OK(do_restore(self->vm.fd, KAB_RESTORE_RESET, 0, 0),
		      "KAB_VM_RESTORE reset");
	ASSERT_EQ(0, kab_get_stats(self->vm.fd, &s));
	EXPECT_EQ(0, s.actual_pages)
		TH_LOG("a reset guest has given nothing to its balloon");
	ASSERT_EQ(0, kab_get_target(self->vm.fd, &t2));
	EXPECT_EQ(t.target_pages, t2.target_pages);
	EXPECT_EQ(t.seq, t2.seq);
	EXPECT_EQ(-EAGAIN, kab_eventfd_drain(self->vm.target_efd, &count))
		TH_LOG("a reset announced a target");
	check_figures_forgotten(_metadata, self->vm.id, "reset");

	/* The driver comes back and inflates: actual is taken as before. */
	KAB_EXPECT_OK(kab_set_actual(self->vm.fd, 9000), "actual after reset");
	ASSERT_EQ(0, kab_get_stats(self->vm.fd, &s));
	EXPECT_EQ(9000, s.actual_pages);
}

TEST_HARNESS_MAIN
