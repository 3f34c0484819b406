// SPDX-License-Identifier: GPL-2.0
/*
 * What an unprivileged holder of /dev/kvm_autoballoon may see and do.
 *
 * The device is root's (mode 0600) unless the administrator gives it to a
 * group; these tests open it as root and hand the fd to a child that gave
 * up root (kab_run_unprivileged()), which is what a VMM in that group has.
 *
 *   sysfs	every file of vms/<id>/ is root only (0400).
 *   KAB_CREATE_VM without CAP_SYS_ADMIN
 *		needs a KVM VM fd (EPERM), a total_pages within that VM's
 *		memory slots (ERANGE), a weight of at most KAB_DEFAULT_WEIGHT
 *		(EPERM), and at most max_vms_per_user VMs per user (EDQUOT).
 *   policy	a VM whose VMM never reports its balloon's size gets one
 *		inflation, no more.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "kvm.h"
#include "lib.h"

/* The KVM VMs of these tests: one memory slot of 16 MiB. */
#define TRUST_MEM_PAGES		4096ULL
#define TRUST_MAX_KVM		4

/*
 * A KVM VM with one slot of TRUST_MEM_PAGES at guest address 0 (no
 * vCPU: the module only looks at the slots). Returns the VM fd or -errno.
 */
static int kvm_vm_with_memory(int kvm_fd)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0,
		.memory_size = TRUST_MEM_PAGES * 4096,
	};
	void *mem;
	int vm, ret;

	vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm < 0)
		return -errno;
	mem = mmap(NULL, r.memory_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		ret = -errno;
		close(vm);
		return ret;
	}
	r.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r)) {
		ret = -errno;
		close(vm);
		return ret;
	}
	/* The mapping stays for the life of the program, as the slot's. */
	return vm;
}

FIXTURE(trust) {
	int dev;
	int kvm;
	int kvm_vm[TRUST_MAX_KVM];
	int target_efd;
	uint64_t old_per_user;
	struct kab_policy_snapshot policy;
	bool policy_saved;
};

FIXTURE_SETUP(trust)
{
	const char *why;
	unsigned int i;

	self->dev = -1;
	self->kvm = -1;
	self->target_efd = -1;
	self->old_per_user = 0;
	for (i = 0; i < TRUST_MAX_KVM; i++)
		self->kvm_vm[i] = -1;
	KAB_REQUIRE_MODULE();
	if (geteuid())
		SKIP(return, "%s: needs root to drop it", _metadata->name);
	self->dev = kab_dev_open();
	KAB_ASSERT_OK(self->dev, "open " KAB_DEV_PATH);
	self->target_efd = kab_eventfd_new();
	KAB_ASSERT_OK(self->target_efd, "eventfd");
	KAB_ASSERT_OK(kab_sysfs_read_u64("max_vms_per_user",
					 &self->old_per_user),
		      "read max_vms_per_user");
	KAB_SETUP_POLICY(self);
	why = kab_kvm_unavailable_reason();
	if (why)
		return;		/* the tests that need a KVM VM skip */
	self->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	for (i = 0; self->kvm >= 0 && i < TRUST_MAX_KVM; i++)
		self->kvm_vm[i] = kvm_vm_with_memory(self->kvm);
}

FIXTURE_TEARDOWN(trust)
{
	char text[32];
	unsigned int i;

	if (self->old_per_user) {
		snprintf(text, sizeof(text), "%" PRIu64, self->old_per_user);
		EXPECT_EQ(0, kab_sysfs_write("max_vms_per_user", text));
	}
	if (self->policy_saved)
		EXPECT_EQ(0, kab_policy_restore(&self->policy));
	for (i = 0; i < TRUST_MAX_KVM; i++)
		if (self->kvm_vm[i] >= 0)
			close(self->kvm_vm[i]);
	if (self->kvm >= 0)
		close(self->kvm);
	if (self->target_efd >= 0)
		close(self->target_efd);
	if (self->dev >= 0)
		close(self->dev);
}

/* Skip unless the fixture could make its KVM VMs. */
#define REQUIRE_KVM_VMS(self) do {					\
	const char *__why = kab_kvm_unavailable_reason();		\
	if (__why)							\
		SKIP(return, "%s: %s", _metadata->name, __why);		\
	ASSERT_LE(0, (self)->kvm_vm[TRUST_MAX_KVM - 1])			\
		TH_LOG("a KVM VM with a memory slot: %d",		\
		       (self)->kvm_vm[TRUST_MAX_KVM - 1]);		\
} while (0)

/* A request an unprivileged VMM may make for KVM VM @vm_fd. */
static void trust_req(struct kab_create_vm *req, int target_efd, int vm_fd)
{
	kab_create_vm_defaults(req);
	req->total_pages = TRUST_MEM_PAGES;
	req->floor_pages = TRUST_MEM_PAGES / 4;
	req->ceiling_pages = TRUST_MEM_PAGES;
	req->weight = KAB_DEFAULT_WEIGHT;
	req->target_fd = target_efd;
	req->kvm_vm_fd = vm_fd;
}

/*
 * What the child registers: @nr requests, kept open until all are made.
 * The child returns 0 when each got what @want[] says (0: a VM, else that
 * errno), else 100 + the index of the first that did not.
 */
struct create_job {
	int dev;
	unsigned int nr;
	struct kab_create_vm req[TRUST_MAX_KVM];
	int want[TRUST_MAX_KVM];
};

static int create_as_child(void *arg)
{
	struct create_job *job = arg;
	unsigned int i;
	int ret;

	for (i = 0; i < job->nr; i++) {
		ret = kab_create_vm_raw(job->dev, &job->req[i]);
		if (ret >= 0 ? job->want[i] != 0 : job->want[i] != -ret)
			return 100 + i;
	}
	return 0;
}

/* Run @job as uid nobody; log which request went wrong. */
static void run_job(struct __test_metadata *_metadata, struct create_job *job,
		    const char *what)
{
	int ret = kab_run_unprivileged(KAB_NOBODY, create_as_child, job);

	if (ret >= 100 && ret < 100 + (int)job->nr)
		TH_LOG("%s: request %d as uid %d did not get %s", what,
		       ret - 100, KAB_NOBODY,
		       job->want[ret - 100] ? strerrorname_np(job->want[ret - 100]) :
		       "a VM");
	else if (ret)
		TH_LOG("%s: child as uid %d: %d", what, KAB_NOBODY, ret);
	EXPECT_EQ(0, ret);
}

/* No KVM VM fd: nothing bounds the size; root only. */
TEST_F(trust, no_kvm_vm_fd_needs_cap_sys_admin)
{
	struct create_job job = { .dev = self->dev, .nr = 1 };
	int fd;

	KAB_BAIL_IF_SKIPPED();
	kab_create_vm_defaults(&job.req[0]);
	job.req[0].target_fd = self->target_efd;
	job.want[0] = EPERM;
	run_job(_metadata, &job, "no kvm_vm_fd");
	fd = kab_create_vm_raw(self->dev, &job.req[0]);
	KAB_EXPECT_OK(fd, "the same request as root");
	if (fd >= 0)
		close(fd);
}

TEST_F(trust, weight_above_default_needs_cap_sys_admin)
{
	struct create_job job = { .dev = self->dev, .nr = 2 };
	int fd;

	KAB_BAIL_IF_SKIPPED();
	REQUIRE_KVM_VMS(self);
	trust_req(&job.req[0], self->target_efd, self->kvm_vm[0]);
	job.req[0].weight = KAB_DEFAULT_WEIGHT + 1;
	job.want[0] = EPERM;
	/* The default itself is anybody's (the VM is free again). */
	trust_req(&job.req[1], self->target_efd, self->kvm_vm[0]);
	job.want[1] = 0;
	run_job(_metadata, &job, "weight");
	fd = kab_create_vm_raw(self->dev, &job.req[0]);
	KAB_EXPECT_OK(fd, "weight above the default as root");
	if (fd >= 0)
		close(fd);
}

TEST_F(trust, total_pages_within_kvm_memory)
{
	struct create_job job = { .dev = self->dev, .nr = 2 };
	int fd;

	KAB_BAIL_IF_SKIPPED();
	REQUIRE_KVM_VMS(self);
	trust_req(&job.req[0], self->target_efd, self->kvm_vm[0]);
	job.req[0].total_pages = TRUST_MEM_PAGES + 1;
	job.want[0] = ERANGE;
	trust_req(&job.req[1], self->target_efd, self->kvm_vm[0]);
	job.want[1] = 0;
	run_job(_metadata, &job, "total_pages");
	fd = kab_create_vm_raw(self->dev, &job.req[0]);
	KAB_EXPECT_OK(fd, "total_pages above the slots as root");
	if (fd >= 0)
		close(fd);
}

TEST_F(trust, per_user_limit)
{
	struct create_job job = { .dev = self->dev, .nr = 3 };
	struct kab_create_vm req;
	unsigned int i;
	int fd;

	KAB_BAIL_IF_SKIPPED();
	REQUIRE_KVM_VMS(self);
	KAB_ASSERT_OK(kab_sysfs_write("max_vms_per_user", "2"),
		      "max_vms_per_user 2");
	for (i = 0; i < 3; i++) {
		trust_req(&job.req[i], self->target_efd, self->kvm_vm[i]);
		job.want[i] = i < 2 ? 0 : EDQUOT;
	}
	/* Root's VMs count against nobody's limit, nor against root's. */
	trust_req(&req, self->target_efd, self->kvm_vm[3]);
	fd = kab_create_vm_raw(self->dev, &req);
	KAB_EXPECT_OK(fd, "root's VM");
	run_job(_metadata, &job, "max_vms_per_user 2");
	if (fd >= 0)
		close(fd);
	KAB_EXPECT_ERR(EINVAL, kab_sysfs_write("max_vms_per_user", "0"),
		       "max_vms_per_user 0");
	KAB_EXPECT_ERR(EINVAL, kab_sysfs_write("max_vms_per_user", "65537"),
		       "max_vms_per_user 65537");
}

/*
 * A VMM that never reports the balloon's size gets one inflation; one that
 * reports gets one per event.
 */
TEST_F(trust, never_reported_gets_one_inflation)
{
	struct kab_test_vm quiet, honest;
	struct kab_vm_stats s;
	struct kab_target t;
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &quiet, NULL, 0), "quiet VM");
	KAB_ASSERT_OK(kab_vm_create(self->dev, &honest, NULL, 0), "honest VM");
	ASSERT_EQ(0, kab_get_target(honest.fd, &t));
	KAB_ASSERT_OK(kab_set_actual(honest.fd, t.target_pages), "actual");
	for (i = 0; i < 3; i++) {
		KAB_ASSERT_OK(kab_inject(KAB_LEVEL_CRITICAL, 0), "inject");
		ASSERT_EQ(0, kab_get_target(honest.fd, &t));
		KAB_ASSERT_OK(kab_set_actual(honest.fd, t.target_pages),
			      "the honest balloon follows");
	}
	ASSERT_EQ(0, kab_get_stats(quiet.fd, &s));
	EXPECT_EQ(3, s.host_events[KAB_LEVEL_CRITICAL - 1]);
	EXPECT_EQ(1, s.inflations)
		TH_LOG("a VMM that never reported was inflated %" PRIu64 " times",
		       (uint64_t)s.inflations);
	ASSERT_EQ(0, kab_get_stats(honest.fd, &s));
	EXPECT_EQ(3, s.inflations);
	kab_vm_destroy(&quiet);
	kab_vm_destroy(&honest);
}

/* ---- sysfs ---- */

struct vm_dir {
	char path[128];
};

/* In the child: how many files of the VM's directory it could open. */
static int open_vm_files(void *arg)
{
	const struct vm_dir *d = arg;
	char path[400];
	struct dirent *de;
	int opened = 0, fd;
	DIR *dir;

	dir = opendir(d->path);
	if (!dir)
		return 201;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", d->path, de->d_name);
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			opened++;
			close(fd);
		} else if (errno != EACCES) {
			opened++;	/* any other answer is wrong too */
		}
	}
	closedir(dir);
	return opened > 200 ? 200 : opened;
}

TEST_F(trust, vm_sysfs_root_only)
{
	char path[400];
	struct kab_test_vm vm;
	struct vm_dir d;
	struct dirent *de;
	struct stat st;
	unsigned int files = 0;
	DIR *dir;
	int ret;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, 0), "create");
	snprintf(d.path, sizeof(d.path), KAB_SYSFS_ROOT "/vms/%u", vm.id);
	dir = opendir(d.path);
	ASSERT_NE(NULL, dir) TH_LOG("no %s", d.path);
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", d.path, de->d_name);
		ASSERT_EQ(0, stat(path, &st));
		EXPECT_EQ(0400, st.st_mode & 07777)
			TH_LOG("%s has mode %04o", path, st.st_mode & 07777);
		files++;
	}
	closedir(dir);
	EXPECT_LT(20, files) TH_LOG("only %u files in %s", files, d.path);
	/* owner_pid and memcg name a tenant: nobody reads any of it. */
	ret = kab_run_unprivileged(KAB_NOBODY, open_vm_files, &d);
	EXPECT_EQ(0, ret)
		TH_LOG("uid %d opened %d files of %s (201: not even the directory)",
		       KAB_NOBODY, ret, d.path);
	kab_vm_destroy(&vm);
}

KAB_TEST_MAIN
