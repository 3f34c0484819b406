// SPDX-License-Identifier: GPL-2.0
/*
 * Injected host pressure raises the target (inflates), announces it on the
 * target eventfd, reaches exactly total - floor and never goes past it,
 * and touches only the VMs it is aimed at.
 *
 * Every time-based policy tunable is set to 0 first, so each injection is
 * one deterministic policy step.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
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

FIXTURE(hp) {
	int dev;
	struct kab_policy_snapshot policy;
	bool policy_saved;
};

FIXTURE_VARIANT(hp) {
	unsigned int level;
};

FIXTURE_VARIANT_ADD(hp, low) { .level = KAB_LEVEL_LOW };
FIXTURE_VARIANT_ADD(hp, medium) { .level = KAB_LEVEL_MEDIUM };
FIXTURE_VARIANT_ADD(hp, critical) { .level = KAB_LEVEL_CRITICAL };

FIXTURE_SETUP(hp)
{
	self->dev = -1;
	KAB_REQUIRE_MODULE();
	self->dev = kab_dev_open();
	KAB_ASSERT_OK(self->dev, "open " KAB_DEV_PATH);
	KAB_SETUP_POLICY(self);
}

FIXTURE_TEARDOWN(hp)
{
	if (self->policy_saved)
		EXPECT_EQ(0, kab_policy_restore(&self->policy));
	if (self->dev >= 0)
		close(self->dev);
}

/* A small VM: the whole range is [0, 200] pages, reached in few steps. */
static void small_vm_req(struct kab_create_vm *req)
{
	kab_create_vm_defaults(req);
	req->total_pages = 10000;
	req->floor_pages = 9800;
	req->ceiling_pages = 10000;
}

TEST_F(hp, one_injection)
{
	unsigned int l = variant->level - 1, i;
	struct kab_test_vm vm;
	struct kab_vm_stats s;
	struct kab_target t;
	char reason[32], file[64];
	uint64_t val;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, 0), "create");
	KAB_ASSERT_OK(kab_inject(variant->level, vm.id), "inject");

	/* Once the eventfd fired, the new target must be readable. */
	KAB_ASSERT_OK(kab_wait_target_signal(&vm, 2, KAB_WAIT_MS, &t),
		      "target eventfd, then seq 2, after the injection");
	EXPECT_EQ(2, t.seq);
	EXPECT_LT(KAB_TEST_TOTAL - KAB_TEST_CEILING, t.target_pages)
		TH_LOG("host pressure %s did not raise the target", level_name(l));
	EXPECT_GE(KAB_TEST_TOTAL - KAB_TEST_FLOOR, t.target_pages)
		TH_LOG("target above total - floor");
	EXPECT_EQ(KAB_REASON_HOST_PRESSURE, t.reason);

	ASSERT_EQ(0, kab_get_stats(vm.fd, &s));
	for (i = 0; i < KAB_NR_LEVELS; i++)
		EXPECT_EQ(i == l ? 1 : 0, s.host_events[i])
			TH_LOG("host_events[%s]", level_name(i));
	EXPECT_EQ(1, s.inflations);
	EXPECT_EQ(0, s.deflations);
	EXPECT_EQ(t.target_pages, s.target_pages);

	snprintf(file, sizeof(file), "host_events_%s", level_name(l));
	EXPECT_EQ(0, kab_vm_sysfs_read_u64(vm.id, file, &val));
	EXPECT_EQ(1, val);
	EXPECT_EQ(0, kab_vm_sysfs_read(vm.id, "last_reason", reason,
				       sizeof(reason)));
	EXPECT_STREQ("host_pressure", reason);
	kab_vm_destroy(&vm);
}

/* Inject until the target stops; it must stop exactly at total - floor. */
TEST_F_TIMEOUT(hp, never_past_floor, 300)
{
	struct kab_create_vm req;
	struct kab_test_vm vm;
	struct kab_vm_stats s;
	struct kab_target t;
	uint64_t prev, top, n = 0, changes = 0;
	unsigned int extra;

	KAB_BAIL_IF_SKIPPED();
	small_vm_req(&req);
	top = req.total_pages - req.floor_pages;
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, &req, 0), "create");
	ASSERT_EQ(0, kab_get_target(vm.fd, &t));
	prev = t.target_pages;

	for (n = 0; n < 1000 && prev < top; ) {
		KAB_ASSERT_OK(kab_inject(variant->level, vm.id), "inject");
		n++;
		ASSERT_EQ(0, kab_get_target(vm.fd, &t));
		ASSERT_GE(top, t.target_pages)
			TH_LOG("injection %" PRIu64 ": target %" PRIu64 " above total - floor = %" PRIu64,
			       n, (uint64_t)t.target_pages, top);
		ASSERT_LE(prev, t.target_pages)
			TH_LOG("host pressure lowered the target");
		if (t.target_pages != prev)
			changes++;
		prev = t.target_pages;
	}
	EXPECT_EQ(top, prev)
		TH_LOG("%" PRIu64 " injections left the target at %" PRIu64 ", below total - floor = %" PRIu64,
		       n, prev, top);

	/* At the top, more pressure changes nothing. */
	ASSERT_EQ(0, kab_get_target(vm.fd, &t));
	for (extra = 0; extra < 20; extra++) {
		struct kab_target t2;

		KAB_ASSERT_OK(kab_inject(KAB_LEVEL_CRITICAL, vm.id), "inject");
		ASSERT_EQ(0, kab_get_target(vm.fd, &t2));
		EXPECT_EQ(top, t2.target_pages);
		EXPECT_EQ(t.seq, t2.seq) TH_LOG("seq moved at the top");
	}

	ASSERT_EQ(0, kab_get_stats(vm.fd, &s));
	/* n at the variant's level, and the 20 extra ones at critical. */
	if (variant->level != KAB_LEVEL_CRITICAL)
		EXPECT_EQ(n, s.host_events[variant->level - 1]);
	EXPECT_EQ(20 + (variant->level == KAB_LEVEL_CRITICAL ? n : 0),
		  s.host_events[KAB_LEVEL_CRITICAL - 1]);
	EXPECT_EQ(changes, s.inflations);
	EXPECT_EQ(changes + 1, s.target_seq)
		TH_LOG("seq must count the initial target and each change");
	kab_vm_destroy(&vm);
}

/* floor == ceiling leaves the policy no room at all. */
TEST_F(hp, fixed_size_vm)
{
	struct kab_create_vm req;
	struct kab_test_vm vm;
	struct kab_vm_stats s;
	struct kab_target t;
	unsigned int i;
	uint64_t cnt;

	KAB_BAIL_IF_SKIPPED();
	kab_create_vm_defaults(&req);
	req.floor_pages = 100000;
	req.ceiling_pages = 100000;
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, &req, 0), "create");
	for (i = 0; i < 3; i++)
		KAB_ASSERT_OK(kab_inject(variant->level, vm.id), "inject");
	ASSERT_EQ(0, kab_get_target(vm.fd, &t));
	EXPECT_EQ(req.total_pages - 100000, t.target_pages);
	EXPECT_EQ(1, t.seq);
	EXPECT_EQ(-ETIMEDOUT, kab_eventfd_wait(vm.target_efd, 300, &cnt))
		TH_LOG("the target eventfd fired, the target cannot move");
	ASSERT_EQ(0, kab_get_stats(vm.fd, &s));
	EXPECT_EQ(3, s.host_events[variant->level - 1]);
	EXPECT_EQ(0, s.inflations);
	kab_vm_destroy(&vm);
}

/* Host-wide pressure ("LEVEL" without an id) reaches every VM. */
TEST_F(hp, global_injection)
{
	struct kab_test_vm vm[3];
	struct kab_vm_stats s;
	struct kab_target t;
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	for (i = 0; i < 3; i++)
		KAB_ASSERT_OK(kab_vm_create(self->dev, &vm[i], NULL, 0),
			      "create");
	KAB_ASSERT_OK(kab_inject(variant->level, 0), "inject host-wide");
	for (i = 0; i < 3; i++) {
		KAB_EXPECT_OK(kab_wait_target_signal(&vm[i], 2, KAB_WAIT_MS,
						     &t),
			      "target eventfd of each VM");
		ASSERT_EQ(0, kab_get_stats(vm[i].fd, &s));
		EXPECT_EQ(1, s.host_events[variant->level - 1])
			TH_LOG("VM %u", i);
		EXPECT_EQ(2, s.target_seq) TH_LOG("VM %u", i);
		EXPECT_LT(KAB_TEST_TOTAL - KAB_TEST_CEILING, s.target_pages);
	}
	for (i = 0; i < 3; i++)
		kab_vm_destroy(&vm[i]);
}

/* "LEVEL VMID" touches that VM and no other. */
TEST_F(hp, targeted_injection)
{
	struct kab_test_vm a, b;
	struct kab_vm_stats s;
	struct kab_target t;
	unsigned int i;
	uint64_t cnt;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &a, NULL, 0), "create A");
	KAB_ASSERT_OK(kab_vm_create(self->dev, &b, NULL, 0), "create B");
	KAB_ASSERT_OK(kab_inject(variant->level, a.id), "inject for A");
	KAB_EXPECT_OK(kab_wait_target_signal(&a, 2, KAB_WAIT_MS, &t),
		      "A's target eventfd");
	ASSERT_EQ(0, kab_get_stats(b.fd, &s));
	EXPECT_EQ(1, s.target_seq) TH_LOG("B's target moved");
	for (i = 0; i < KAB_NR_LEVELS; i++)
		EXPECT_EQ(0, s.host_events[i]) TH_LOG("B counted A's pressure");
	KAB_EXPECT_ERR(EAGAIN, kab_eventfd_drain(b.target_efd, &cnt),
		       "B's target eventfd");
	kab_vm_destroy(&a);
	kab_vm_destroy(&b);
}

/*
 * Weight is the share of host-wide inflation a VM takes: under the same
 * global pressure, a heavier VM never gives up less than a lighter one of
 * the same size.
 */
TEST_F(hp, weight_orders_share)
{
	struct kab_create_vm req;
	struct kab_test_vm light, heavy;
	struct kab_target tl, th;

	KAB_BAIL_IF_SKIPPED();
	kab_create_vm_defaults(&req);
	req.weight = 1;
	KAB_ASSERT_OK(kab_vm_create(self->dev, &light, &req, 0), "light");
	req.weight = KAB_MAX_WEIGHT;
	KAB_ASSERT_OK(kab_vm_create(self->dev, &heavy, &req, 0), "heavy");
	KAB_ASSERT_OK(kab_inject(variant->level, 0), "inject host-wide");
	ASSERT_EQ(0, kab_get_target(light.fd, &tl));
	ASSERT_EQ(0, kab_get_target(heavy.fd, &th));
	EXPECT_LE(tl.target_pages, th.target_pages)
		TH_LOG("weight %u inflated to %" PRIu64 ", weight 1 to %" PRIu64,
		       KAB_MAX_WEIGHT, (uint64_t)th.target_pages,
		       (uint64_t)tl.target_pages);
	EXPECT_LT(KAB_TEST_TOTAL - KAB_TEST_CEILING, th.target_pages)
		TH_LOG("the heavy VM did not inflate at all");
	kab_vm_destroy(&light);
	kab_vm_destroy(&heavy);
}

/*
 * A balloon that does not follow an inflation is a stall: after stall_ms
 * (checked on the module's tick) the target falls back to the size the VMM
 * reported, with reason "stall", counted, and announced.
 */
TEST_F(hp, stall_falls_back_to_actual)
{
	struct kab_test_vm vm;
	struct kab_vm_stats s;
	struct kab_target t, t0;
	uint64_t old_tick, deadline;
	char text[32], reason[32];

	KAB_BAIL_IF_SKIPPED();
	if (!kab_sysfs_exists("policy/stall_ms") ||
	    !kab_sysfs_exists("tick_ms"))
		SKIP(return, "stall_falls_back_to_actual: no stall_ms or tick_ms");
	KAB_ASSERT_OK(kab_sysfs_read_u64("tick_ms", &old_tick), "tick_ms");
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, 0), "create");
	ASSERT_EQ(0, kab_get_target(vm.fd, &t0));
	/* The VMM reports a balloon at the initial target... */
	KAB_ASSERT_OK(kab_set_actual(vm.fd, t0.target_pages), "set actual");
	KAB_ASSERT_OK(kab_sysfs_write("policy/stall_ms", "100"), "stall_ms");
	KAB_ASSERT_OK(kab_sysfs_write("tick_ms", "10"), "tick_ms");
	/* ...and it stays there while the target goes up. */
	KAB_ASSERT_OK(kab_inject(variant->level, vm.id), "inject");
	ASSERT_EQ(0, kab_get_target(vm.fd, &t));
	ASSERT_LT(t0.target_pages, t.target_pages);

	deadline = kab_now_ns() + KAB_WAIT_MS * 1000000ull;
	do {
		kab_sleep_ms(20);
		ASSERT_EQ(0, kab_get_stats(vm.fd, &s));
	} while (!s.stalls && kab_now_ns() < deadline);
	EXPECT_EQ(1, s.stalls) TH_LOG("no stall detected in %d ms", KAB_WAIT_MS);
	EXPECT_EQ(t0.target_pages, s.target_pages)
		TH_LOG("after the stall the target must be the reported size");
	EXPECT_EQ(KAB_REASON_STALL, s.last_reason);
	EXPECT_EQ(0, kab_vm_sysfs_read(vm.id, "last_reason", reason,
				       sizeof(reason)));
	EXPECT_STREQ("stall", reason);
	EXPECT_EQ(0, kab_wait_target_signal(&vm, t.seq + 1, KAB_WAIT_MS, &t))
		TH_LOG("the fall-back was not announced");

	snprintf(text, sizeof(text), "%" PRIu64, old_tick);
	EXPECT_EQ(0, kab_sysfs_write("tick_ms", text));
	kab_vm_destroy(&vm);
}

/*
 * The host pressure response runs on a WQ_MEM_RECLAIM workqueue, which has
 * a rescuer: a kernel thread named after the queue ("kvm_autoballoon" on
 * 6.1, "kworker/R-kvm_autoballoon" in /proc/PID/comm on 6.12).
 */
TEST(reclaim_rescuer)
{
	char path[300], comm[64];
	struct dirent *de;
	bool found = false;
	DIR *proc;
	FILE *f;

	KAB_REQUIRE_MODULE();
	proc = opendir("/proc");
	ASSERT_NE(NULL, proc);
	while (!found && (de = readdir(proc))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f))
			found = !strcmp(comm, "kvm_autoballoon\n") ||
				!strcmp(comm, "kworker/R-kvm_autoballoon\n");
		fclose(f);
	}
	closedir(proc);
	EXPECT_TRUE(found)
		TH_LOG("no rescuer thread kvm_autoballoon: the workqueue lacks WQ_MEM_RECLAIM");
}

/*
 * Host events allocate nothing: their scratch is sized with max_vms. Grown
 * from 2 to 3 while two VMs exist, a host-wide event still reaches all
 * three.
 */
TEST(scratch_follows_max_vms)
{
	struct kab_policy_snapshot policy;
	struct kab_test_vm vm[3];
	struct kab_vm_stats s;
	uint64_t old, nr;
	char text[32], failed[64] = "";
	unsigned int i;
	int dev;

	KAB_REQUIRE_MODULE();
	KAB_ASSERT_OK(kab_nr_vms(&nr), "nr_vms");
	if (nr)
		SKIP(return, "scratch_follows_max_vms: %" PRIu64 " VMs exist", nr);
	dev = kab_dev_open();
	KAB_ASSERT_OK(dev, "open " KAB_DEV_PATH);
	KAB_ASSERT_OK(kab_policy_save(&policy), "read policy/*");
	KAB_ASSERT_OK(kab_policy_zero_timers(&policy, failed, sizeof(failed)),
		      "zero the timers");
	KAB_ASSERT_OK(kab_sysfs_read_u64("max_vms", &old), "read max_vms");
	KAB_ASSERT_OK(kab_sysfs_write("max_vms", "2"), "max_vms 2");
	for (i = 0; i < 2; i++)
		KAB_ASSERT_OK(kab_vm_create(dev, &vm[i], NULL, 0), "create");
	KAB_EXPECT_OK(kab_sysfs_write("max_vms", "3"), "max_vms 3");
	KAB_ASSERT_OK(kab_vm_create(dev, &vm[2], NULL, 0), "third VM");
	KAB_EXPECT_OK(kab_inject(KAB_LEVEL_MEDIUM, 0), "inject host-wide");
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, kab_get_stats(vm[i].fd, &s));
		EXPECT_EQ(1, s.host_events[KAB_LEVEL_MEDIUM - 1])
			TH_LOG("VM %u missed the host-wide event", i);
	}
	for (i = 0; i < 3; i++)
		kab_vm_destroy(&vm[i]);
	snprintf(text, sizeof(text), "%" PRIu64, old);
	EXPECT_EQ(0, kab_sysfs_write("max_vms", text));
	EXPECT_EQ(0, kab_policy_restore(&policy));
	close(dev);
}

KAB_TEST_MAIN
