// SPDX-License-Identifier: GPL-2.0
/*
 * ABI round trip: register a VM, read its target and stats, report an
 * actual size, check that sysfs says the same, unregister, and check that
 * nothing of it is left. KAB_GET_INFO against what each file answers, and
 * the guest's figures (KAB_VM_SET_GUEST_STATS) as sysfs shows them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

FIXTURE(abi) {
	int dev;
	uint64_t nr_vms;
	struct kab_policy_snapshot policy;
	bool policy_saved;
};

FIXTURE_SETUP(abi)
{
	self->dev = -1;
	KAB_REQUIRE_MODULE();
	self->dev = kab_dev_open();
	KAB_ASSERT_OK(self->dev, "open " KAB_DEV_PATH);
	KAB_ASSERT_OK(kab_nr_vms(&self->nr_vms), "read nr_vms");
	KAB_SETUP_POLICY(self);
}

FIXTURE_TEARDOWN(abi)
{
	if (self->policy_saved)
		EXPECT_EQ(0, kab_policy_restore(&self->policy));
	if (self->dev >= 0)
		close(self->dev);
}

TEST_F(abi, api_version)
{
	long ret = kab_sys(ioctl(self->dev, KAB_GET_API_VERSION, 0));
	uint64_t sysfs_version;

	KAB_BAIL_IF_SKIPPED();
	EXPECT_EQ(KAB_API_VERSION, ret);
	KAB_EXPECT_OK(kab_sysfs_read_u64("version", &sysfs_version),
		      "read version");
	EXPECT_EQ(KAB_API_VERSION, sysfs_version);
}

/* Every ioctl of this header, with the size of its argument. */
static const struct {
	unsigned int nr;
	unsigned long cmd;
	uint32_t size;
	bool on_vm;		/* per-VM fd, else the device */
	const char *name;
} kab_ioctls[] = {
	{ KAB_NR_GET_API_VERSION, KAB_GET_API_VERSION, 0, false,
	  "KAB_GET_API_VERSION" },
	{ KAB_NR_CREATE_VM, KAB_CREATE_VM, sizeof(struct kab_create_vm), false,
	  "KAB_CREATE_VM" },
	{ KAB_NR_BIND_HOST_PSI, KAB_BIND_HOST_PSI, sizeof(struct kab_host_psi),
	  false, "KAB_BIND_HOST_PSI" },
	{ KAB_NR_GET_INFO, KAB_GET_INFO, sizeof(struct kab_info), false,
	  "KAB_GET_INFO" },
	{ KAB_NR_VM_GET_TARGET, KAB_VM_GET_TARGET, sizeof(struct kab_target),
	  true, "KAB_VM_GET_TARGET" },
	{ KAB_NR_VM_SET_ACTUAL, KAB_VM_SET_ACTUAL, sizeof(struct kab_actual),
	  true, "KAB_VM_SET_ACTUAL" },
	{ KAB_NR_VM_GET_STATS, KAB_VM_GET_STATS, sizeof(struct kab_vm_stats),
	  true, "KAB_VM_GET_STATS" },
	{ KAB_NR_VM_SET_GUEST_STATS, KAB_VM_SET_GUEST_STATS,
	  sizeof(struct kab_guest_stats), true, "KAB_VM_SET_GUEST_STATS" },
	{ KAB_NR_VM_RESTORE, KAB_VM_RESTORE, sizeof(struct kab_restore), true,
	  "KAB_VM_RESTORE" },
};

/* The numbers carry no size nor direction: only type and nr. */
TEST_F(abi, ioctl_numbers_carry_no_size)
{
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	for (i = 0; i < ARRAY_SIZE(kab_ioctls); i++) {
		EXPECT_EQ(_IO(KABIO, kab_ioctls[i].nr), kab_ioctls[i].cmd)
			TH_LOG("%s is not _IO(KABIO, 0x%02x)",
			       kab_ioctls[i].name, kab_ioctls[i].nr);
		EXPECT_EQ(0, _IOC_SIZE(kab_ioctls[i].cmd))
			TH_LOG("%s encodes a size", kab_ioctls[i].name);
	}
}

/*
 * KAB_GET_INFO says what this header says, and every nr it does not claim
 * is refused with ENOTTY on both files, every one it claims is not.
 */
TEST_F(abi, get_info)
{
	struct kab_test_vm vm;
	struct kab_info info;
	uint64_t want = 0;
	uint8_t buf[4096];
	unsigned int i, nr;
	long ret_dev, ret_vm;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_get_info(self->dev, &info), "KAB_GET_INFO");
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(KAB_API_VERSION, info.api_version);
	EXPECT_EQ(KAB_GUEST_STAT_ALL, info.guest_stats_valid);
	for (i = 0; i < ARRAY_SIZE(kab_ioctls); i++) {
		want |= 1ull << kab_ioctls[i].nr;
		EXPECT_EQ(kab_ioctls[i].size, info.arg_size[kab_ioctls[i].nr])
			TH_LOG("arg_size of %s", kab_ioctls[i].name);
	}
	EXPECT_EQ(want, info.ioctls)
		TH_LOG("ioctls 0x%" PRIx64 ", this header knows 0x%" PRIx64,
		       (uint64_t)info.ioctls, want);

	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, 0), "create");
	for (nr = 0; nr < KAB_INFO_NR_IOCTLS; nr++) {
		/* A zero buffer: every sized ioctl refuses size 0. */
		memset(buf, 0, sizeof(buf));
		ret_dev = kab_sys(ioctl(self->dev, _IO(KABIO, nr), buf));
		if (ret_dev > 2)
			close((int)ret_dev);
		memset(buf, 0, sizeof(buf));
		ret_vm = kab_sys(ioctl(vm.fd, _IO(KABIO, nr), buf));
		if (info.ioctls & (1ull << nr)) {
			EXPECT_FALSE(ret_dev == -ENOTTY && ret_vm == -ENOTTY)
				TH_LOG("nr 0x%02x is in ioctls, both files say ENOTTY",
				       nr);
		} else {
			EXPECT_EQ(-ENOTTY, ret_dev) TH_LOG("device, nr 0x%02x", nr);
			EXPECT_EQ(-ENOTTY, ret_vm) TH_LOG("VM fd, nr 0x%02x", nr);
			EXPECT_EQ(0, info.arg_size[nr]) TH_LOG("nr 0x%02x", nr);
		}
	}
	kab_vm_destroy(&vm);
}

/* A caller that knows a larger kab_info gets what the kernel knows. */
TEST_F(abi, get_info_larger)
{
	struct {
		struct kab_info info;
		uint64_t tail[4];
	} big;

	KAB_BAIL_IF_SKIPPED();
	memset(&big, 0xa5, sizeof(big));
	big.info.size = sizeof(big);
	EXPECT_EQ(0, kab_sys(ioctl(self->dev, KAB_GET_INFO, &big)));
	EXPECT_EQ(KAB_INFO_SIZE_VER0, big.info.size);
	EXPECT_EQ(KAB_API_VERSION, big.info.api_version);
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ull, big.tail[0])
		TH_LOG("the kernel wrote past what it knows");
}

static void expect_vm_file(struct __test_metadata *_metadata, uint32_t id,
			   const char *file, const char *want)
{
	char buf[64] = "";

	KAB_EXPECT_OK(kab_vm_sysfs_read(id, file, buf, sizeof(buf)), file);
	EXPECT_STREQ(want, buf) TH_LOG("vms/%u/%s", id, file);
}

static void expect_vm_u64(struct __test_metadata *_metadata, uint32_t id,
			  const char *file, uint64_t want)
{
	uint64_t val = ~0ull;

	KAB_EXPECT_OK(kab_vm_sysfs_read_u64(id, file, &val), file);
	EXPECT_EQ(want, val) TH_LOG("vms/%u/%s", id, file);
}

/*
 * The guest's figures: "unknown" and "never" before any update, then what
 * the last update carried, each in its own file; a figure the next update
 * leaves out is "unknown" again; the age grows while nothing comes; the
 * target does not move (the policy does not use the figures yet).
 */
TEST_F(abi, guest_stats_sysfs)
{
	static const char * const figures[] = {
		"guest_available_pages", "guest_free_pages",
		"guest_cache_pages", "guest_total_pages",
		"guest_committed_pages",
	};
	struct kab_guest_stats gs;
	struct kab_test_vm vm;
	struct kab_target t;
	uint64_t age1, age2;
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, 0), "create");
	for (i = 0; i < ARRAY_SIZE(figures); i++)
		expect_vm_file(_metadata, vm.id, figures[i], "unknown");
	expect_vm_file(_metadata, vm.id, "guest_stats_age_ms", "never");
	expect_vm_u64(_metadata, vm.id, "guest_stats_updates", 0);

	kab_guest_stats_defaults(&gs);
	KAB_ASSERT_OK(kab_set_guest_stats(vm.fd, &gs), "SET_GUEST_STATS");
	expect_vm_u64(_metadata, vm.id, "guest_available_pages",
		      gs.available_pages);
	expect_vm_u64(_metadata, vm.id, "guest_free_pages", gs.free_pages);
	expect_vm_u64(_metadata, vm.id, "guest_cache_pages", gs.cache_pages);
	expect_vm_u64(_metadata, vm.id, "guest_total_pages", gs.total_pages);
	expect_vm_file(_metadata, vm.id, "guest_committed_pages", "unknown");
	expect_vm_u64(_metadata, vm.id, "guest_stats_updates", 1);
	KAB_EXPECT_OK(kab_vm_sysfs_read_u64(vm.id, "guest_stats_age_ms", &age1),
		      "guest_stats_age_ms");
	EXPECT_GT(KAB_WAIT_MS, age1) TH_LOG("age %" PRIu64 " ms", age1);
	kab_sleep_ms(300);
	KAB_EXPECT_OK(kab_vm_sysfs_read_u64(vm.id, "guest_stats_age_ms", &age2),
		      "guest_stats_age_ms later");
	EXPECT_LE(age1 + 300, age2)
		TH_LOG("age %" PRIu64 " then %" PRIu64 " ms, 300 ms apart",
		       age1, age2);

	/* Only free and committed (above the total: overcommit is fine). */
	memset(&gs, 0, sizeof(gs));
	gs.size = sizeof(gs);
	gs.valid = KAB_GUEST_STAT_FREE | KAB_GUEST_STAT_COMMITTED;
	gs.free_pages = 12345;
	gs.committed_pages = 2 * KAB_TEST_TOTAL;
	KAB_ASSERT_OK(kab_set_guest_stats(vm.fd, &gs), "SET_GUEST_STATS 2");
	expect_vm_file(_metadata, vm.id, "guest_available_pages", "unknown");
	expect_vm_u64(_metadata, vm.id, "guest_free_pages", 12345);
	expect_vm_file(_metadata, vm.id, "guest_cache_pages", "unknown");
	expect_vm_file(_metadata, vm.id, "guest_total_pages", "unknown");
	expect_vm_u64(_metadata, vm.id, "guest_committed_pages",
		      2 * KAB_TEST_TOTAL);
	expect_vm_u64(_metadata, vm.id, "guest_stats_updates", 2);
	KAB_EXPECT_OK(kab_vm_sysfs_read_u64(vm.id, "guest_stats_age_ms", &age2),
		      "guest_stats_age_ms after update 2");
	EXPECT_GT(age1 + 300, age2) TH_LOG("the age did not restart: %" PRIu64,
					   age2);

	EXPECT_EQ(0, kab_get_target(vm.fd, &t));
	EXPECT_EQ(1, t.seq) TH_LOG("guest figures moved the target");
	kab_vm_destroy(&vm);
}

/* Each VM has its own figures. */
TEST_F(abi, guest_stats_per_vm)
{
	struct kab_guest_stats gs;
	struct kab_test_vm a, b;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &a, NULL, 0), "create A");
	KAB_ASSERT_OK(kab_vm_create(self->dev, &b, NULL, 0), "create B");
	kab_guest_stats_defaults(&gs);
	KAB_ASSERT_OK(kab_set_guest_stats(a.fd, &gs), "A");
	gs.free_pages = 777;
	KAB_ASSERT_OK(kab_set_guest_stats(b.fd, &gs), "B");
	expect_vm_u64(_metadata, a.id, "guest_free_pages", 100002);
	expect_vm_u64(_metadata, b.id, "guest_free_pages", 777);
	expect_vm_u64(_metadata, a.id, "guest_stats_updates", 1);
	expect_vm_u64(_metadata, b.id, "guest_stats_updates", 1);
	kab_vm_destroy(&a);
	kab_vm_destroy(&b);
}

/*
 * A storm of updates from one VMM is cheap per call and leaves another
 * VM's ioctls working, and the last update wins. The figures printed (the
 * time per call, the kworkers' CPU meanwhile: the module's stats work runs
 * at most once per 10 ms) are not timed assertions.
 */
TEST_F(abi, guest_stats_storm)
{
	const unsigned int n = 100000;
	struct kab_guest_stats gs;
	struct kab_test_vm a, b;
	struct kab_target t;
	uint64_t t0, t1, k0, k1, val;
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &a, NULL, 0), "create A");
	KAB_ASSERT_OK(kab_vm_create(self->dev, &b, NULL, 0), "create B");
	kab_guest_stats_defaults(&gs);
	k0 = kab_kworker_ns();
	t0 = kab_now_ns();
	for (i = 0; i < n; i++) {
		gs.free_pages = i % 1000;
		if (kab_set_guest_stats(a.fd, &gs))
			break;
	}
	t1 = kab_now_ns();
	k1 = kab_kworker_ns();
	EXPECT_EQ(n, i) TH_LOG("update %u refused", i);
	printf("# guest stats storm: %u updates, %" PRIu64 " ns per call, "
	       "kworkers %.1f %% of one CPU meanwhile\n", n, (t1 - t0) / n,
	       100.0 * (double)(k1 - k0) / (double)(t1 - t0));
	fflush(stdout);
	expect_vm_u64(_metadata, a.id, "guest_stats_updates", n);
	expect_vm_u64(_metadata, a.id, "guest_free_pages", (n - 1) % 1000);
	KAB_EXPECT_OK(kab_set_actual(b.fd, 9), "B's SET_ACTUAL after the storm");
	EXPECT_EQ(0, kab_get_target(b.fd, &t));
	KAB_EXPECT_OK(kab_vm_sysfs_read_u64(b.id, "guest_stats_updates", &val),
		      "B's updates");
	EXPECT_EQ(0, val);
	kab_vm_destroy(&a);
	kab_vm_destroy(&b);
}

/* Every vms/<id>/ file must agree with KAB_VM_GET_STATS. */
static void check_sysfs_matches(struct __test_metadata *_metadata,
				uint32_t id, const struct kab_vm_stats *s)
{
	static const char * const levels[] = { "low", "medium", "critical" };
	const struct {
		const char *file;
		uint64_t want;
	} files[] = {
		{ "total_pages", s->total_pages },
		{ "floor_pages", s->floor_pages },
		{ "ceiling_pages", s->ceiling_pages },
		{ "weight", s->weight },
		{ "target_pages", s->target_pages },
		{ "target_seq", s->target_seq },
		{ "actual_pages", s->actual_pages },
		{ "guest_events_dropped", s->guest_events_dropped },
		{ "inflations", s->inflations },
		{ "deflations", s->deflations },
		{ "stalls", s->stalls },
	};
	char name[64];
	uint64_t val;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		val = ~0ull;
		KAB_EXPECT_OK(kab_vm_sysfs_read_u64(id, files[i].file, &val),
			      files[i].file);
		if (val != files[i].want)
			TH_LOG("vms/%u/%s: expected %" PRIu64 " (stats), got %"
			       PRIu64, id, files[i].file, files[i].want, val);
		EXPECT_EQ(files[i].want, val);
	}
	for (i = 0; i < KAB_NR_LEVELS; i++) {
		snprintf(name, sizeof(name), "guest_events_%s", levels[i]);
		KAB_EXPECT_OK(kab_vm_sysfs_read_u64(id, name, &val), name);
		EXPECT_EQ(s->guest_events[i], val) TH_LOG("%s", name);
		snprintf(name, sizeof(name), "host_events_%s", levels[i]);
		KAB_EXPECT_OK(kab_vm_sysfs_read_u64(id, name, &val), name);
		EXPECT_EQ(s->host_events[i], val) TH_LOG("%s", name);
	}
}

TEST_F(abi, round_trip)
{
	struct kab_create_vm req;
	struct kab_test_vm vm;
	struct kab_vm_stats s;
	struct kab_target t;
	char reason[32];
	uint64_t val;
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	/* Distinct values, so that a field read from the wrong place shows. */
	kab_create_vm_defaults(&req);
	req.total_pages = 100000;
	req.floor_pages = 20000;
	req.ceiling_pages = 70000;
	req.weight = 37;
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, &req, KAB_VM_PRESSURE_FDS),
		      "KAB_CREATE_VM");
	EXPECT_TRUE(fcntl(vm.fd, F_GETFD) & FD_CLOEXEC)
		TH_LOG("the per-VM fd must be O_CLOEXEC");

	/* Initial target: total - ceiling, seq 1, reason "initial". */
	ASSERT_EQ(0, kab_get_target(vm.fd, &t));
	EXPECT_EQ(KAB_TARGET_SIZE_VER0, t.size);
	EXPECT_EQ(100000 - 70000, t.target_pages);
	EXPECT_EQ(1, t.seq);
	EXPECT_EQ(KAB_REASON_INITIAL, t.reason);

	ASSERT_EQ(0, kab_get_stats(vm.fd, &s));
	EXPECT_EQ(KAB_VM_STATS_SIZE_VER0, s.size);
	EXPECT_EQ(vm.id, s.vm_id);
	EXPECT_NE(0, s.vm_id);
	EXPECT_EQ(100000, s.total_pages);
	EXPECT_EQ(20000, s.floor_pages);
	EXPECT_EQ(70000, s.ceiling_pages);
	EXPECT_EQ(37, s.weight);
	EXPECT_EQ(30000, s.target_pages);
	EXPECT_EQ(1, s.target_seq);
	EXPECT_EQ(0, s.actual_pages);
	EXPECT_EQ(KAB_REASON_INITIAL, s.last_reason);
	for (i = 0; i < KAB_NR_LEVELS; i++) {
		EXPECT_EQ(0, s.guest_events[i]);
		EXPECT_EQ(0, s.host_events[i]);
	}
	EXPECT_EQ(0, s.guest_events_dropped);
	EXPECT_EQ(0, s.inflations);
	EXPECT_EQ(0, s.deflations);
	EXPECT_EQ(0, s.stalls);

	/* sysfs: the VM's directory, nr_vms, owner, reason as a word. */
	KAB_EXPECT_OK(kab_nr_vms(&val), "read nr_vms");
	EXPECT_EQ(self->nr_vms + 1, val);
	check_sysfs_matches(_metadata, vm.id, &s);
	KAB_EXPECT_OK(kab_vm_sysfs_read_u64(vm.id, "owner_pid", &val),
		      "owner_pid");
	EXPECT_EQ((uint64_t)getpid(), val);
	KAB_EXPECT_OK(kab_vm_sysfs_read(vm.id, "last_reason", reason,
					sizeof(reason)), "last_reason");
	EXPECT_STREQ("initial", reason);

	/* Report an actual size: stats and sysfs follow, target does not. */
	KAB_EXPECT_OK(kab_set_actual(vm.fd, 12345), "KAB_VM_SET_ACTUAL 12345");
	ASSERT_EQ(0, kab_get_stats(vm.fd, &s));
	EXPECT_EQ(12345, s.actual_pages);
	EXPECT_EQ(1, s.target_seq);
	check_sysfs_matches(_metadata, vm.id, &s);
	KAB_EXPECT_OK(kab_set_actual(vm.fd, 100000), "actual = total");
	KAB_EXPECT_OK(kab_set_actual(vm.fd, 0), "actual = 0");
	ASSERT_EQ(0, kab_get_stats(vm.fd, &s));
	EXPECT_EQ(0, s.actual_pages);

	/* Close: the directory goes, nr_vms comes back. */
	close(vm.fd);
	vm.fd = -1;
	EXPECT_EQ(0, kab_wait_vm_gone(vm.id, KAB_WAIT_MS))
		TH_LOG("vms/%u still there after close", vm.id);
	EXPECT_EQ(0, kab_wait_nr_vms(self->nr_vms, KAB_WAIT_MS))
		TH_LOG("nr_vms did not come back to %" PRIu64, self->nr_vms);
	kab_vm_destroy(&vm);
}

/*
 * Structures can grow: larger sizes with zero tails work, and the kernel
 * says how much it filled.
 */
TEST_F(abi, larger_structs)
{
	struct {
		struct kab_create_vm req;
		uint8_t tail[64];
	} big;
	struct {
		struct kab_target t;
		uint64_t tail[4];
	} bt;
	struct {
		struct kab_vm_stats s;
		uint64_t tail[4];
	} bs;
	struct {
		struct kab_actual a;
		uint64_t tail[2];
	} ba;
	struct {
		struct kab_guest_stats gs;
		uint64_t tail[4];
	} bg;
	int efd, fd;

	KAB_BAIL_IF_SKIPPED();
	efd = kab_eventfd_new();
	ASSERT_LE(0, efd);
	memset(&big, 0, sizeof(big));
	kab_create_vm_defaults(&big.req);
	big.req.size = sizeof(big);
	big.req.target_fd = efd;
	fd = kab_create_vm_raw(self->dev, &big);
	KAB_ASSERT_OK(fd, "KAB_CREATE_VM with size + 64 zero bytes");

	memset(&bt, 0xa5, sizeof(bt));
	bt.t.size = sizeof(bt);
	EXPECT_EQ(0, kab_sys(ioctl(fd, KAB_VM_GET_TARGET, &bt)));
	EXPECT_EQ(KAB_TARGET_SIZE_VER0, bt.t.size)
		TH_LOG("size out must be the bytes the kernel filled");
	EXPECT_EQ(1, bt.t.seq);
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ull, bt.tail[0])
		TH_LOG("the kernel wrote past what it knows");

	memset(&bs, 0xa5, sizeof(bs));
	bs.s.size = sizeof(bs);
	EXPECT_EQ(0, kab_sys(ioctl(fd, KAB_VM_GET_STATS, &bs)));
	EXPECT_EQ(KAB_VM_STATS_SIZE_VER0, bs.s.size);
	EXPECT_EQ(KAB_TEST_TOTAL, bs.s.total_pages);
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ull, bs.tail[0]);

	memset(&ba, 0, sizeof(ba));
	ba.a.size = sizeof(ba);
	ba.a.actual_pages = 7;
	EXPECT_EQ(0, kab_sys(ioctl(fd, KAB_VM_SET_ACTUAL, &ba)));
	EXPECT_EQ(0, kab_get_stats(fd, &bs.s));
	EXPECT_EQ(7, bs.s.actual_pages);

	/* Same number, larger struct: a newer VMM on this kernel. */
	memset(&bg, 0, sizeof(bg));
	kab_guest_stats_defaults(&bg.gs);
	bg.gs.size = sizeof(bg);
	EXPECT_EQ(0, kab_sys(ioctl(fd, KAB_VM_SET_GUEST_STATS, &bg)))
		TH_LOG("KAB_VM_SET_GUEST_STATS with size + 32 zero bytes");

	close(fd);
	close(efd);
	EXPECT_EQ(0, kab_wait_nr_vms(self->nr_vms, KAB_WAIT_MS));
}

TEST_F(abi, two_vms_distinct)
{
	struct kab_test_vm a, b;
	uint64_t val;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &a, NULL, 0), "create A");
	KAB_ASSERT_OK(kab_vm_create(self->dev, &b, NULL, 0), "create B");
	EXPECT_NE(a.id, b.id);
	KAB_EXPECT_OK(kab_nr_vms(&val), "nr_vms");
	EXPECT_EQ(self->nr_vms + 2, val);

	/* Closing one leaves the other whole. */
	kab_vm_destroy(&a);
	EXPECT_EQ(0, kab_wait_vm_gone(a.id, KAB_WAIT_MS));
	KAB_EXPECT_OK(kab_vm_sysfs_read_u64(b.id, "total_pages", &val),
		      "B's sysfs after A closed");
	EXPECT_EQ(KAB_TEST_TOTAL, val);
	KAB_EXPECT_OK(kab_set_actual(b.fd, 1), "B still answers");
	kab_vm_destroy(&b);
	EXPECT_EQ(0, kab_wait_nr_vms(self->nr_vms, KAB_WAIT_MS));
}

/* The registration lives as long as the per-VM fd, not the device fd. */
TEST_F(abi, outlives_device_fd)
{
	struct kab_test_vm vm;
	struct kab_target t;
	uint64_t val;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, 0), "create");
	close(self->dev);
	self->dev = -1;
	EXPECT_EQ(0, kab_get_target(vm.fd, &t));
	EXPECT_EQ(1, t.seq);
	KAB_EXPECT_OK(kab_vm_sysfs_read_u64(vm.id, "target_seq", &val),
		      "vms/<id>/target_seq after the device fd closed");
	EXPECT_EQ(1, val);
	kab_vm_destroy(&vm);
	EXPECT_EQ(0, kab_wait_nr_vms(self->nr_vms, KAB_WAIT_MS));
}

/*
 * A forked child shares the per-VM file: the VM stays until the last
 * reference goes, and a child that exits without closing unregisters
 * nothing of its parent's.
 */
TEST_F(abi, fork_shares_file)
{
	struct kab_test_vm vm;
	struct kab_target t;
	uint64_t val;
	int status;
	pid_t pid;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, 0), "create");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kab_target ct;

		_exit(kab_get_target(vm.fd, &ct) == 0 && ct.seq == 1 ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the child could not read the target");
	KAB_EXPECT_OK(kab_nr_vms(&val), "nr_vms");
	EXPECT_EQ(self->nr_vms + 1, val);
	EXPECT_EQ(0, kab_get_target(vm.fd, &t));
	kab_vm_destroy(&vm);
	EXPECT_EQ(0, kab_wait_nr_vms(self->nr_vms, KAB_WAIT_MS));
}

/* A VMM that dies without closing unregisters its VMs. */
TEST_F(abi, owner_exit_unregisters)
{
	int pipefd[2], status;
	uint32_t id = 0;
	pid_t pid;

	KAB_BAIL_IF_SKIPPED();
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kab_test_vm vm[3];
		unsigned int i;

		close(pipefd[0]);
		for (i = 0; i < 3; i++)
			if (kab_vm_create(self->dev, &vm[i], NULL,
					  KAB_VM_PRESSURE_FDS))
				_exit(1);
		if (write(pipefd[1], &vm[0].id, sizeof(vm[0].id)) !=
		    sizeof(vm[0].id))
			_exit(1);
		pause();	/* killed by the parent */
		_exit(1);
	}
	close(pipefd[1]);
	ASSERT_EQ(sizeof(id), read(pipefd[0], &id, sizeof(id)))
		TH_LOG("the child could not register its VMs");
	close(pipefd[0]);
	EXPECT_EQ(0, kab_wait_nr_vms(self->nr_vms + 3, KAB_WAIT_MS));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, kab_wait_nr_vms(self->nr_vms, KAB_WAIT_MS))
		TH_LOG("VMs of a killed owner were not unregistered");
	EXPECT_EQ(0, kab_wait_vm_gone(id, KAB_WAIT_MS));
}

/* psi_fd takes a PSI trigger made by the caller and holds it. */
TEST_F(abi, psi_trigger_accepted)
{
	static const char trigger[] = "some 150000 1000000";
	struct kab_create_vm req;
	struct kab_test_vm vm;
	struct kab_target t;
	int psi;

	KAB_BAIL_IF_SKIPPED();
	psi = open("/proc/pressure/memory", O_RDWR | O_CLOEXEC);
	if (psi < 0)
		SKIP(return, "psi_trigger_accepted: /proc/pressure/memory: %s",
		     strerror(errno));
	if (write(psi, trigger, sizeof(trigger)) < 0) {
		close(psi);
		SKIP(return, "psi_trigger_accepted: no PSI trigger: %s",
		     strerror(errno));
	}
	kab_create_vm_defaults(&req);
	req.psi_fd = psi;
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, &req, 0),
		      "KAB_CREATE_VM with a PSI trigger as psi_fd");
	/* The registration holds the trigger: ours can go. */
	close(psi);
	EXPECT_EQ(0, kab_get_target(vm.fd, &t));
	EXPECT_EQ(1, t.seq);
	kab_vm_destroy(&vm);
	EXPECT_EQ(0, kab_wait_nr_vms(self->nr_vms, KAB_WAIT_MS));
}

KAB_TEST_MAIN
