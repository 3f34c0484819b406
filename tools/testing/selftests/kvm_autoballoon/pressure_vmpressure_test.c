// SPDX-License-Identifier: GPL-2.0
/*
 * The vmpressure source under real memory pressure, not injection:
 *
 * - memcg_pressure: a cgroup with memory.max far below its working set
 *   makes reclaim run in that memcg; the VM registered from it gets medium
 *   or critical host pressure from the vmpressure source and inflates,
 *   the VM registered from a sibling cgroup is not touched;
 * - global_pressure: a hog in a cgroup of its own, a sibling of the VMs',
 *   fills the VM's RAM (no swap, stopping before the OOM point): global
 *   reclaim through a cgroup no VM is in. The source counts it in its
 *   global window (sources/vmpressure/global_windows), reports global
 *   pressure, and every VM inflates, the heavier one more;
 * - bogus_symbol: with vmpressure_symbol naming a function that does not
 *   exist, the module loads, says so in sysfs and the log, and works with
 *   its other sources.
 *
 * The tests need cgroup v2 with the memory controller and brd (a RAM disk
 * whose page cache reclaim can free); without them they SKIP.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"
#include "pressure_util.h"

#define VMP	"sources/vmpressure/"

/* Large VMs: hundreds of host steps fit before any clamp. */
static void big_vm_req(struct kab_create_vm *req, uint32_t weight)
{
	kab_create_vm_defaults(req);
	req->total_pages = 1ULL << 22;
	req->ceiling_pages = 1ULL << 22;
	req->floor_pages = 1ULL << 16;
	req->weight = weight;
}

FIXTURE(vmp) {
	int dev;
	struct kab_policy_snapshot policy;
	bool policy_saved;
};

FIXTURE_SETUP(vmp)
{
	char state[64] = "";

	self->dev = -1;
	KAB_REQUIRE_MODULE();
	self->dev = kab_dev_open();
	KAB_ASSERT_OK(self->dev, "open " KAB_DEV_PATH);
	KAB_ASSERT_OK(kab_sysfs_read(VMP "state", state, sizeof(state)),
		      "read " VMP "state");
	if (strncmp(state, "active", 6))
		TH_LOG(VMP "state: expected active, got '%s'", state);
	ASSERT_EQ(0, strncmp(state, "active", 6));
	KAB_SETUP_POLICY(self);
}

FIXTURE_TEARDOWN(vmp)
{
	if (self->policy_saved)
		EXPECT_EQ(0, kab_policy_restore(&self->policy));
	if (self->dev >= 0)
		close(self->dev);
}

/* The source's sysfs files: state, defaults, validated tunables. */
TEST_F(vmp, sysfs)
{
	static const struct {
		const char *file;
		uint64_t def;
		const char *bad;
	} tun[] = {
		{ "window_pages", 512, "0" },
		{ "window_pages", 512, "1048577" },
		{ "window_pages", 512, "many" },
		{ "window_pages", 512, "4294967296" },
		{ "medium_percent", 60, "96" },		/* above critical */
		{ "critical_percent", 95, "101" },
		{ "critical_percent", 95, "59" },	/* below medium */
		{ "critical_prio", 3, "13" },
	};
	char buf[128], rel[96];
	unsigned int i;
	uint64_t val;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_sysfs_read("sources/active", buf, sizeof(buf)),
		      "read sources/active");
	if (strcmp(buf, "inject vmpressure psi"))
		TH_LOG("sources/active: expected 'inject vmpressure psi', got '%s'",
		       buf);
	EXPECT_STREQ("inject vmpressure psi", buf);
	KAB_EXPECT_OK(kab_sysfs_read(VMP "symbol", buf, sizeof(buf)),
		      "read " VMP "symbol");
	EXPECT_STREQ("vmpressure", buf);
	KAB_EXPECT_OK(kab_sysfs_read(VMP "prio_probe", buf, sizeof(buf)),
		      "read " VMP "prio_probe");
	EXPECT_STREQ("active", buf);

	for (i = 0; i < ARRAY_SIZE(tun); i++) {
		snprintf(rel, sizeof(rel), VMP "%s", tun[i].file);
		KAB_ASSERT_OK(kab_sysfs_read_u64(rel, &val), rel);
		if (val != tun[i].def)
			TH_LOG("%s: expected default %" PRIu64 ", got %" PRIu64,
			       rel, tun[i].def, val);
		EXPECT_EQ(tun[i].def, val);
		snprintf(buf, sizeof(buf), "%s = %s", rel, tun[i].bad);
		KAB_EXPECT_ERR(EINVAL, kab_sysfs_write(rel, tun[i].bad), buf);
		KAB_EXPECT_OK(kab_sysfs_read_u64(rel, &val), rel);
		if (val != tun[i].def)
			TH_LOG("%s: a refused write changed it to %" PRIu64,
			       rel, val);
		EXPECT_EQ(tun[i].def, val);
	}
	/* A good value is taken, and the default goes back. */
	KAB_EXPECT_OK(kab_sysfs_write(VMP "window_pages", "1024"),
		      VMP "window_pages = 1024");
	EXPECT_EQ(1024, kab_sysfs_u64_or(VMP "window_pages", 0));
	KAB_EXPECT_OK(kab_sysfs_write(VMP "window_pages", "512"),
		      VMP "window_pages = 512");
}

TEST_F_TIMEOUT(vmp, memcg_pressure, 180)
{
	const char *why;
	struct kab_create_vm req;
	struct kab_test_vm a = { .fd = -1 }, b = { .fd = -1 };
	uint64_t a_strong0, a_target0, b_events0, b_seq0, memcg0;
	uint64_t a_strong, a_target, b_events, b_seq, memcg;
	char buf[128];
	pid_t thrash;
	int i;

	KAB_BAIL_IF_SKIPPED();
	why = kab_cg_unavailable();
	if (!why)
		why = kab_ramdisk_unavailable();
	if (why)
		SKIP(return, "memcg_pressure: %s", why);
	kab_drop_caches();
	KAB_ASSERT_OK(kab_cg_create("kab-vmp-a"), "mkdir kab-vmp-a");
	KAB_ASSERT_OK(kab_cg_create("kab-vmp-b"), "mkdir kab-vmp-b");

	big_vm_req(&req, KAB_TEST_WEIGHT);
	KAB_ASSERT_OK(kab_vm_create_in_cg(self->dev, "kab-vmp-a", &a, &req),
		      "register VM A from cgroup kab-vmp-a");
	KAB_ASSERT_OK(kab_vm_create_in_cg(self->dev, "kab-vmp-b", &b, &req),
		      "register VM B from cgroup kab-vmp-b");
	KAB_EXPECT_OK(kab_vm_sysfs_read(a.id, "memcg", buf, sizeof(buf)),
		      "read vms/A/memcg");
	EXPECT_STREQ("/kab-vmp-a", buf);
	/* The root, kab-vmp-a and kab-vmp-b. */
	EXPECT_LE(3, kab_sysfs_u64_or(VMP "watched_memcgs", 0));

	a_strong0 = kab_vm_host_events(a.id, true);
	a_target0 = kab_vm_u64_or(a.id, "target_pages", 0);
	b_events0 = kab_vm_host_events(b.id, false);
	b_seq0 = kab_vm_u64_or(b.id, "target_seq", 0);
	memcg0 = kab_sysfs_u64_or(VMP "events_memcg", 0);

	KAB_ASSERT_OK(kab_cg_write("kab-vmp-a", "memory.max", "32M"),
		      "kab-vmp-a/memory.max = 32M");
	thrash = kab_thrash_start("kab-vmp-a", 96, 120);
	KAB_ASSERT_OK(thrash, "fork the thrashing child");
	for (i = 0; i < 1200; i++) {
		if (kab_vm_host_events(a.id, true) > a_strong0)
			break;
		kab_sleep_ms(100);
	}
	/* A little more, for the policy and a late event for B to show. */
	kab_sleep_ms(1000);
	kab_child_stop(thrash);

	a_strong = kab_vm_host_events(a.id, true);
	a_target = kab_vm_u64_or(a.id, "target_pages", 0);
	b_events = kab_vm_host_events(b.id, false);
	b_seq = kab_vm_u64_or(b.id, "target_seq", 0);
	memcg = kab_sysfs_u64_or(VMP "events_memcg", 0);
	TH_LOG("VM A: medium+critical host events %" PRIu64 " -> %" PRIu64
	       ", target %" PRIu64 " -> %" PRIu64 "; memcg events %" PRIu64
	       " -> %" PRIu64, a_strong0, a_strong, a_target0, a_target,
	       memcg0, memcg);

	if (a_strong <= a_strong0)
		TH_LOG("VM A: expected a medium or critical host event from reclaim in its memcg, got none");
	EXPECT_GT(a_strong, a_strong0);
	EXPECT_GT(memcg, memcg0);
	kab_vm_sysfs_read(a.id, "host_last_source", buf, sizeof(buf));
	EXPECT_STREQ("vmpressure", buf);
	if (a_target <= a_target0)
		TH_LOG("VM A: expected its target to rise above %" PRIu64
		       ", got %" PRIu64, a_target0, a_target);
	EXPECT_GT(a_target, a_target0);
	if (b_events != b_events0 || b_seq != b_seq0)
		TH_LOG("VM B (sibling cgroup): expected no host event and seq %"
		       PRIu64 ", got %" PRIu64 " events and seq %" PRIu64,
		       b_seq0, b_events - b_events0, b_seq);
	EXPECT_EQ(b_events0, b_events);
	EXPECT_EQ(b_seq0, b_seq);

	kab_vm_destroy(&a);
	kab_vm_destroy(&b);
	EXPECT_EQ(0, kab_cg_remove("kab-vmp-a"));
	EXPECT_EQ(0, kab_cg_remove("kab-vmp-b"));
}

TEST_F_TIMEOUT(vmp, global_pressure, 300)
{
	const char *why;
	struct kab_create_vm req;
	struct kab_test_vm light = { .fd = -1 }, heavy = { .fd = -1 };
	uint64_t global0, global, l0, l, h0, h, windows0, windows;
	char probe[64] = "";
	long avail;
	pid_t hog;
	int status, i;

	KAB_BAIL_IF_SKIPPED();
	why = kab_cg_unavailable();
	if (!why)
		why = kab_ramdisk_unavailable();
	if (why)
		SKIP(return, "global_pressure: %s", why);
	avail = kab_meminfo_mib("MemAvailable");
	if (avail < 512)
		SKIP(return, "global_pressure: only %ld MiB available", avail);
	kab_drop_caches();
	KAB_ASSERT_OK(kab_cg_create("kab-vmp-g"), "mkdir kab-vmp-g");
	KAB_ASSERT_OK(kab_cg_create("kab-vmp-hog"), "mkdir kab-vmp-hog");
	KAB_ASSERT_OK(kab_sysfs_read(VMP "global_probe", probe, sizeof(probe)),
		      "read " VMP "global_probe");
	windows0 = kab_sysfs_u64_or(VMP "global_windows", 0);

	/* One VM in the root cgroup, one in a child cgroup: both concerned. */
	big_vm_req(&req, 100);
	KAB_ASSERT_OK(kab_vm_create_in_cg(self->dev, "", &light, &req),
		      "register the light VM (weight 100) from the root");
	big_vm_req(&req, 300);
	KAB_ASSERT_OK(kab_vm_create_in_cg(self->dev, "kab-vmp-g", &heavy, &req),
		      "register the heavy VM (weight 300) from kab-vmp-g");
	global0 = kab_sysfs_u64_or(VMP "events_global", 0);
	l0 = kab_vm_u64_or(light.id, "target_pages", 0);
	h0 = kab_vm_u64_or(heavy.id, "target_pages", 0);
	/*
	 * Both VMMs report their balloons, as QEMU does: one that never
	 * reports gets a single inflation, and the split of one event
	 * would decide the comparison below.
	 */
	KAB_ASSERT_OK(kab_set_actual(light.fd, l0), "light VM's actual");
	KAB_ASSERT_OK(kab_set_actual(heavy.fd, h0), "heavy VM's actual");

	/*
	 * Page cache of most of the RAM disk, then anon until 160 MiB left,
	 * from kab-vmp-hog: the child inherits the cgroup we pass through.
	 */
	KAB_ASSERT_OK(kab_cg_enter("kab-vmp-hog"), "enter kab-vmp-hog");
	hog = kab_hog_start(avail / 2 < KAB_RAMDISK_MIB ? avail / 2 :
			    KAB_RAMDISK_MIB, 160, 500);
	KAB_ASSERT_OK(kab_cg_enter(""), "back to the root cgroup");
	KAB_ASSERT_OK(hog, "fork the hog");
	status = kab_child_wait(hog);
	if (status)
		TH_LOG("the hog failed at step %d", status);
	EXPECT_EQ(0, status);
	for (i = 0; i < 100; i++) {
		if (kab_sysfs_u64_or(VMP "events_global", 0) > global0)
			break;
		kab_sleep_ms(100);
	}
	kab_sleep_ms(500);

	global = kab_sysfs_u64_or(VMP "events_global", 0);
	l = kab_vm_u64_or(light.id, "target_pages", 0);
	h = kab_vm_u64_or(heavy.id, "target_pages", 0);
	TH_LOG("global events %" PRIu64 " -> %" PRIu64 "; light target %"
	       PRIu64 " -> %" PRIu64 ", heavy %" PRIu64 " -> %" PRIu64,
	       global0, global, l0, l, h0, h);
	if (global <= global0)
		TH_LOG("expected a global vmpressure event while the hog filled the RAM, got none");
	EXPECT_GT(global, global0);
	/* Not the priority probe alone: the scanned pages themselves. */
	windows = kab_sysfs_u64_or(VMP "global_windows", 0);
	TH_LOG("global_probe %s; global windows %" PRIu64 " -> %" PRIu64,
	       probe, windows0, windows);
	EXPECT_STREQ("active", probe);
	EXPECT_GT(windows, windows0)
		TH_LOG("global reclaim through a sibling cgroup filled no global window");
	EXPECT_GT(l, l0);
	EXPECT_GT(h, h0);
	if (h - h0 <= l - l0)
		TH_LOG("expected the weight-300 VM to inflate more than the weight-100 one");
	EXPECT_GT(h - h0, l - l0);

	kab_vm_destroy(&light);
	kab_vm_destroy(&heavy);
	EXPECT_EQ(0, kab_cg_remove("kab-vmp-g"));
	EXPECT_EQ(0, kab_cg_remove("kab-vmp-hog"));
}

/* ---- a kprobe that cannot be registered ---- */

static bool klog_has(const char *needle)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	bool found = false;
	char *buf;

	if (len <= 0)
		return false;
	buf = calloc(1, len + 1);
	if (!buf)
		return false;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	if (len > 0)
		found = strstr(buf, needle) != NULL;
	free(buf);
	return found;
}

/* No state: the test reloads the module itself. */
FIXTURE(reload) {
	int unused;
};

FIXTURE_SETUP(reload)
{
}

FIXTURE_TEARDOWN(reload)
{
}

TEST_F_TIMEOUT(reload, bogus_symbol, 120)
{
	const char *path = getenv("KAB_MODULE");
	struct kab_test_vm vm = { .fd = -1 };
	char buf[128];
	uint64_t nr, seq;
	int dev, ret;

	if (kab_unavailable_reason())
		SKIP(return, "bogus_symbol: %s", kab_unavailable_reason());
	if (!path)
		SKIP(return, "bogus_symbol: KAB_MODULE (path of the .ko) not set");
	if (kab_nr_vms(&nr) || nr)
		SKIP(return, "bogus_symbol: VMs are registered, cannot reload");
	KAB_ASSERT_OK(kab_module_unload(), "unload kvm_autoballoon");

	/* Off by parameter. */
	ret = kab_module_load_params(path, "vmpressure=0");
	KAB_ASSERT_OK(ret, "load with vmpressure=0");
	KAB_EXPECT_OK(kab_sysfs_read("sources/vmpressure/state", buf,
				     sizeof(buf)), "read state");
	EXPECT_STREQ("off", buf);
	KAB_ASSERT_OK(kab_module_unload(), "unload kvm_autoballoon");

	/* A symbol that does not exist: the module loads all the same. */
	ret = kab_module_load_params(path, "vmpressure_symbol=kab_no_such_symbol");
	KAB_ASSERT_OK(ret, "load with vmpressure_symbol=kab_no_such_symbol");
	KAB_EXPECT_OK(kab_sysfs_read("sources/vmpressure/state", buf,
				     sizeof(buf)), "read state");
	if (strncmp(buf, "failed ", 7))
		TH_LOG("state: expected 'failed <errno>', got '%s'", buf);
	EXPECT_EQ(0, strncmp(buf, "failed ", 7));
	KAB_EXPECT_OK(kab_sysfs_read("sources/active", buf, sizeof(buf)),
		      "read sources/active");
	EXPECT_STREQ("inject psi", buf);
	KAB_EXPECT_OK(kab_sysfs_read("sources/vmpressure/symbol", buf,
				     sizeof(buf)), "read symbol");
	EXPECT_STREQ("kab_no_such_symbol", buf);
	if (!klog_has("cannot kprobe kab_no_such_symbol"))
		TH_LOG("kernel log: expected a line 'cannot kprobe kab_no_such_symbol'");
	EXPECT_TRUE(klog_has("cannot kprobe kab_no_such_symbol"));

	/* The other sources still work. */
	dev = kab_dev_open();
	KAB_EXPECT_OK(dev, "open " KAB_DEV_PATH);
	if (dev >= 0) {
		KAB_EXPECT_OK(kab_vm_create(dev, &vm, NULL, 0), "register a VM");
		EXPECT_EQ(0, kab_sysfs_u64_or("sources/vmpressure/watched_memcgs",
					      1));
		seq = kab_vm_u64_or(vm.id, "target_seq", 0);
		KAB_EXPECT_OK(kab_inject(KAB_LEVEL_CRITICAL, vm.id),
			      "inject critical");
		EXPECT_LT(seq, kab_vm_u64_or(vm.id, "target_seq", 0));
		kab_vm_sysfs_read(vm.id, "host_last_source", buf, sizeof(buf));
		EXPECT_STREQ("inject", buf);
		kab_vm_destroy(&vm);
		close(dev);
	}

	/* Back to normal for the next tests. */
	KAB_ASSERT_OK(kab_module_unload(), "unload kvm_autoballoon");
	KAB_ASSERT_OK(kab_module_load_params(path, ""), "reload kvm_autoballoon");
	KAB_EXPECT_OK(kab_sysfs_read("sources/vmpressure/state", buf,
				     sizeof(buf)), "read state");
	EXPECT_STREQ("active", buf);
}

KAB_TEST_MAIN
