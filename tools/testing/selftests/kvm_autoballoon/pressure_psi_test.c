// SPDX-License-Identifier: GPL-2.0
/*
 * The PSI source: trigger fds created here and handed to the module, per VM
 * (psi_fd of KAB_CREATE_VM) and host wide (KAB_BIND_HOST_PSI).
 *
 * - bad_fds: a closed fd, a negative one, an eventfd, a pressure file
 *   without a trigger, a CPU trigger, an ordinary file: EBADF or EINVAL,
 *   nothing registered or bound; bad KAB_BIND_HOST_PSI arguments; EPERM
 *   without CAP_SYS_ADMIN; EEXIST for a trigger bound already;
 * - vm_trigger: real stalls in a cgroup with a small memory.max fire the
 *   trigger of that cgroup's memory.pressure more than once (so the module
 *   re-arms it) and the VM inflates;
 * - host_trigger: the same through /proc/pressure/memory bound host wide at
 *   level critical reaches every VM; closing the binding's fd unbinds;
 * - removed_cgroup: removing the cgroup of a bound trigger unbinds it
 *   cleanly and the VM keeps working; a trigger whose cgroup is already
 *   gone is refused with EINVAL.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"
#include "pressure_util.h"

#define PSI	"sources/psi/"
#define PSI_SYSTEM	"/proc/pressure/memory"
/* 50 ms of stall in a 500 ms window: fires quickly under a thrash. */
#define TRIGGER	"some 50000 500000"

/* Open @path and write a trigger; the fd, or -errno. */
static int psi_trigger(const char *path, const char *trigger)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (write(fd, trigger, strlen(trigger) + 1) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int cg_trigger(const char *cg)
{
	char path[256];

	kab_cg_path(path, sizeof(path), cg, "memory.pressure");
	return psi_trigger(path, TRIGGER);
}

static int bind_host(int dev, int psi_fd, uint32_t level)
{
	struct kab_host_psi req = {
		.size = sizeof(req),
		.psi_fd = psi_fd,
		.level = level,
	};

	return (int)kab_sys(ioctl(dev, KAB_BIND_HOST_PSI, &req));
}

static int bind_host_raw(int dev, struct kab_host_psi *req)
{
	return (int)kab_sys(ioctl(dev, KAB_BIND_HOST_PSI, req));
}

static void big_vm_req(struct kab_create_vm *req)
{
	kab_create_vm_defaults(req);
	req->total_pages = 1ULL << 22;
	req->ceiling_pages = 1ULL << 22;
	req->floor_pages = 1ULL << 16;
}

FIXTURE(psi) {
	int dev;
	struct kab_policy_snapshot policy;
	bool policy_saved;
};

FIXTURE_SETUP(psi)
{
	self->dev = -1;
	KAB_REQUIRE_MODULE();
	if (access(PSI_SYSTEM, R_OK))
		SKIP(return, "%s: no " PSI_SYSTEM " (PSI disabled)",
		     _metadata->name);
	self->dev = kab_dev_open();
	KAB_ASSERT_OK(self->dev, "open " KAB_DEV_PATH);
	KAB_SETUP_POLICY(self);
}

FIXTURE_TEARDOWN(psi)
{
	if (self->policy_saved)
		EXPECT_EQ(0, kab_policy_restore(&self->policy));
	if (self->dev >= 0)
		close(self->dev);
}

TEST_F(psi, bad_fds)
{
	struct kab_create_vm req;
	struct kab_host_psi h;
	struct kab_test_vm vm, other;
	uint64_t nr0, nr, host0;
	int efd, plain, cpu, file, ret, status;
	pid_t pid;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_nr_vms(&nr0), "read nr_vms");
	host0 = kab_sysfs_u64_or(PSI "host_triggers", 0);
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	plain = open(PSI_SYSTEM, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, plain);
	file = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, file);
	cpu = psi_trigger("/proc/pressure/cpu", TRIGGER);

	/* Per VM. */
	kab_create_vm_defaults(&req);
	req.psi_fd = 1000;
	KAB_EXPECT_ERR(EBADF, kab_vm_create(self->dev, &vm, &req, 0),
		       "psi_fd = 1000 (not open)");
	req.psi_fd = -2;
	KAB_EXPECT_ERR(EBADF, kab_vm_create(self->dev, &vm, &req, 0),
		       "psi_fd = -2");
	req.psi_fd = efd;
	KAB_EXPECT_ERR(EINVAL, kab_vm_create(self->dev, &vm, &req, 0),
		       "psi_fd = an eventfd");
	req.psi_fd = plain;
	KAB_EXPECT_ERR(EINVAL, kab_vm_create(self->dev, &vm, &req, 0),
		       "psi_fd = " PSI_SYSTEM " without a trigger");
	req.psi_fd = file;
	KAB_EXPECT_ERR(EINVAL, kab_vm_create(self->dev, &vm, &req, 0),
		       "psi_fd = /proc/self/status");
	if (cpu >= 0) {
		req.psi_fd = cpu;
		KAB_EXPECT_ERR(EINVAL, kab_vm_create(self->dev, &vm, &req, 0),
			       "psi_fd = a /proc/pressure/cpu trigger");
	}
	KAB_EXPECT_OK(kab_nr_vms(&nr), "read nr_vms");
	if (nr != nr0)
		TH_LOG("a refused registration left a VM: nr_vms %" PRIu64
		       " -> %" PRIu64, nr0, nr);
	EXPECT_EQ(nr0, nr);

	/* Host wide. */
	KAB_EXPECT_ERR(EBADF, bind_host(self->dev, 1000, 0),
		       "host psi_fd = 1000 (not open)");
	KAB_EXPECT_ERR(EBADF, bind_host(self->dev, -1, 0), "host psi_fd = -1");
	KAB_EXPECT_ERR(EINVAL, bind_host(self->dev, efd, 0),
		       "host psi_fd = an eventfd");
	KAB_EXPECT_ERR(EINVAL, bind_host(self->dev, plain, 0),
		       "host psi_fd = " PSI_SYSTEM " without a trigger");
	if (cpu >= 0)
		KAB_EXPECT_ERR(EINVAL, bind_host(self->dev, cpu, 0),
			       "host psi_fd = a cpu trigger");

	ret = psi_trigger(PSI_SYSTEM, TRIGGER);
	KAB_ASSERT_OK(ret, "write a trigger to " PSI_SYSTEM);
	close(plain);
	plain = ret;
	memset(&h, 0, sizeof(h));
	h.size = KAB_HOST_PSI_SIZE_VER0 - 4;
	h.psi_fd = plain;
	KAB_EXPECT_ERR(EINVAL, bind_host_raw(self->dev, &h), "size too small");
	h.size = sizeof(h);
	h.flags = 1;
	KAB_EXPECT_ERR(EINVAL, bind_host_raw(self->dev, &h), "flags = 1");
	h.flags = 0;
	h.reserved[1] = 1;
	KAB_EXPECT_ERR(EINVAL, bind_host_raw(self->dev, &h), "reserved[1] = 1");
	h.reserved[1] = 0;
	h.level = 4;
	KAB_EXPECT_ERR(EINVAL, bind_host_raw(self->dev, &h), "level = 4");

	/* Root only, even with the device already open. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534))
			_exit(2);
		_exit(bind_host(self->dev, plain, 0) == -EPERM ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		TH_LOG("KAB_BIND_HOST_PSI as uid 65534: expected EPERM (child status %d)",
		       status);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* A trigger serves one binding at a time. */
	kab_create_vm_defaults(&req);
	req.psi_fd = plain;
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, &req, 0),
		      "register with a trigger");
	KAB_EXPECT_ERR(EEXIST, kab_vm_create(self->dev, &other, &req, 0),
		       "a second VM with the same trigger");
	KAB_EXPECT_ERR(EEXIST, bind_host(self->dev, plain, 0),
		       "host binding of a trigger bound to a VM");
	kab_vm_destroy(&vm);
	ret = bind_host(self->dev, plain, 0);
	KAB_EXPECT_OK(ret, "host binding once the VM is gone");
	if (ret >= 0) {
		EXPECT_EQ(host0 + 1, kab_sysfs_u64_or(PSI "host_triggers", 0));
		close(ret);
	}

	EXPECT_EQ(host0, kab_sysfs_u64_or(PSI "host_triggers", 99));
	close(efd);
	close(plain);
	close(file);
	if (cpu >= 0)
		close(cpu);
}

/* Wait until @rel exceeds @base by @by, up to @ms; returns its value. */
static uint64_t wait_counter(const char *rel, uint64_t base, uint64_t by,
			     unsigned int ms)
{
	uint64_t val = base;
	unsigned int waited;

	for (waited = 0; waited < ms; waited += 100) {
		val = kab_sysfs_u64_or(rel, base);
		if (val >= base + by)
			break;
		kab_sleep_ms(100);
	}
	return val;
}

TEST_F_TIMEOUT(psi, vm_trigger, 180)
{
	struct kab_test_vm a = { .fd = -1 }, b = { .fd = -1 };
	uint64_t ev0, ev, a_t0, a_t, b_seq0, b_seq, bound0;
	struct kab_create_vm req;
	const char *why;
	char buf[64];
	int trig;
	pid_t thrash;

	KAB_BAIL_IF_SKIPPED();
	why = kab_cg_unavailable();
	if (!why)
		why = kab_ramdisk_unavailable();
	if (why)
		SKIP(return, "vm_trigger: %s", why);
	kab_drop_caches();
	KAB_ASSERT_OK(kab_cg_create("kab-psi-a"), "mkdir kab-psi-a");
	trig = cg_trigger("kab-psi-a");
	KAB_ASSERT_OK(trig, "trigger on kab-psi-a/memory.pressure");

	/*
	 * Both VMs are registered from the root cgroup: reclaim in
	 * kab-psi-a is no vmpressure event for them, so what A sees comes
	 * from its trigger.
	 */
	bound0 = kab_sysfs_u64_or(PSI "vm_triggers", 0);
	big_vm_req(&req);
	req.psi_fd = trig;
	KAB_ASSERT_OK(kab_vm_create(self->dev, &a, &req, 0),
		      "register VM A with the trigger as psi_fd");
	big_vm_req(&req);
	KAB_ASSERT_OK(kab_vm_create(self->dev, &b, &req, 0),
		      "register VM B without a trigger");
	/* The module holds the trigger; ours can go. */
	close(trig);
	kab_vm_sysfs_read(a.id, "psi_trigger", buf, sizeof(buf));
	EXPECT_STREQ("bound", buf);
	EXPECT_EQ(bound0 + 1, kab_sysfs_u64_or(PSI "vm_triggers", 0));

	ev0 = kab_sysfs_u64_or(PSI "events_vm", 0);
	a_t0 = kab_vm_u64_or(a.id, "target_pages", 0);
	b_seq0 = kab_vm_u64_or(b.id, "target_seq", 0);
	KAB_ASSERT_OK(kab_cg_write("kab-psi-a", "memory.max", "32M"),
		      "kab-psi-a/memory.max = 32M");
	thrash = kab_thrash_start("kab-psi-a", 96, 150);
	KAB_ASSERT_OK(thrash, "fork the thrashing child");
	/* Two events: the second one needs the module to have re-armed. */
	ev = wait_counter(PSI "events_vm", ev0, 2, 120000);
	kab_child_stop(thrash);

	a_t = kab_vm_u64_or(a.id, "target_pages", 0);
	b_seq = kab_vm_u64_or(b.id, "target_seq", 0);
	TH_LOG("psi vm events %" PRIu64 " -> %" PRIu64 ", VM A target %"
	       PRIu64 " -> %" PRIu64, ev0, ev, a_t0, a_t);
	if (ev < ev0 + 2)
		TH_LOG("expected at least 2 trigger events (re-armed after the first), got %"
		       PRIu64, ev - ev0);
	EXPECT_LE(ev0 + 2, ev);
	kab_vm_sysfs_read(a.id, "host_last_source", buf, sizeof(buf));
	EXPECT_STREQ("psi", buf);
	kab_vm_sysfs_read(a.id, "host_last_level", buf, sizeof(buf));
	EXPECT_STREQ("medium", buf);	/* sources/psi/level, default */
	EXPECT_GT(a_t, a_t0);
	if (b_seq != b_seq0)
		TH_LOG("VM B: expected no change, seq %" PRIu64 " -> %" PRIu64,
		       b_seq0, b_seq);
	EXPECT_EQ(b_seq0, b_seq);

	kab_vm_destroy(&a);
	kab_vm_destroy(&b);
	EXPECT_EQ(bound0, kab_sysfs_u64_or(PSI "vm_triggers", 99));
	EXPECT_EQ(0, kab_cg_remove("kab-psi-a"));
}

TEST_F_TIMEOUT(psi, host_trigger, 180)
{
	struct kab_test_vm v[2] = { { .fd = -1 }, { .fd = -1 } };
	uint64_t ev0, ev, crit0, crit, t0[2], host0;
	struct kab_create_vm req;
	const char *why;
	char buf[64];
	int trig, bind, i;
	pid_t thrash;

	KAB_BAIL_IF_SKIPPED();
	why = kab_cg_unavailable();
	if (!why)
		why = kab_ramdisk_unavailable();
	if (why)
		SKIP(return, "host_trigger: %s", why);
	kab_drop_caches();
	KAB_ASSERT_OK(kab_cg_create("kab-psi-h"), "mkdir kab-psi-h");
	for (i = 0; i < 2; i++) {
		big_vm_req(&req);
		KAB_ASSERT_OK(kab_vm_create(self->dev, &v[i], &req, 0),
			      "register a VM");
		t0[i] = kab_vm_u64_or(v[i].id, "target_pages", 0);
	}
	/*
	 * Global pressure is sized by the host's deficit, and the thrashing
	 * below is confined to a 32 MiB memcg: the host keeps plenty
	 * available. A target of all of its RAM makes any available memory a
	 * deficit, so the events still inflate (the fixture restores it).
	 */
	if (kab_sysfs_exists("policy/host_available_percent"))
		KAB_ASSERT_OK(kab_sysfs_write("policy/host_available_percent",
					      "100"),
			      "policy/host_available_percent = 100");
	trig = psi_trigger(PSI_SYSTEM, TRIGGER);
	KAB_ASSERT_OK(trig, "write a trigger to " PSI_SYSTEM);
	host0 = kab_sysfs_u64_or(PSI "host_triggers", 0);
	bind = bind_host(self->dev, trig, KAB_LEVEL_CRITICAL);
	KAB_ASSERT_OK(bind, "KAB_BIND_HOST_PSI at level critical");
	close(trig);
	EXPECT_EQ(host0 + 1, kab_sysfs_u64_or(PSI "host_triggers", 0));

	ev0 = kab_sysfs_u64_or(PSI "events_global", 0);
	crit0 = kab_sysfs_u64_or(PSI "events_critical", 0);
	KAB_ASSERT_OK(kab_cg_write("kab-psi-h", "memory.max", "32M"),
		      "kab-psi-h/memory.max = 32M");
	thrash = kab_thrash_start("kab-psi-h", 96, 150);
	KAB_ASSERT_OK(thrash, "fork the thrashing child");
	ev = wait_counter(PSI "events_global", ev0, 2, 120000);
	kab_child_stop(thrash);
	crit = kab_sysfs_u64_or(PSI "events_critical", 0);

	TH_LOG("psi global events %" PRIu64 " -> %" PRIu64, ev0, ev);
	if (ev < ev0 + 2)
		TH_LOG("expected at least 2 host trigger events, got %" PRIu64,
		       ev - ev0);
	EXPECT_LE(ev0 + 2, ev);
	EXPECT_LE(crit0 + 2, crit);
	for (i = 0; i < 2; i++) {
		kab_vm_sysfs_read(v[i].id, "host_last_level", buf, sizeof(buf));
		EXPECT_STREQ("critical", buf);
		EXPECT_GT(kab_vm_u64_or(v[i].id, "target_pages", 0), t0[i]);
	}

	/* Closing the binding's fd unbinds. */
	close(bind);
	EXPECT_EQ(host0, kab_sysfs_u64_or(PSI "host_triggers", 99));
	for (i = 0; i < 2; i++)
		kab_vm_destroy(&v[i]);
	EXPECT_EQ(0, kab_cg_remove("kab-psi-h"));
}

TEST_F(psi, removed_cgroup)
{
	struct kab_test_vm vm = { .fd = -1 }, gone = { .fd = -1 };
	uint64_t unbinds0, unbinds, seq;
	struct kab_create_vm req;
	const char *why;
	char buf[64];
	int trig, i;

	KAB_BAIL_IF_SKIPPED();
	why = kab_cg_unavailable();
	if (why)
		SKIP(return, "removed_cgroup: %s", why);

	/* Bound, then its cgroup goes away: a clean unbind. */
	KAB_ASSERT_OK(kab_cg_create("kab-psi-r"), "mkdir kab-psi-r");
	trig = cg_trigger("kab-psi-r");
	KAB_ASSERT_OK(trig, "trigger on kab-psi-r/memory.pressure");
	kab_create_vm_defaults(&req);
	req.psi_fd = trig;
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, &req, 0),
		      "register with the trigger");
	close(trig);
	kab_vm_sysfs_read(vm.id, "psi_trigger", buf, sizeof(buf));
	EXPECT_STREQ("bound", buf);
	unbinds0 = kab_sysfs_u64_or(PSI "unbinds", 0);
	KAB_ASSERT_OK(kab_cg_remove("kab-psi-r"), "rmdir kab-psi-r");
	for (i = 0; i < KAB_WAIT_MS / 100; i++) {
		kab_vm_sysfs_read(vm.id, "psi_trigger", buf, sizeof(buf));
		if (!strcmp(buf, "unbound"))
			break;
		kab_sleep_ms(100);
	}
	if (strcmp(buf, "unbound"))
		TH_LOG("psi_trigger after rmdir: expected 'unbound', got '%s'",
		       buf);
	EXPECT_STREQ("unbound", buf);
	unbinds = kab_sysfs_u64_or(PSI "unbinds", 0);
	EXPECT_EQ(unbinds0 + 1, unbinds);

	/* The VM still works. */
	seq = kab_vm_u64_or(vm.id, "target_seq", 0);
	KAB_EXPECT_OK(kab_inject(KAB_LEVEL_MEDIUM, vm.id), "inject medium");
	EXPECT_LT(seq, kab_vm_u64_or(vm.id, "target_seq", 0));
	kab_vm_destroy(&vm);

	/* A trigger whose cgroup is already gone is refused. */
	KAB_ASSERT_OK(kab_cg_create("kab-psi-r"), "mkdir kab-psi-r again");
	trig = cg_trigger("kab-psi-r");
	KAB_ASSERT_OK(trig, "trigger on the new kab-psi-r/memory.pressure");
	KAB_ASSERT_OK(kab_cg_remove("kab-psi-r"), "rmdir kab-psi-r again");
	req.psi_fd = trig;
	KAB_EXPECT_ERR(EINVAL, kab_vm_create(self->dev, &gone, &req, 0),
		       "psi_fd = trigger of a removed cgroup");
	KAB_EXPECT_ERR(EINVAL, bind_host(self->dev, trig, 0),
		       "host psi_fd = trigger of a removed cgroup");
	close(trig);
}

KAB_TEST_MAIN
