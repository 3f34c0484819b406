// SPDX-License-Identifier: GPL-2.0
/*
 * Every bad input the ABI and the sysfs knobs can be given, each answered
 * with its precise errno (include/uapi/linux/kvm_autoballoon.h), and
 * nothing half-applied: after each refusal no VM is left registered, no
 * eventfd stays bound, no value has changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

#define PAGE		4096

FIXTURE(bad) {
	int dev;
	int efd;			/* a valid target eventfd */
	int pfd[KAB_NR_LEVELS];		/* valid pressure eventfds */
	int closed_fd;			/* a number that is not an open fd */
	uint64_t nr_vms;
	struct kab_create_vm req;	/* valid; each test breaks one thing */
};

FIXTURE_SETUP(bad)
{
	unsigned int i;

	self->dev = -1;
	self->efd = -1;
	self->closed_fd = -1;
	for (i = 0; i < KAB_NR_LEVELS; i++)
		self->pfd[i] = -1;
	KAB_REQUIRE_MODULE();
	self->dev = kab_dev_open();
	KAB_ASSERT_OK(self->dev, "open " KAB_DEV_PATH);
	KAB_ASSERT_OK(kab_nr_vms(&self->nr_vms), "read nr_vms");
	self->efd = kab_eventfd_new();
	ASSERT_LE(0, self->efd);
	for (i = 0; i < KAB_NR_LEVELS; i++) {
		self->pfd[i] = kab_eventfd_new();
		ASSERT_LE(0, self->pfd[i]);
	}
	/* A high number, opened then closed: surely not reused meanwhile. */
	self->closed_fd = dup2(self->efd, 900);
	ASSERT_EQ(900, self->closed_fd);
	close(self->closed_fd);

	kab_create_vm_defaults(&self->req);
	self->req.target_fd = self->efd;
}

FIXTURE_TEARDOWN(bad)
{
	unsigned int i;
	uint64_t nr;

	/* Whatever was refused must not have left a VM behind. */
	if (self->dev >= 0) {
		EXPECT_EQ(0, kab_wait_nr_vms(self->nr_vms, KAB_WAIT_MS))
			TH_LOG("nr_vms %" PRIu64 " instead of %" PRIu64
			       ": a refused or closed registration is still counted",
			       kab_nr_vms(&nr) ? 0 : nr, self->nr_vms);
		close(self->dev);
	}
	if (self->efd >= 0)
		close(self->efd);
	for (i = 0; i < KAB_NR_LEVELS; i++)
		if (self->pfd[i] >= 0)
			close(self->pfd[i]);
}

#define EXPECT_CREATE_ERR(err, reqp, what)				\
	KAB_EXPECT_ERR(err, kab_create_vm_raw(self->dev, (reqp)), what)

/* A valid request succeeds and the VM goes away on close. */
#define EXPECT_CREATE_OK(reqp, what) do {				\
	int __fd = kab_create_vm_raw(self->dev, (reqp));		\
	KAB_EXPECT_OK(__fd, what);					\
	if (__fd >= 0)							\
		close(__fd);						\
} while (0)

/* Two pages, the second PROT_NONE: a struct can end right at the hole. */
static uint8_t *map_guarded(void)
{
	uint8_t *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + PAGE, PAGE, PROT_NONE)) {
		munmap(p, 2 * PAGE);
		return NULL;
	}
	return p;
}

/* ---- struct size ---- */

TEST_F(bad, size_too_small)
{
	static const uint32_t sizes[] = {
		0, 4, 8, KAB_CREATE_VM_SIZE_VER0 - 8,
		KAB_CREATE_VM_SIZE_VER0 - 1,
	};
	char what[64];
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		self->req.size = sizes[i];
		snprintf(what, sizeof(what), "size %u", sizes[i]);
		EXPECT_CREATE_ERR(EINVAL, &self->req, what);
	}
}

TEST_F(bad, size_nonzero_tail)
{
	uint8_t *buf = calloc(1, PAGE);
	unsigned int i;
	static const uint32_t offs[] = { 0, 7, 100 };
	char what[64];

	KAB_BAIL_IF_SKIPPED();
	ASSERT_NE(NULL, buf);
	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		memset(buf, 0, PAGE);
		memcpy(buf, &self->req, sizeof(self->req));
		((struct kab_create_vm *)buf)->size = PAGE;
		buf[sizeof(self->req) + offs[i]] = 1;
		snprintf(what, sizeof(what), "size %u, tail byte %u set",
			 PAGE, offs[i]);
		EXPECT_CREATE_ERR(E2BIG, buf, what);
	}
	/* The very last byte of a page-sized struct counts too. */
	memset(buf, 0, PAGE);
	memcpy(buf, &self->req, sizeof(self->req));
	((struct kab_create_vm *)buf)->size = PAGE;
	buf[PAGE - 1] = 0x80;
	EXPECT_CREATE_ERR(E2BIG, buf, "size 4096, last byte set");
	/* And with that byte cleared the same request is fine. */
	buf[PAGE - 1] = 0;
	EXPECT_CREATE_OK(buf, "size 4096, zero tail");
	free(buf);
}

TEST_F(bad, size_above_page)
{
	static const uint32_t sizes[] = { PAGE + 1, 2 * PAGE, 65536, UINT32_MAX };
	uint8_t *buf = calloc(1, 2 * PAGE);
	char what[64];
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	ASSERT_NE(NULL, buf);
	memcpy(buf, &self->req, sizeof(self->req));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		((struct kab_create_vm *)buf)->size = sizes[i];
		snprintf(what, sizeof(what), "size %u (zero tail)", sizes[i]);
		EXPECT_CREATE_ERR(E2BIG, buf, what);
	}
	free(buf);
}

/* A size that claims bytes beyond the caller's mapping. */
TEST_F(bad, size_runs_into_hole)
{
	uint8_t *p = map_guarded();
	struct kab_create_vm *req;

	KAB_BAIL_IF_SKIPPED();
	ASSERT_NE(NULL, p);
	req = (struct kab_create_vm *)(p + PAGE - sizeof(*req));
	*req = self->req;
	req->size = sizeof(*req) + 16;
	EXPECT_CREATE_ERR(EFAULT, req, "size reaching into a PROT_NONE page");
	/* The exact size, ending at the hole, is fine. */
	req->size = sizeof(*req);
	EXPECT_CREATE_OK(req, "struct ending at a PROT_NONE page");
	munmap(p, 2 * PAGE);
}

/* ---- flags and reserved fields ---- */

TEST_F(bad, flags_nonzero)
{
	static const uint32_t flags[] = { 1, 2, 0x80000000u, UINT32_MAX };
	char what[64];
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		self->req.flags = flags[i];
		snprintf(what, sizeof(what), "flags 0x%x", flags[i]);
		EXPECT_CREATE_ERR(EINVAL, &self->req, what);
	}
}

TEST_F(bad, reserved_nonzero)
{
	struct kab_create_vm req;
	char what[64];
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	req = self->req;
	req.reserved32 = 1;
	EXPECT_CREATE_ERR(EINVAL, &req, "reserved32 = 1");
	for (i = 0; i < ARRAY_SIZE(req.reserved); i++) {
		req = self->req;
		req.reserved[i] = 1ull << (i * 20);
		snprintf(what, sizeof(what), "reserved[%u] = 0x%llx", i,
			 (unsigned long long)req.reserved[i]);
		EXPECT_CREATE_ERR(EINVAL, &req, what);
	}
	req = self->req;
	req.reserved[3] = 1ull << 63;
	EXPECT_CREATE_ERR(EINVAL, &req, "reserved[3] top bit");
}

/* ---- fds ---- */

/* Open fds of kinds that are not eventfds; -1 where one could not be made. */
struct other_fds {
	int pipe[2];
	int devnull;
	int sock[2];
	int epoll;
	int timer;
	int self_exe;
};

static void other_fds_open(struct other_fds *o)
{
	if (pipe2(o->pipe, O_CLOEXEC)) {
		o->pipe[0] = -1;
		o->pipe[1] = -1;
	}
	o->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, o->sock)) {
		o->sock[0] = -1;
		o->sock[1] = -1;
	}
	o->epoll = epoll_create1(EPOLL_CLOEXEC);
	o->timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	o->self_exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
}

static void other_fds_close(struct other_fds *o)
{
	int *fds = (int *)o;
	unsigned int i;

	for (i = 0; i < sizeof(*o) / sizeof(int); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static const char * const other_fd_names[] = {
	"pipe read end", "pipe write end", "/dev/null", "unix socket",
	"unix socket peer", "epoll fd", "timerfd", "regular file",
};

/*
 * Put every fd that is not what @field wants into @field, and each time
 * expect EINVAL; then every number that is not an open fd, expecting EBADF.
 * @field points into self->req. @optional: -1 is accepted.
 */
static void check_fd_field(struct __test_metadata *_metadata,
			   FIXTURE_DATA(bad) *self, int32_t *field,
			   const char *name, bool optional)
{
	static const int32_t not_fds[] = { -2, -100, INT_MIN, 123456, INT_MAX };
	int32_t saved = *field;
	struct other_fds o;
	char what[96];
	unsigned int i;
	int *fds = (int *)&o;

	other_fds_open(&o);
	for (i = 0; i < ARRAY_SIZE(other_fd_names); i++) {
		if (fds[i] < 0)
			continue;
		*field = fds[i];
		snprintf(what, sizeof(what), "%s = %s", name,
			 other_fd_names[i]);
		EXPECT_CREATE_ERR(EINVAL, &self->req, what);
	}
	*field = self->dev;
	snprintf(what, sizeof(what), "%s = " KAB_DEV_PATH " fd", name);
	EXPECT_CREATE_ERR(EINVAL, &self->req, what);
	other_fds_close(&o);

	*field = self->closed_fd;
	snprintf(what, sizeof(what), "%s = a closed fd", name);
	EXPECT_CREATE_ERR(EBADF, &self->req, what);
	for (i = 0; i < ARRAY_SIZE(not_fds); i++) {
		*field = not_fds[i];
		snprintf(what, sizeof(what), "%s = %d", name, not_fds[i]);
		EXPECT_CREATE_ERR(EBADF, &self->req, what);
	}
	*field = KAB_NO_FD;
	snprintf(what, sizeof(what), "%s = -1", name);
	if (optional)
		EXPECT_CREATE_OK(&self->req, what);
	else
		EXPECT_CREATE_ERR(EBADF, &self->req, what);
	*field = saved;
}

TEST_F(bad, target_fd)
{
	KAB_BAIL_IF_SKIPPED();
	check_fd_field(_metadata, self, &self->req.target_fd, "target_fd",
		       false);
}

TEST_F(bad, pressure_fd)
{
	static const char * const names[] = {
		"pressure_fd[low]", "pressure_fd[medium]",
		"pressure_fd[critical]",
	};
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	for (i = 0; i < KAB_NR_LEVELS; i++)
		check_fd_field(_metadata, self, &self->req.pressure_fd[i],
			       names[i], true);
}

TEST_F(bad, kvm_vm_fd)
{
	KAB_BAIL_IF_SKIPPED();
	/* An eventfd is not a KVM VM either. */
	self->req.kvm_vm_fd = self->pfd[0];
	EXPECT_CREATE_ERR(EINVAL, &self->req, "kvm_vm_fd = an eventfd");
	check_fd_field(_metadata, self, &self->req.kvm_vm_fd, "kvm_vm_fd",
		       true);
}

TEST_F(bad, psi_fd)
{
	KAB_BAIL_IF_SKIPPED();
	self->req.psi_fd = self->pfd[0];
	EXPECT_CREATE_ERR(EINVAL, &self->req, "psi_fd = an eventfd");
	check_fd_field(_metadata, self, &self->req.psi_fd, "psi_fd", true);
}

/* A pressure file opened without a trigger written is no PSI trigger. */
TEST_F(bad, psi_fd_without_trigger)
{
	int fd;

	KAB_BAIL_IF_SKIPPED();
	fd = open("/proc/pressure/memory", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SKIP(return, "psi_fd_without_trigger: /proc/pressure/memory: %s",
		     strerror(errno));
	self->req.psi_fd = fd;
	EXPECT_CREATE_ERR(EINVAL, &self->req,
			  "psi_fd = /proc/pressure/memory without a trigger");
	close(fd);
}

TEST_F(bad, same_eventfd_twice)
{
	struct kab_create_vm req;
	int dupfd;

	KAB_BAIL_IF_SKIPPED();
	req = self->req;
	req.pressure_fd[0] = req.target_fd;
	EXPECT_CREATE_ERR(EEXIST, &req, "pressure_fd[low] = target_fd");

	req = self->req;
	req.pressure_fd[0] = self->pfd[0];
	req.pressure_fd[2] = self->pfd[0];
	EXPECT_CREATE_ERR(EEXIST, &req, "pressure_fd[low] = [critical]");

	req = self->req;
	req.pressure_fd[0] = self->pfd[0];
	req.pressure_fd[1] = self->pfd[0];
	req.pressure_fd[2] = self->pfd[0];
	EXPECT_CREATE_ERR(EEXIST, &req, "one eventfd for all three levels");

	/* Another fd number for the same eventfd is still the same one. */
	dupfd = dup(self->efd);
	ASSERT_LE(0, dupfd);
	req = self->req;
	req.pressure_fd[1] = dupfd;
	EXPECT_CREATE_ERR(EEXIST, &req, "pressure_fd[medium] = dup(target_fd)");
	close(dupfd);
}

/*
 * A request refused at its last fd must not leave the earlier eventfds
 * bound: signalling them must not reach a VM that never existed (a stale
 * wait-queue entry would be a use-after-free), and a correct request can
 * use them at once.
 */
TEST_F(bad, refused_request_binds_nothing)
{
	struct kab_create_vm req;
	struct kab_vm_stats s;
	unsigned int i;
	int fd;

	KAB_BAIL_IF_SKIPPED();
	req = self->req;
	req.pressure_fd[0] = self->pfd[0];
	req.pressure_fd[1] = self->pfd[1];
	req.pressure_fd[2] = self->closed_fd;
	EXPECT_CREATE_ERR(EBADF, &req, "pressure_fd[critical] closed");
	req.pressure_fd[2] = self->pfd[2];
	req.kvm_vm_fd = self->pfd[2] + 1000;
	EXPECT_CREATE_ERR(EBADF, &req, "kvm_vm_fd not open");
	req.kvm_vm_fd = KAB_NO_FD;
	req.weight = 0;
	EXPECT_CREATE_ERR(EINVAL, &req, "weight 0 after valid fds");
	req.weight = KAB_TEST_WEIGHT;

	for (i = 0; i < KAB_NR_LEVELS; i++)
		EXPECT_EQ(0, kab_eventfd_signal(self->pfd[i], 1));
	kab_sleep_ms(100);

	fd = kab_create_vm_raw(self->dev, &req);
	KAB_ASSERT_OK(fd, "the same eventfds in a correct request");
	ASSERT_EQ(0, kab_get_stats(fd, &s));
	close(fd);
}

/* ---- page counts and weight ---- */

struct limits_case {
	uint64_t total, floor, ceiling;
	uint32_t weight;
	int err;		/* 0: accepted */
	const char *what;
};

static const struct limits_case limits_cases[] = {
	{ 0, 1, 1, 1, EINVAL, "total 0" },
	{ 100, 0, 50, 1, EINVAL, "floor 0" },
	{ 100, 1, 0, 1, EINVAL, "ceiling 0" },
	{ 100, 60, 50, 1, EINVAL, "floor > ceiling" },
	{ 100, 100, 99, 1, EINVAL, "floor = total > ceiling" },
	{ 100, 10, 101, 1, ERANGE, "ceiling = total + 1" },
	{ 100, 10, UINT64_MAX, 1, ERANGE, "ceiling = 2^64-1" },
	{ KAB_MAX_PAGES + 1, 1, 100, 1, ERANGE, "total = KAB_MAX_PAGES + 1" },
	{ UINT64_MAX, 1, 100, 1, ERANGE, "total = 2^64-1" },
	{ KAB_MAX_PAGES + 1, 1, KAB_MAX_PAGES + 1, 1, ERANGE,
	  "total = ceiling = KAB_MAX_PAGES + 1" },
	{ 100, 10, 50, 0, EINVAL, "weight 0" },
	{ 100, 10, 50, KAB_MAX_WEIGHT + 1, EINVAL, "weight KAB_MAX_WEIGHT + 1" },
	{ 100, 10, 50, UINT32_MAX, EINVAL, "weight 2^32-1" },
	/* The edges that are allowed. */
	{ 1, 1, 1, 1, 0, "total = floor = ceiling = 1" },
	{ 100, 100, 100, 1, 0, "floor = ceiling = total" },
	{ 100, 1, 100, KAB_MAX_WEIGHT, 0, "weight KAB_MAX_WEIGHT" },
	{ KAB_MAX_PAGES, 1, KAB_MAX_PAGES, 1, 0,
	  "total = ceiling = KAB_MAX_PAGES" },
};

TEST_F(bad, limits)
{
	struct kab_create_vm req;
	struct kab_target t;
	unsigned int i;
	int fd;

	KAB_BAIL_IF_SKIPPED();
	for (i = 0; i < ARRAY_SIZE(limits_cases); i++) {
		const struct limits_case *c = &limits_cases[i];

		req = self->req;
		req.total_pages = c->total;
		req.floor_pages = c->floor;
		req.ceiling_pages = c->ceiling;
		req.weight = c->weight;
		if (c->err) {
			EXPECT_CREATE_ERR(c->err, &req, c->what);
			continue;
		}
		fd = kab_create_vm_raw(self->dev, &req);
		KAB_EXPECT_OK(fd, c->what);
		if (fd < 0)
			continue;
		EXPECT_EQ(0, kab_get_target(fd, &t));
		EXPECT_EQ(c->total - c->ceiling, t.target_pages)
			TH_LOG("%s: initial target", c->what);
		close(fd);
	}
}

/* ---- ioctl numbers ---- */

/*
 * Numbers nobody dispatches answer ENOTTY, among them every version 1
 * number (which encoded the argument's size and direction): an old binary
 * learns that it must be rebuilt instead of having its struct misread.
 */
TEST_F(bad, wrong_ioctls)
{
	static const struct {
		unsigned long cmd;
		const char *what;
	} dev_cmds[] = {
		{ _IO(KABIO, 0x04), "_IO(KABIO, 0x04)" },
		{ _IO(KABIO, 0x3f), "_IO(KABIO, 0x3f)" },
		{ _IO(KABIO, 0xff), "_IO(KABIO, 0xff)" },
		{ KAB_VM_GET_TARGET, "KAB_VM_GET_TARGET on the device" },
		{ KAB_VM_SET_ACTUAL, "KAB_VM_SET_ACTUAL on the device" },
		{ KAB_VM_GET_STATS, "KAB_VM_GET_STATS on the device" },
		{ KAB_VM_SET_GUEST_STATS, "KAB_VM_SET_GUEST_STATS on the device" },
		{ KAB_VM_RESTORE, "KAB_VM_RESTORE on the device" },
		{ _IOW(KABIO, 0x01, struct kab_create_vm),
		  "version 1 KAB_CREATE_VM (_IOW, size 96)" },
		{ _IOW(KABIO, 0x02, struct kab_host_psi),
		  "version 1 KAB_BIND_HOST_PSI (_IOW, size 32)" },
		{ _IOW(KABIO, 0x01, uint64_t), "KAB_CREATE_VM as _IOW size 8" },
		{ _IOWR(KABIO, 0x01, struct kab_create_vm), "KAB_CREATE_VM as _IOWR" },
		{ _IOR(KABIO, 0x03, struct kab_info), "KAB_GET_INFO as _IOR" },
		{ _IO(0xAE, 0x00), "KVM_GET_API_VERSION" },
		{ 0x5401, "TCGETS" },
	}, vm_cmds[] = {
		{ KAB_CREATE_VM, "KAB_CREATE_VM on a VM fd" },
		{ KAB_GET_API_VERSION, "KAB_GET_API_VERSION on a VM fd" },
		{ KAB_GET_INFO, "KAB_GET_INFO on a VM fd" },
		{ _IO(KABIO, 0x15), "_IO(KABIO, 0x15)" },
		{ _IOWR(KABIO, 0x10, struct kab_target),
		  "version 1 KAB_VM_GET_TARGET (_IOWR, size 24)" },
		{ _IOW(KABIO, 0x11, struct kab_actual),
		  "version 1 KAB_VM_SET_ACTUAL (_IOW, size 16)" },
		{ _IOWR(KABIO, 0x12, struct kab_vm_stats),
		  "version 1 KAB_VM_GET_STATS (_IOWR, size 144)" },
		{ _IOW(KABIO, 0x13, struct kab_guest_stats),
		  "KAB_VM_SET_GUEST_STATS as _IOW" },
		{ _IOWR(KABIO, 0x10, uint64_t), "KAB_VM_GET_TARGET as _IOWR size 8" },
		{ _IO(0xAE, 0x00), "KVM_GET_API_VERSION" },
		{ 0x5401, "TCGETS" },
	};
	uint8_t buf[PAGE];
	unsigned int i;
	int fd;

	KAB_BAIL_IF_SKIPPED();
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &self->req, sizeof(self->req));
	for (i = 0; i < ARRAY_SIZE(dev_cmds); i++)
		KAB_EXPECT_ERR(ENOTTY,
			       kab_sys(ioctl(self->dev, dev_cmds[i].cmd, buf)),
			       dev_cmds[i].what);

	fd = kab_create_vm_raw(self->dev, &self->req);
	KAB_ASSERT_OK(fd, "create");
	for (i = 0; i < ARRAY_SIZE(vm_cmds); i++) {
		memset(buf, 0, sizeof(buf));
		memcpy(buf, &self->req, sizeof(self->req));
		KAB_EXPECT_ERR(ENOTTY, kab_sys(ioctl(fd, vm_cmds[i].cmd, buf)),
			       vm_cmds[i].what);
	}
	close(fd);
}

/*
 * The size of every argument is in the argument, for every ioctl the same
 * contract: below the first version EINVAL; larger with a zero tail
 * accepted; larger with a nonzero tail E2BIG for what the kernel reads (an
 * out-only struct's tail is the caller's buffer: left untouched); above a
 * page E2BIG for what the kernel reads.
 */
TEST_F(bad, sizes_every_ioctl)
{
	static const struct {
		unsigned long cmd;
		uint32_t ver0;
		bool reads;	/* the kernel reads the struct (in) */
		const char *name;
	} cmds[] = {
		{ KAB_VM_GET_TARGET, KAB_TARGET_SIZE_VER0, false,
		  "KAB_VM_GET_TARGET" },
		{ KAB_VM_SET_ACTUAL, KAB_ACTUAL_SIZE_VER0, true,
		  "KAB_VM_SET_ACTUAL" },
		{ KAB_VM_GET_STATS, KAB_VM_STATS_SIZE_VER0, false,
		  "KAB_VM_GET_STATS" },
		{ KAB_VM_SET_GUEST_STATS, KAB_GUEST_STATS_SIZE_VER0, true,
		  "KAB_VM_SET_GUEST_STATS" },
		{ KAB_VM_RESTORE, KAB_RESTORE_SIZE_VER0, true,
		  "KAB_VM_RESTORE" },
		{ KAB_GET_INFO, KAB_INFO_SIZE_VER0, false, "KAB_GET_INFO" },
	};
	const uint64_t min_target = KAB_TEST_TOTAL - KAB_TEST_CEILING;
	struct kab_guest_stats gs;
	uint8_t *buf = calloc(1, 2 * PAGE);
	char what[96];
	unsigned int i;
	int fd, target;

	KAB_BAIL_IF_SKIPPED();
	ASSERT_NE(NULL, buf);
	fd = kab_create_vm_raw(self->dev, &self->req);
	KAB_ASSERT_OK(fd, "create");
	kab_guest_stats_defaults(&gs);

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		uint32_t ver0 = cmds[i].ver0;

		target = cmds[i].cmd == KAB_GET_INFO ? self->dev : fd;
#define FILL(sz) do {							\
		memset(buf, 0, 2 * PAGE);				\
		if (cmds[i].cmd == KAB_VM_SET_GUEST_STATS)		\
			memcpy(buf, &gs, sizeof(gs));			\
		if (cmds[i].cmd == KAB_VM_SET_ACTUAL)			\
			buf[8] = 1;	/* actual_pages = 1 */		\
		if (cmds[i].cmd == KAB_VM_RESTORE)			\
			memcpy(buf + 8, &min_target, 8);		\
		*(uint32_t *)buf = (sz);				\
	} while (0)
		FILL(0);
		snprintf(what, sizeof(what), "%s size 0", cmds[i].name);
		KAB_EXPECT_ERR(EINVAL, kab_sys(ioctl(target, cmds[i].cmd, buf)),
			       what);
		FILL(ver0 - 1);
		snprintf(what, sizeof(what), "%s size %u", cmds[i].name,
			 ver0 - 1);
		KAB_EXPECT_ERR(EINVAL, kab_sys(ioctl(target, cmds[i].cmd, buf)),
			       what);
		FILL(ver0 + 64);
		snprintf(what, sizeof(what), "%s size %u, zero tail",
			 cmds[i].name, ver0 + 64);
		KAB_EXPECT_OK(kab_sys(ioctl(target, cmds[i].cmd, buf)), what);
		FILL(ver0 + 64);
		buf[ver0 + 63] = 1;
		snprintf(what, sizeof(what), "%s size %u, last byte set",
			 cmds[i].name, ver0 + 64);
		if (cmds[i].reads) {
			KAB_EXPECT_ERR(E2BIG,
				       kab_sys(ioctl(target, cmds[i].cmd, buf)),
				       what);
		} else {
			KAB_EXPECT_OK(kab_sys(ioctl(target, cmds[i].cmd, buf)),
				      what);
			EXPECT_EQ(1, buf[ver0 + 63])
				TH_LOG("%s wrote past its struct", cmds[i].name);
		}
		if (cmds[i].reads) {
			FILL(PAGE + 1);
			snprintf(what, sizeof(what), "%s size %u, zero tail",
				 cmds[i].name, PAGE + 1);
			KAB_EXPECT_ERR(E2BIG,
				       kab_sys(ioctl(target, cmds[i].cmd, buf)),
				       what);
		}
#undef FILL
	}
	close(fd);
	free(buf);
}

/* ---- KAB_VM_SET_GUEST_STATS ---- */

/* Refused updates: each errno, and the figures stay what they were. */
TEST_F(bad, guest_stats)
{
	static const uint64_t bits[] = {
		KAB_GUEST_STAT_AVAILABLE, KAB_GUEST_STAT_FREE,
		KAB_GUEST_STAT_CACHE, KAB_GUEST_STAT_TOTAL,
		KAB_GUEST_STAT_COMMITTED,
	};
	struct kab_guest_stats ok, gs;
	uint64_t val;
	__u64 *fig[5];
	struct kab_test_vm vm;
	char what[96];
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, 0), "create");
	kab_guest_stats_defaults(&ok);
	KAB_ASSERT_OK(kab_set_guest_stats(vm.fd, &ok), "a valid update");

#define BAD(err, what) \
	KAB_EXPECT_ERR(err, kab_set_guest_stats(vm.fd, &gs), what)

	gs = ok;
	gs.flags = 1;
	BAD(EINVAL, "flags 1");
	gs.flags = 0x80000000u;
	BAD(EINVAL, "flags 0x80000000");
	for (i = 0; i < KAB_ARRAY_SIZE(gs.reserved); i++) {
		gs = ok;
		gs.reserved[i] = 1ull << 63;
		snprintf(what, sizeof(what), "reserved[%u] set", i);
		BAD(EINVAL, what);
	}
	gs = ok;
	gs.valid = 0;
	gs.total_pages = gs.available_pages = gs.free_pages = 0;
	gs.cache_pages = 0;
	BAD(EINVAL, "valid 0");
	gs = ok;
	gs.valid |= KAB_GUEST_STAT_ALL + 1;
	BAD(EINVAL, "valid with the first unknown bit");
	gs = ok;
	gs.valid |= 1ull << 63;
	BAD(EINVAL, "valid with bit 63");

	/* A figure whose bit is clear must be 0. */
	for (i = 0; i < KAB_ARRAY_SIZE(bits); i++) {
		gs = ok;
		gs.valid = KAB_GUEST_STAT_ALL & ~bits[i];
		gs.committed_pages = 5;
		fig[0] = &gs.available_pages;
		fig[1] = &gs.free_pages;
		fig[2] = &gs.cache_pages;
		fig[3] = &gs.total_pages;
		fig[4] = &gs.committed_pages;
		if (!*fig[i])
			*fig[i] = 1;
		snprintf(what, sizeof(what), "figure %u set, its bit clear", i);
		BAD(EINVAL, what);
	}

	/* Above the VM's registered size, or the guest's own total. */
	gs = ok;
	gs.total_pages = KAB_TEST_TOTAL + 1;
	BAD(ERANGE, "total above the registered total");
	gs.total_pages = UINT64_MAX;
	BAD(ERANGE, "total 2^64-1");
	gs = ok;
	gs.available_pages = gs.total_pages + 1;
	BAD(ERANGE, "available above the guest's total");
	gs = ok;
	gs.free_pages = gs.total_pages + 1;
	BAD(ERANGE, "free above the guest's total");
	gs = ok;
	gs.cache_pages = gs.total_pages + 1;
	BAD(ERANGE, "cache above the guest's total");
	gs = ok;
	gs.valid = KAB_GUEST_STAT_FREE;
	gs.available_pages = gs.cache_pages = gs.total_pages = 0;
	gs.free_pages = KAB_TEST_TOTAL + 1;
	BAD(ERANGE, "free above the registered total, no guest total");
	gs = ok;
	gs.valid |= KAB_GUEST_STAT_COMMITTED;
	gs.committed_pages = KAB_MAX_PAGES + 1;
	BAD(ERANGE, "committed above KAB_MAX_PAGES");
#undef BAD

	/* Nothing of it applied: the first update is what sysfs shows. */
	KAB_EXPECT_OK(kab_vm_sysfs_read_u64(vm.id, "guest_stats_updates", &val),
		      "guest_stats_updates");
	EXPECT_EQ(1, val) TH_LOG("a refused update was counted");
	KAB_EXPECT_OK(kab_vm_sysfs_read_u64(vm.id, "guest_free_pages", &val),
		      "guest_free_pages");
	EXPECT_EQ(ok.free_pages, val);
	KAB_EXPECT_OK(kab_vm_sysfs_read_u64(vm.id, "guest_total_pages", &val),
		      "guest_total_pages");
	EXPECT_EQ(ok.total_pages, val);

	/* The edges themselves are fine. */
	gs = ok;
	gs.total_pages = KAB_TEST_TOTAL;
	gs.available_pages = gs.free_pages = gs.cache_pages = KAB_TEST_TOTAL;
	gs.valid |= KAB_GUEST_STAT_COMMITTED;
	gs.committed_pages = KAB_MAX_PAGES;
	KAB_EXPECT_OK(kab_set_guest_stats(vm.fd, &gs), "every figure at its edge");
	kab_vm_destroy(&vm);
}

/* ---- bad pointers ---- */

TEST_F(bad, bad_pointers)
{
	void *const ptrs[] = {
		NULL, (void *)1, (void *)(uintptr_t)0xffffffff81000000ull,
		(void *)(uintptr_t)0x00007ffffffff000ull,
	};
	static const char * const names[] = {
		"NULL", "(void *)1", "a kernel address", "an unmapped address",
	};
	static const struct {
		unsigned long cmd;
		const char *name;
	} vm_cmds[] = {
		{ KAB_VM_GET_TARGET, "KAB_VM_GET_TARGET" },
		{ KAB_VM_SET_ACTUAL, "KAB_VM_SET_ACTUAL" },
		{ KAB_VM_GET_STATS, "KAB_VM_GET_STATS" },
		{ KAB_VM_SET_GUEST_STATS, "KAB_VM_SET_GUEST_STATS" },
		{ KAB_VM_RESTORE, "KAB_VM_RESTORE" },
	};
	char what[96];
	unsigned int i, j;
	uint8_t *p;
	int fd;

	KAB_BAIL_IF_SKIPPED();
	for (i = 0; i < ARRAY_SIZE(ptrs); i++) {
		snprintf(what, sizeof(what), "KAB_CREATE_VM(%s)", names[i]);
		EXPECT_CREATE_ERR(EFAULT, ptrs[i], what);
	}
	p = map_guarded();
	ASSERT_NE(NULL, p);
	EXPECT_CREATE_ERR(EFAULT, p + PAGE, "KAB_CREATE_VM(PROT_NONE page)");

	fd = kab_create_vm_raw(self->dev, &self->req);
	KAB_ASSERT_OK(fd, "create");
	for (j = 0; j < ARRAY_SIZE(vm_cmds); j++) {
		for (i = 0; i < ARRAY_SIZE(ptrs); i++) {
			snprintf(what, sizeof(what), "%s(%s)", vm_cmds[j].name,
				 names[i]);
			KAB_EXPECT_ERR(EFAULT,
				       kab_sys(ioctl(fd, vm_cmds[j].cmd, ptrs[i])),
				       what);
		}
		snprintf(what, sizeof(what), "%s(PROT_NONE page)",
			 vm_cmds[j].name);
		KAB_EXPECT_ERR(EFAULT, kab_sys(ioctl(fd, vm_cmds[j].cmd,
						     p + PAGE)), what);
	}

	/* Out structs whose size fits but whose end is in the hole. */
	{
		struct kab_target *t = (void *)(p + PAGE - 8);
		struct kab_vm_stats *s = (void *)(p + PAGE - 64);

		t->size = sizeof(*t);
		KAB_EXPECT_ERR(EFAULT, kab_sys(ioctl(fd, KAB_VM_GET_TARGET, t)),
			       "KAB_VM_GET_TARGET ending in a PROT_NONE page");
		s->size = sizeof(*s);
		KAB_EXPECT_ERR(EFAULT, kab_sys(ioctl(fd, KAB_VM_GET_STATS, s)),
			       "KAB_VM_GET_STATS ending in a PROT_NONE page");
	}
	{
		struct kab_info *info = (void *)(p + PAGE - 64);

		info->size = sizeof(*info);
		KAB_EXPECT_ERR(EFAULT, kab_sys(ioctl(self->dev, KAB_GET_INFO,
						     info)),
			       "KAB_GET_INFO ending in a PROT_NONE page");
		for (i = 0; i < ARRAY_SIZE(ptrs); i++) {
			snprintf(what, sizeof(what), "KAB_GET_INFO(%s)",
				 names[i]);
			KAB_EXPECT_ERR(EFAULT, kab_sys(ioctl(self->dev,
							     KAB_GET_INFO,
							     ptrs[i])), what);
		}
	}

	/* Read-only memory: fine for SET_ACTUAL, EFAULT for the getters. */
	{
		struct kab_actual a = { .size = sizeof(a), .actual_pages = 3 };
		struct kab_target t = { .size = sizeof(t) };
		struct kab_vm_stats s;

		memcpy(p, &a, sizeof(a));
		memcpy(p + 64, &t, sizeof(t));
		ASSERT_EQ(0, mprotect(p, PAGE, PROT_READ));
		KAB_EXPECT_OK(kab_sys(ioctl(fd, KAB_VM_SET_ACTUAL, p)),
			      "KAB_VM_SET_ACTUAL from read-only memory");
		KAB_EXPECT_ERR(EFAULT, kab_sys(ioctl(fd, KAB_VM_GET_TARGET,
						     p + 64)),
			       "KAB_VM_GET_TARGET into read-only memory");
		EXPECT_EQ(0, kab_get_stats(fd, &s));
		EXPECT_EQ(3, s.actual_pages);
	}
	close(fd);
	munmap(p, 2 * PAGE);
}

/* ---- the per-VM ioctls' own arguments ---- */

TEST_F(bad, vm_ioctl_args)
{
	struct {
		struct kab_actual a;
		uint8_t tail[PAGE];
	} big;
	struct kab_vm_stats s;
	struct kab_target t;
	struct kab_actual a;
	uint32_t sz;
	char what[64];
	int fd;

	KAB_BAIL_IF_SKIPPED();
	fd = kab_create_vm_raw(self->dev, &self->req);
	KAB_ASSERT_OK(fd, "create");
	KAB_ASSERT_OK(kab_set_actual(fd, 5), "KAB_VM_SET_ACTUAL 5");

	for (sz = 0; sz < KAB_TARGET_SIZE_VER0; sz += 7) {
		memset(&t, 0, sizeof(t));
		t.size = sz;
		snprintf(what, sizeof(what), "KAB_VM_GET_TARGET size %u", sz);
		KAB_EXPECT_ERR(EINVAL, kab_sys(ioctl(fd, KAB_VM_GET_TARGET, &t)),
			       what);
	}
	t.size = KAB_TARGET_SIZE_VER0 - 1;
	KAB_EXPECT_ERR(EINVAL, kab_sys(ioctl(fd, KAB_VM_GET_TARGET, &t)),
		       "KAB_VM_GET_TARGET size 23");
	s.size = KAB_VM_STATS_SIZE_VER0 - 1;
	KAB_EXPECT_ERR(EINVAL, kab_sys(ioctl(fd, KAB_VM_GET_STATS, &s)),
		       "KAB_VM_GET_STATS size 143");
	s.size = 0;
	KAB_EXPECT_ERR(EINVAL, kab_sys(ioctl(fd, KAB_VM_GET_STATS, &s)),
		       "KAB_VM_GET_STATS size 0");

	memset(&a, 0, sizeof(a));
	a.actual_pages = 1;
	a.size = 0;
	KAB_EXPECT_ERR(EINVAL, kab_sys(ioctl(fd, KAB_VM_SET_ACTUAL, &a)),
		       "KAB_VM_SET_ACTUAL size 0");
	a.size = KAB_ACTUAL_SIZE_VER0 - 1;
	KAB_EXPECT_ERR(EINVAL, kab_sys(ioctl(fd, KAB_VM_SET_ACTUAL, &a)),
		       "KAB_VM_SET_ACTUAL size 15");
	a.size = sizeof(a);
	a.flags = 1;
	KAB_EXPECT_ERR(EINVAL, kab_sys(ioctl(fd, KAB_VM_SET_ACTUAL, &a)),
		       "KAB_VM_SET_ACTUAL flags 1");
	a.flags = 0;
	a.actual_pages = KAB_TEST_TOTAL + 1;
	KAB_EXPECT_ERR(ERANGE, kab_sys(ioctl(fd, KAB_VM_SET_ACTUAL, &a)),
		       "KAB_VM_SET_ACTUAL total + 1");
	a.actual_pages = UINT64_MAX;
	KAB_EXPECT_ERR(ERANGE, kab_sys(ioctl(fd, KAB_VM_SET_ACTUAL, &a)),
		       "KAB_VM_SET_ACTUAL 2^64-1");

	memset(&big, 0, sizeof(big));
	big.a.actual_pages = 1;
	big.a.size = sizeof(big.a) + 8;
	big.tail[3] = 1;
	KAB_EXPECT_ERR(E2BIG, kab_sys(ioctl(fd, KAB_VM_SET_ACTUAL, &big)),
		       "KAB_VM_SET_ACTUAL nonzero tail");
	big.tail[3] = 0;
	big.a.size = PAGE + 1;
	KAB_EXPECT_ERR(E2BIG, kab_sys(ioctl(fd, KAB_VM_SET_ACTUAL, &big)),
		       "KAB_VM_SET_ACTUAL size 4097");

	/* None of that changed the reported size. */
	ASSERT_EQ(0, kab_get_stats(fd, &s));
	EXPECT_EQ(5, s.actual_pages)
		TH_LOG("a refused KAB_VM_SET_ACTUAL changed actual_pages");

	/* A getter told of a huge buffer still fills only what it knows. */
	memset(&t, 0, sizeof(t));
	t.size = UINT32_MAX;
	EXPECT_EQ(0, kab_sys(ioctl(fd, KAB_VM_GET_TARGET, &t)));
	EXPECT_EQ(KAB_TARGET_SIZE_VER0, t.size);
	close(fd);
}

/* ---- KAB_VM_RESTORE ---- */

/*
 * Every field checked, each refusal with its errno, and a refused restore
 * or reset changes nothing: not the target, its seq, the actual size nor
 * the guest's figures.
 */
TEST_F(bad, restore)
{
	const uint64_t lo = KAB_TEST_TOTAL - KAB_TEST_CEILING;
	const uint64_t hi = KAB_TEST_TOTAL - KAB_TEST_FLOOR;
	static const struct {
		uint32_t flags;
		uint64_t target, actual, reserved0, reserved1;
		int err;
		const char *what;
	} cases[] = {
		{ 2, lo, 0, 0, 0, EINVAL, "unknown flag 1 << 1" },
		{ 1u << 31, lo, 0, 0, 0, EINVAL, "unknown flag 1 << 31" },
		{ KAB_RESTORE_RESET | 2, 0, 0, 0, 0, EINVAL,
		  "reset with an unknown flag" },
		{ 0, lo, 0, 1, 0, EINVAL, "reserved[0] set" },
		{ 0, lo, 0, 0, 1ULL << 63, EINVAL, "reserved[1] set" },
		{ KAB_RESTORE_RESET, 0, 0, 1, 0, EINVAL, "reset, reserved set" },
		{ KAB_RESTORE_RESET, lo, 0, 0, 0, EINVAL, "reset with a target" },
		{ KAB_RESTORE_RESET, 0, 1, 0, 0, EINVAL, "reset with an actual" },
		{ 0, lo - 1, 0, 0, 0, ERANGE, "target below total - ceiling" },
		{ 0, 0, 0, 0, 0, ERANGE, "target 0 (below total - ceiling)" },
		{ 0, hi + 1, 0, 0, 0, ERANGE, "target above total - floor" },
		{ 0, UINT64_MAX, 0, 0, 0, ERANGE, "target 2^64-1" },
		{ 0, lo, KAB_TEST_TOTAL + 1, 0, 0, ERANGE, "actual total + 1" },
		{ 0, lo, UINT64_MAX, 0, 0, ERANGE, "actual 2^64-1" },
	};
	struct kab_guest_stats gs;
	struct kab_vm_stats before, after;
	struct kab_restore r;
	char figure[32];
	unsigned int i;
	int fd;

	KAB_BAIL_IF_SKIPPED();
	fd = kab_create_vm_raw(self->dev, &self->req);
	KAB_ASSERT_OK(fd, "create");
	KAB_ASSERT_OK(kab_set_actual(fd, 5), "KAB_VM_SET_ACTUAL 5");
	kab_guest_stats_defaults(&gs);
	KAB_ASSERT_OK(kab_set_guest_stats(fd, &gs), "KAB_VM_SET_GUEST_STATS");
	ASSERT_EQ(0, kab_get_stats(fd, &before));

	memset(&r, 0, sizeof(r));
	r.target_pages = lo;
	r.size = KAB_RESTORE_SIZE_VER0 - 1;
	KAB_EXPECT_ERR(EINVAL, kab_sys(ioctl(fd, KAB_VM_RESTORE, &r)),
		       "KAB_VM_RESTORE size 39");
	r.size = 0;
	KAB_EXPECT_ERR(EINVAL, kab_sys(ioctl(fd, KAB_VM_RESTORE, &r)),
		       "KAB_VM_RESTORE size 0");
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(&r, 0, sizeof(r));
		r.size = sizeof(r);
		r.flags = cases[i].flags;
		r.target_pages = cases[i].target;
		r.actual_pages = cases[i].actual;
		r.reserved[0] = cases[i].reserved0;
		r.reserved[1] = cases[i].reserved1;
		KAB_EXPECT_ERR(cases[i].err,
			       kab_sys(ioctl(fd, KAB_VM_RESTORE, &r)),
			       cases[i].what);
	}

	ASSERT_EQ(0, kab_get_stats(fd, &after));
	EXPECT_EQ(before.target_pages, after.target_pages);
	EXPECT_EQ(before.target_seq, after.target_seq)
		TH_LOG("a refused KAB_VM_RESTORE made a decision");
	EXPECT_EQ(5, after.actual_pages)
		TH_LOG("a refused KAB_VM_RESTORE changed actual_pages");
	KAB_EXPECT_OK(kab_vm_sysfs_read(before.vm_id, "guest_total_pages",
					figure, sizeof(figure)),
		      "guest_total_pages");
	EXPECT_STRNE("unknown", figure)
		TH_LOG("a refused KAB_VM_RESTORE forgot the guest's figures");
	close(fd);
}

/* ---- closing ---- */

TEST_F(bad, double_close)
{
	struct kab_target t;
	uint64_t nr;
	int a, b;

	KAB_BAIL_IF_SKIPPED();
	a = kab_create_vm_raw(self->dev, &self->req);
	KAB_ASSERT_OK(a, "create A");
	b = kab_create_vm_raw(self->dev, &self->req);
	KAB_ASSERT_OK(b, "create B (same target eventfd, another VM)");

	EXPECT_EQ(0, close(a));
	KAB_EXPECT_ERR(EBADF, kab_sys(close(a)), "second close of A");
	KAB_EXPECT_ERR(EBADF, kab_sys(ioctl(a, KAB_VM_GET_TARGET, &t)),
		       "KAB_VM_GET_TARGET on closed A");
	/* A counted once, B still there. */
	EXPECT_EQ(0, kab_wait_nr_vms(self->nr_vms + 1, KAB_WAIT_MS));
	EXPECT_EQ(0, kab_get_target(b, &t));
	EXPECT_EQ(0, close(b));
	KAB_EXPECT_ERR(EBADF, kab_sys(close(b)), "second close of B");
	EXPECT_EQ(0, kab_wait_nr_vms(self->nr_vms, KAB_WAIT_MS));
	KAB_EXPECT_OK(kab_nr_vms(&nr), "nr_vms");
	EXPECT_EQ(self->nr_vms, nr);
}

/* ---- max_vms ---- */

TEST_F(bad, max_vms_enospc)
{
	uint64_t old;
	char text[32];
	int a, b;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_sysfs_read_u64("max_vms", &old), "read max_vms");
	snprintf(text, sizeof(text), "%" PRIu64, self->nr_vms + 1);
	KAB_ASSERT_OK(kab_sysfs_write("max_vms", text), "set max_vms");

	a = kab_create_vm_raw(self->dev, &self->req);
	KAB_EXPECT_OK(a, "the VM that fits");
	self->req.pressure_fd[0] = self->pfd[0];
	b = kab_create_vm_raw(self->dev, &self->req);
	KAB_EXPECT_ERR(ENOSPC, b, "one VM more than max_vms");

	snprintf(text, sizeof(text), "%" PRIu64, old);
	EXPECT_EQ(0, kab_sysfs_write("max_vms", text));
	if (a >= 0)
		close(a);
	/* The refused request's eventfd is free again. */
	b = kab_create_vm_raw(self->dev, &self->req);
	KAB_EXPECT_OK(b, "the same request once there is room");
	if (b >= 0)
		close(b);
}

/* ---- sysfs knobs ---- */

/* Each write must fail with @err and leave the file reading @keep. */
static void check_sysfs_refuses(struct __test_metadata *_metadata,
				const char *rel, const char * const *bad,
				unsigned int nr, int err)
{
	char before[64], after[64], what[128];
	unsigned int i;

	ASSERT_EQ(0, kab_sysfs_read(rel, before, sizeof(before)));
	for (i = 0; i < nr; i++) {
		snprintf(what, sizeof(what), "write \"%s\" to %s", bad[i], rel);
		KAB_EXPECT_ERR(err, kab_sysfs_write(rel, bad[i]), what);
		ASSERT_EQ(0, kab_sysfs_read(rel, after, sizeof(after)));
		EXPECT_STREQ(before, after) TH_LOG("%s changed the value", what);
	}
}

static const char * const bad_numbers[] = {
	"", " ", "abc", "-1", "1.5", "12abc", "1 2", "0x", "--5",
	"18446744073709551616",			/* 2^64 */
	"99999999999999999999999999",
};

TEST_F(bad, sysfs_max_vms)
{
	static const char * const out_of_range[] = {
		"0", "65537", "4294967295", "4294967296",
	};
	uint64_t old, val;
	char text[32];

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_sysfs_read_u64("max_vms", &old), "read max_vms");
	check_sysfs_refuses(_metadata, "max_vms", bad_numbers,
			    ARRAY_SIZE(bad_numbers), EINVAL);
	check_sysfs_refuses(_metadata, "max_vms", out_of_range,
			    ARRAY_SIZE(out_of_range), EINVAL);

	/* The edges are accepted. */
	EXPECT_EQ(0, kab_sysfs_write("max_vms", "65536"));
	EXPECT_EQ(0, kab_sysfs_read_u64("max_vms", &val));
	EXPECT_EQ(65536, val);
	EXPECT_EQ(0, kab_sysfs_write("max_vms", "1\n"));
	EXPECT_EQ(0, kab_sysfs_read_u64("max_vms", &val));
	EXPECT_EQ(1, val);
	snprintf(text, sizeof(text), "%" PRIu64, old);
	EXPECT_EQ(0, kab_sysfs_write("max_vms", text));
}

/* Lowering max_vms below nr_vms only refuses new registrations. */
TEST_F(bad, max_vms_below_nr_vms)
{
	struct kab_test_vm a, b;
	struct kab_target t;
	uint64_t old;
	char text[32];

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_sysfs_read_u64("max_vms", &old), "read max_vms");
	KAB_ASSERT_OK(kab_vm_create(self->dev, &a, NULL, 0), "create A");
	KAB_ASSERT_OK(kab_vm_create(self->dev, &b, NULL, 0), "create B");
	KAB_EXPECT_OK(kab_sysfs_write("max_vms", "1"),
		      "max_vms = 1 with two VMs registered");
	EXPECT_EQ(0, kab_get_target(a.fd, &t));
	EXPECT_EQ(0, kab_get_target(b.fd, &t));
	EXPECT_EQ(0, kab_inject(KAB_LEVEL_LOW, b.id));
	KAB_EXPECT_ERR(ENOSPC, kab_create_vm_raw(self->dev, &self->req),
		       "a third VM above max_vms");
	snprintf(text, sizeof(text), "%" PRIu64, old);
	EXPECT_EQ(0, kab_sysfs_write("max_vms", text));
	kab_vm_destroy(&a);
	kab_vm_destroy(&b);
}

/* tick_ms (documented: 10..60000 ms), when the module has it. */
TEST_F(bad, sysfs_tick_ms)
{
	static const char * const out_of_range[] = {
		"0", "9", "60001", "4294967295",
	};
	uint64_t old, val;
	char text[32];

	KAB_BAIL_IF_SKIPPED();
	if (!kab_sysfs_exists("tick_ms"))
		SKIP(return, "sysfs_tick_ms: the module has no tick_ms");
	KAB_ASSERT_OK(kab_sysfs_read_u64("tick_ms", &old), "read tick_ms");
	check_sysfs_refuses(_metadata, "tick_ms", bad_numbers,
			    ARRAY_SIZE(bad_numbers), EINVAL);
	check_sysfs_refuses(_metadata, "tick_ms", out_of_range,
			    ARRAY_SIZE(out_of_range), EINVAL);
	EXPECT_EQ(0, kab_sysfs_write("tick_ms", "10"));
	EXPECT_EQ(0, kab_sysfs_read_u64("tick_ms", &val));
	EXPECT_EQ(10, val);
	EXPECT_EQ(0, kab_sysfs_write("tick_ms", "60000"));
	EXPECT_EQ(0, kab_sysfs_read_u64("tick_ms", &val));
	EXPECT_EQ(60000, val);
	snprintf(text, sizeof(text), "%" PRIu64, old);
	EXPECT_EQ(0, kab_sysfs_write("tick_ms", text));
}

TEST_F(bad, sysfs_policy)
{
	struct kab_policy_snapshot snap;
	char rel[128], text[32];
	uint64_t val;
	unsigned int i;
	int ret;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_policy_save(&snap), "read policy/*");
	EXPECT_LT(0, snap.nr) TH_LOG("policy/ has no tunables");
	for (i = 0; i < snap.nr; i++) {
		snprintf(rel, sizeof(rel), "policy/%s", snap.name[i]);
		check_sysfs_refuses(_metadata, rel, bad_numbers,
				    ARRAY_SIZE(bad_numbers), EINVAL);
		/*
		 * 2^64-1 is above every sane range: refused with EINVAL
		 * and the old value kept, or taken whole.
		 */
		ret = kab_sysfs_write(rel, "18446744073709551615");
		EXPECT_EQ(0, kab_sysfs_read_u64(rel, &val));
		if (ret) {
			KAB_EXPECT_ERR(EINVAL, ret, rel);
			EXPECT_EQ(snap.value[i], val)
				TH_LOG("%s changed by a refused write", rel);
		} else {
			EXPECT_EQ(UINT64_MAX, val);
		}
		/* Writing back the value it had is always accepted. */
		snprintf(text, sizeof(text), "%" PRIu64, snap.value[i]);
		EXPECT_EQ(0, kab_sysfs_write(rel, text)) TH_LOG("%s", rel);
	}
	EXPECT_EQ(0, kab_policy_restore(&snap));
}

TEST_F(bad, sysfs_inject)
{
	static const char * const garbage[] = {
		"", " ", "foo", "0", "4", "-1", "lowish", "LOW", "low0",
		"1x", "critical!", "low 0", "low -1", "low abc", "low 1 2",
		"low 4294967296", "low 1x", "3 0x",
	};
	struct kab_test_vm vm;
	struct kab_vm_stats before, after;
	char what[96], text[64];
	unsigned int i;
	uint32_t gone;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, 0), "create");
	ASSERT_EQ(0, kab_get_stats(vm.fd, &before));
	for (i = 0; i < ARRAY_SIZE(garbage); i++) {
		snprintf(what, sizeof(what), "inject_host_pressure \"%s\"",
			 garbage[i]);
		KAB_EXPECT_ERR(EINVAL,
			       kab_sysfs_write("inject_host_pressure",
					       garbage[i]), what);
	}
	/* A VM id that does not exist, now or any more. */
	KAB_EXPECT_ERR(ENOENT, kab_sysfs_write("inject_host_pressure",
					       "critical 4000000000"),
		       "inject for VM 4000000000");
	ASSERT_EQ(0, kab_get_stats(vm.fd, &after));
	EXPECT_EQ(before.target_seq, after.target_seq)
		TH_LOG("refused injections changed the target");
	for (i = 0; i < KAB_NR_LEVELS; i++)
		EXPECT_EQ(before.host_events[i], after.host_events[i]);

	gone = vm.id;
	kab_vm_destroy(&vm);
	ASSERT_EQ(0, kab_wait_vm_gone(gone, KAB_WAIT_MS));
	snprintf(text, sizeof(text), "low %u", gone);
	snprintf(what, sizeof(what), "inject for closed VM %u", gone);
	KAB_EXPECT_ERR(ENOENT, kab_sysfs_write("inject_host_pressure", text),
		       what);
}

/* Every accepted spelling of a level, for one VM. */
TEST_F(bad, sysfs_inject_spellings)
{
	static const char * const levels[] = {
		"low", "medium", "critical", "1", "2", "3",
	};
	struct kab_test_vm vm;
	struct kab_vm_stats s;
	char text[64];
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, 0), "create");
	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		snprintf(text, sizeof(text), "%s %u\n", levels[i], vm.id);
		KAB_EXPECT_OK(kab_sysfs_write("inject_host_pressure", text),
			      text);
	}
	ASSERT_EQ(0, kab_get_stats(vm.fd, &s));
	EXPECT_EQ(2, s.host_events[0]);
	EXPECT_EQ(2, s.host_events[1]);
	EXPECT_EQ(2, s.host_events[2]);
	kab_vm_destroy(&vm);
}

/* Read-only files refuse writes, whoever writes. */
TEST_F(bad, sysfs_read_only)
{
	static const char * const files[] = { "version", "nr_vms" };
	struct kab_test_vm vm;
	char rel[64];
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	for (i = 0; i < ARRAY_SIZE(files); i++)
		KAB_EXPECT_ERR(EACCES, kab_sysfs_write(files[i], "1"),
			       files[i]);
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, 0), "create");
	snprintf(rel, sizeof(rel), "vms/%u/target_pages", vm.id);
	KAB_EXPECT_ERR(EACCES, kab_sysfs_write(rel, "1"), rel);
	kab_vm_destroy(&vm);
}

/* Only root may register VMs or inject pressure. */
TEST_F(bad, unprivileged)
{
	int status;
	pid_t pid;

	KAB_BAIL_IF_SKIPPED();
	if (geteuid())
		SKIP(return, "unprivileged: needs root to drop privileges");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd, bad = 0;

		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(100);
		fd = open(KAB_DEV_PATH, O_RDWR);
		if (fd >= 0 || (errno != EACCES && errno != EPERM))
			bad |= 1;
		fd = open(KAB_SYSFS_ROOT "/inject_host_pressure", O_WRONLY);
		if (fd >= 0 || (errno != EACCES && errno != EPERM))
			bad |= 2;
		fd = open(KAB_SYSFS_ROOT "/max_vms", O_WRONLY);
		if (fd >= 0 || (errno != EACCES && errno != EPERM))
			bad |= 4;
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_NE(100, WEXITSTATUS(status)) TH_LOG("could not drop to nobody");
	EXPECT_EQ(0, WEXITSTATUS(status) & 1)
		TH_LOG("nobody could open " KAB_DEV_PATH);
	EXPECT_EQ(0, WEXITSTATUS(status) & 2)
		TH_LOG("nobody could open inject_host_pressure for writing");
	EXPECT_EQ(0, WEXITSTATUS(status) & 4)
		TH_LOG("nobody could open max_vms for writing");
}

KAB_TEST_MAIN
