// SPDX-License-Identifier: GPL-2.0
/*
 * A fuzzer: random ioctl numbers, sizes and argument bytes on both kinds of
 * file, with fds of every kind in the fd fields (eventfds, KVM VM and vCPU
 * fds, a PSI trigger, pipes, sockets, /dev/null, closed and negative
 * numbers), while other threads create and close VMs, inject host pressure
 * and read and write sysfs, and a memory hog cycles the host through low
 * memory. After each round: no WARN, BUG or oops in the kernel log, nr_vms
 * back to 0, the module's refcount back to 0, and (with $KAB_MODULE) rmmod
 * succeeds and the module loads again.
 *
 * Short form (make check): one round of 40 s, two threads of each kind.
 * Long form (make check-debug, KAB_FUZZ_LONG=1): 6 rounds of 100 s, four
 * ioctl threads and two of each other kind; each round has a seed of its
 * own and starts on a freshly loaded module (with $KAB_MODULE), so that a
 * round meets both a module that has seen everything and a new one.
 * KAB_FUZZ_SECS sets the seconds per round, KAB_FUZZ_ROUNDS the rounds,
 * KAB_FUZZ_SEED the first round's seed (default: the time; every seed is
 * printed, a failing round is replayed with its seed and KAB_FUZZ_ROUNDS=1).
 * The counts (ioctls, VMs created, errnos seen) are printed as comments,
 * per round and in total.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "lib.h"
#include "pressure_util.h"

#define FUZZ_VM_SLOTS	32
#define FUZZ_MAX_ERRNO	256
#define FUZZ_ARG_SIZE	8192
#define FUZZ_MAX_THREADS	8

struct fuzz {
	int dev;
	uint64_t seed;
	atomic_bool stop;

	/* fds of every kind, made once; never closed while threads run */
	int pool[24];
	unsigned int nr_pool;
	void *ro_page;			/* a read-only page, for arguments */

	pthread_mutex_t vm_lock;	/* @vm_fd[], @psi_fd[] */
	int vm_fd[FUZZ_VM_SLOTS];
	int psi_fd[4];

	atomic_uint_fast64_t ioctls;
	atomic_uint_fast64_t created;
	atomic_uint_fast64_t sysfs_ops;
	atomic_uint_fast64_t errnos[FUZZ_MAX_ERRNO];
};

/* xorshift64*: one state per thread, seeded from the run's seed. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void count(struct fuzz *f, long ret)
{
	atomic_fetch_add(&f->ioctls, 1);
	if (ret < 0 && -ret < FUZZ_MAX_ERRNO)
		atomic_fetch_add(&f->errnos[-ret], 1);
}

/* Any fd number: one of every kind, a closed or negative one, or noise. */
static int32_t any_fd(struct fuzz *f, uint64_t *s)
{
	switch (rnd(s) % 8) {
	case 0:
		return KAB_NO_FD;
	case 1:
		return (int32_t)rnd(s);
	case 2:
		return 900 + rnd(s) % 100;	/* not open */
	default:
		return f->pool[rnd(s) % f->nr_pool];
	}
}

/* A VM fd of the pool, or -1. Another thread may close it meanwhile. */
static int any_vm(struct fuzz *f, uint64_t *s)
{
	int fd;

	pthread_mutex_lock(&f->vm_lock);
	fd = f->vm_fd[rnd(s) % FUZZ_VM_SLOTS];
	pthread_mutex_unlock(&f->vm_lock);
	return fd;
}

/* Keep a new fd from the module in a slot; close what was there. */
static void keep_fd(struct fuzz *f, int *slots, unsigned int nr, int fd,
		    uint64_t *s)
{
	unsigned int i = rnd(s) % nr;
	int old;

	pthread_mutex_lock(&f->vm_lock);
	old = slots[i];
	slots[i] = fd;
	pthread_mutex_unlock(&f->vm_lock);
	if (old >= 0)
		close(old);
}

/* An ioctl number: ours, ours with size and direction bits, or noise. */
static unsigned long any_cmd(uint64_t *s, bool vm)
{
	static const unsigned int dev_nrs[] = {
		KAB_NR_GET_API_VERSION, KAB_NR_CREATE_VM, KAB_NR_BIND_HOST_PSI,
		KAB_NR_GET_INFO,
	};
	static const unsigned int vm_nrs[] = {
		KAB_NR_VM_GET_TARGET, KAB_NR_VM_SET_ACTUAL, KAB_NR_VM_GET_STATS,
		KAB_NR_VM_SET_GUEST_STATS, KAB_NR_VM_RESTORE,
	};
	unsigned int nr = vm ? vm_nrs[rnd(s) % KAB_ARRAY_SIZE(vm_nrs)] :
			       dev_nrs[rnd(s) % KAB_ARRAY_SIZE(dev_nrs)];
	unsigned long cmd;

	switch (rnd(s) % 6) {
	case 0:
		cmd = (uint32_t)rnd(s);
		/* Not the VFS's own: FIFREEZE and friends act on the fs. */
		return _IOC_TYPE(cmd) == 'X' ? _IO(KABIO, nr) : cmd;
	case 1:
		return _IO(KABIO, rnd(s) % 64);
	case 2:
		return _IOC(rnd(s) % 4, KABIO, nr, rnd(s) % 512);
	default:
		return _IO(KABIO, nr);
	}
}

/*
 * Fill @buf for one call: random bytes, a size field that is right, near
 * right or anything, and, for KAB_CREATE_VM's layout, fds of every kind.
 */
static void fill_arg(struct fuzz *f, uint64_t *s, unsigned char *buf)
{
	static const uint32_t sizes[] = { 0, 1, 4, 16, 24, 96, 144, 280, 4096,
					  4097 };
	struct kab_create_vm *req = (struct kab_create_vm *)buf;
	unsigned int i, n = rnd(s) % 160;

	for (i = 0; i < n; i++)
		buf[rnd(s) % 512] = (unsigned char)rnd(s);
	if (rnd(s) % 4) {
		/* Mostly zeros, with a plausible request in it. */
		memset(buf, 0, 512);
		req->total_pages = 1 + rnd(s) % (1ULL << (rnd(s) % 41));
		req->floor_pages = 1 + rnd(s) % req->total_pages;
		req->ceiling_pages = req->floor_pages +
				     rnd(s) % (req->total_pages -
					       req->floor_pages + 1);
		req->weight = rnd(s) % 3 ? 100 : (uint32_t)rnd(s) % 20000;
		req->target_fd = any_fd(f, s);
		for (i = 0; i < KAB_NR_LEVELS; i++)
			req->pressure_fd[i] = rnd(s) % 2 ? KAB_NO_FD :
					      any_fd(f, s);
		req->kvm_vm_fd = rnd(s) % 2 ? KAB_NO_FD : any_fd(f, s);
		req->psi_fd = rnd(s) % 3 ? KAB_NO_FD : any_fd(f, s);
	}
	*(uint32_t *)buf = rnd(s) % 4 ? sizes[rnd(s) % 10] : (uint32_t)rnd(s);
}

/* The argument pointer: our buffer mostly, else read-only or bad. */
static void *any_ptr(struct fuzz *f, uint64_t *s, unsigned char *buf)
{
	switch (rnd(s) % 10) {
	case 0:
		return NULL;
	case 1:
		return (void *)(uintptr_t)rnd(s);
	case 2:
		return f->ro_page;
	case 3:
		/* The size field readable, the rest past the end of a page. */
		return buf + FUZZ_ARG_SIZE - 4;
	default:
		return buf;
	}
}

static long call(int fd, unsigned long cmd, void *arg)
{
	return kab_sys(ioctl(fd, cmd, arg));
}

static void *ioctl_fn(void *arg)
{
	struct fuzz *f = arg;
	uint64_t s = f->seed ^ (uintptr_t)&s;
	unsigned char *buf;
	unsigned long cmd;
	long ret;
	int fd;
	bool vm;

	buf = mmap(NULL, FUZZ_ARG_SIZE + 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return NULL;
	/* A guard page after the buffer. */
	mprotect(buf + FUZZ_ARG_SIZE, 4096, PROT_NONE);
	while (!atomic_load(&f->stop)) {
		vm = rnd(&s) % 2;
		fd = vm ? any_vm(f, &s) : f->dev;
		if (fd < 0)
			continue;
		fill_arg(f, &s, buf);
		cmd = any_cmd(&s, vm);
		ret = call(fd, cmd, any_ptr(f, &s, buf));
		count(f, ret);
		/* A new VM or host PSI binding: keep it, so others use it. */
		if (!vm && ret >= 0 &&
		    (cmd == KAB_CREATE_VM || cmd == KAB_BIND_HOST_PSI)) {
			if (cmd == KAB_CREATE_VM)
				atomic_fetch_add(&f->created, 1);
			keep_fd(f, cmd == KAB_CREATE_VM ? f->vm_fd : f->psi_fd,
				cmd == KAB_CREATE_VM ? FUZZ_VM_SLOTS : 4,
				(int)ret, &s);
		}
	}
	munmap(buf, FUZZ_ARG_SIZE + 4096);
	return NULL;
}

/* Valid registrations and closes, and host pressure, meanwhile. */
static void *life_fn(void *arg)
{
	struct fuzz *f = arg;
	uint64_t s = f->seed ^ (uintptr_t)&s;
	struct kab_create_vm req;
	int efd, fd;

	while (!atomic_load(&f->stop)) {
		switch (rnd(&s) % 4) {
		case 0:
		case 1:
			efd = kab_eventfd_new();
			if (efd < 0)
				break;
			kab_create_vm_defaults(&req);
			req.target_fd = efd;
			fd = kab_create_vm_raw(f->dev, &req);
			close(efd);
			count(f, fd);
			if (fd >= 0) {
				atomic_fetch_add(&f->created, 1);
				keep_fd(f, f->vm_fd, FUZZ_VM_SLOTS, fd, &s);
			}
			break;
		case 2:
			keep_fd(f, f->vm_fd, FUZZ_VM_SLOTS, -1, &s);
			break;
		default:
			kab_inject(1 + rnd(&s) % 3,
				   rnd(&s) % 2 ? 0 : 1 + rnd(&s) % 64);
			break;
		}
	}
	return NULL;
}

/* Every readable file of the tree, and random writes to the writable. */
static void sysfs_walk(struct fuzz *f, uint64_t *s, const char *dir)
{
	static const char * const values[] = {
		"0", "1", "2", "3", "10", "100", "65536", "65537", "-1", "x",
		"critical", "1 1", "18446744073709551616", "",
	};
	char path[512], buf[4096];
	struct dirent *de;
	DIR *d;
	int fd;

	d = opendir(dir);
	if (!d)
		return;
	while (!atomic_load(&f->stop) && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_type == DT_DIR) {
			sysfs_walk(f, s, path);
			continue;
		}
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			if (read(fd, buf, sizeof(buf)) < 0)
				count(f, -errno);
			close(fd);
		}
		atomic_fetch_add(&f->sysfs_ops, 1);
		/* The policy and the limits are restored by the test. */
		if (rnd(s) % 8 || !strstr(path, "/policy/"))
			continue;
		fd = open(path, O_WRONLY);
		if (fd < 0)
			continue;
		if (write(fd, values[rnd(s) % 14], 3) < 0)
			count(f, -errno);
		close(fd);
	}
	closedir(d);
}

static void *sysfs_fn(void *arg)
{
	struct fuzz *f = arg;
	uint64_t s = f->seed ^ (uintptr_t)&s;

	while (!atomic_load(&f->stop))
		sysfs_walk(f, &s, KAB_SYSFS_ROOT);
	return NULL;
}

/* Allocate down to 256 MiB available, free, again, until killed. */
static pid_t hog_start(void)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	for (;;) {
		void *p[256];
		unsigned int n = 0;

		while (n < 256 && kab_meminfo_mib("MemAvailable") > 256) {
			p[n] = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p[n] == MAP_FAILED)
				break;
			memset(p[n++], 0x5a, 16 << 20);
		}
		while (n)
			munmap(p[--n], 16 << 20);
		kab_sleep_ms(100);
	}
}

/* ---- the kernel log ---- */

static const char * const splats[] = {
	"WARNING:", "BUG:", "Oops", "general protection fault",
	"kernel BUG", "UBSAN:", "list_add corruption", "list_del corruption",
};

/* Mark the log, so that only what comes after it is looked at. */
static void klog_mark(const char *mark)
{
	int fd = open("/dev/kmsg", O_WRONLY);

	if (fd < 0)
		return;
	if (write(fd, mark, strlen(mark)) < 0)
		fd = -fd;
	close(fd < 0 ? -fd : fd);
}

/* Splats after @mark; the first one into @first. -errno if unreadable. */
static int klog_splats(const char *mark, char *first, size_t len)
{
	int size = klogctl(10, NULL, 0), n, found = 0;
	char *buf, *from, *line, *save;
	unsigned int i;

	if (size <= 0)
		return -errno;
	buf = malloc(size + 1);
	if (!buf)
		return -ENOMEM;
	n = klogctl(3, buf, size);
	if (n < 0) {
		free(buf);
		return -errno;
	}
	buf[n] = 0;
	from = buf;
	for (line = strstr(buf, mark); line; line = strstr(line + 1, mark))
		from = line;
	for (line = strtok_r(from, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		for (i = 0; i < KAB_ARRAY_SIZE(splats); i++)
			if (strstr(line, splats[i])) {
				if (!found++)
					snprintf(first, len, "%s", line);
				break;
			}
	free(buf);
	return found;
}

/* ---- the test ---- */

static void pool_add(struct fuzz *f, int fd)
{
	if (fd >= 0 && f->nr_pool < KAB_ARRAY_SIZE(f->pool))
		f->pool[f->nr_pool++] = fd;
}

static void make_pool(struct fuzz *f)
{
	int p[2], kvm, vm, psi;
	unsigned int i;

	pool_add(f, f->dev);
	for (i = 0; i < 3; i++)
		pool_add(f, kab_eventfd_new());
	if (!pipe(p)) {
		pool_add(f, p[0]);
		pool_add(f, p[1]);
	}
	if (!socketpair(AF_UNIX, SOCK_STREAM, 0, p)) {
		pool_add(f, p[0]);
		pool_add(f, p[1]);
	}
	pool_add(f, open("/dev/null", O_RDWR));
	psi = open("/proc/pressure/memory", O_RDWR);
	if (psi >= 0 && write(psi, "some 150000 1000000", 20) == 20)
		pool_add(f, psi);
	else if (psi >= 0)
		close(psi);
	kvm = open("/dev/kvm", O_RDWR);
	pool_add(f, kvm);
	if (kvm >= 0) {
		vm = ioctl(kvm, KVM_CREATE_VM, 0);
		pool_add(f, vm);
		if (vm >= 0)
			pool_add(f, ioctl(vm, KVM_CREATE_VCPU, 0));
		pool_add(f, ioctl(kvm, KVM_CREATE_VM, 0));
	}
}

static unsigned int env_uint(const char *name, unsigned int dflt)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned int)strtoul(v, NULL, 0) : dflt;
}

/* The form of the run: from the environment, see the top of the file. */
struct fuzz_form {
	unsigned int secs, rounds;
	unsigned int ioctl_threads, life_threads, sysfs_threads;
	uint64_t seed;
};

static void fuzz_form_get(struct fuzz_form *form)
{
	bool lng = env_uint("KAB_FUZZ_LONG", 0);

	form->secs = env_uint("KAB_FUZZ_SECS", lng ? 100 : 40);
	form->rounds = env_uint("KAB_FUZZ_ROUNDS", lng ? 6 : 1) ?: 1;
	form->ioctl_threads = lng ? 4 : 2;
	form->life_threads = 2;
	form->sysfs_threads = lng ? 2 : 1;
	form->seed = env_uint("KAB_FUZZ_SEED", (unsigned int)kab_now_ns()) ?: 1;
}

/* What every round adds up to. */
struct fuzz_total {
	uint64_t ioctls, created, sysfs_ops;
	uint64_t errnos[FUZZ_MAX_ERRNO];
};

static void log_errnos(struct __test_metadata *_metadata, const char *what,
		       const atomic_uint_fast64_t *counts,
		       const uint64_t *totals)
{
	char line[1024];
	size_t len = 0;
	uint64_t n;
	unsigned int i;

	for (i = 1; i < FUZZ_MAX_ERRNO && len < sizeof(line) - 32; i++) {
		n = counts ? (uint64_t)counts[i] : totals[i];
		if (n)
			len += snprintf(line + len, sizeof(line) - len,
					" %s=%" PRIu64,
					strerrorname_np(i) ?: "?", n);
	}
	TH_LOG("%s errnos:%s", what, len ? line : " none");
}

/*
 * One round on a module with no VM: @f is set up here and torn down
 * again, every fd closed; the checks of the round are EXPECTs, so that
 * the others still run and the test goes on to the next round.
 */
static void fuzz_round(struct __test_metadata *_metadata, struct fuzz *f,
		       const struct fuzz_form *form, unsigned int round,
		       struct fuzz_total *total)
{
	unsigned int nr_threads = form->ioctl_threads + form->life_threads +
				  form->sysfs_threads, i;
	pthread_t tid[FUZZ_MAX_THREADS];
	struct kab_policy_snapshot policy;
	char mark[96], first[512] = "";
	const char *module = getenv("KAB_MODULE");
	uint64_t refcnt, deadline;
	void *(*fn)(void *);
	pid_t hog;
	int splat;

	ASSERT_GE(FUZZ_MAX_THREADS, nr_threads);
	memset(f, 0, sizeof(*f));
	f->seed = form->seed + round;
	f->dev = kab_dev_open();
	ASSERT_LE(0, f->dev) TH_LOG("round %u: open " KAB_DEV_PATH ": %s",
				    round, strerror(-f->dev));
	ASSERT_EQ(0, kab_policy_save(&policy)) TH_LOG("read policy/*");
	pthread_mutex_init(&f->vm_lock, NULL);
	for (i = 0; i < FUZZ_VM_SLOTS; i++)
		f->vm_fd[i] = -1;
	for (i = 0; i < 4; i++)
		f->psi_fd[i] = -1;
	f->ro_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	ASSERT_NE(MAP_FAILED, f->ro_page);
	make_pool(f);
	snprintf(mark, sizeof(mark), "kab_fuzz: round %u start seed %" PRIu64,
		 round, f->seed);
	klog_mark(mark);
	TH_LOG("round %u of %u: seed %" PRIu64 ", %u s, %u fds in the pool",
	       round + 1, form->rounds, f->seed, form->secs, f->nr_pool);

	hog = hog_start();
	ASSERT_LT(0, hog);
	for (i = 0; i < nr_threads; i++) {
		if (i < form->ioctl_threads)
			fn = ioctl_fn;
		else if (i < form->ioctl_threads + form->life_threads)
			fn = life_fn;
		else
			fn = sysfs_fn;
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, fn, f));
	}
	kab_sleep_ms(form->secs * 1000);
	atomic_store(&f->stop, true);
	for (i = 0; i < nr_threads; i++)
		pthread_join(tid[i], NULL);
	kab_child_stop(hog);

	for (i = 0; i < FUZZ_VM_SLOTS; i++)
		if (f->vm_fd[i] >= 0)
			close(f->vm_fd[i]);
	for (i = 0; i < 4; i++)
		if (f->psi_fd[i] >= 0)
			close(f->psi_fd[i]);
	EXPECT_EQ(0, kab_wait_nr_vms(0, KAB_WAIT_MS))
		TH_LOG("round %u: nr_vms did not come back to 0", round);
	EXPECT_EQ(0, kab_policy_restore(&policy));
	for (i = 0; i < f->nr_pool; i++)
		close(f->pool[i]);
	munmap(f->ro_page, 4096);

	TH_LOG("round %u: %" PRIu64 " ioctls, %" PRIu64 " VMs created, %"
	       PRIu64 " sysfs reads", round + 1, (uint64_t)f->ioctls,
	       (uint64_t)f->created, (uint64_t)f->sysfs_ops);
	if (form->rounds > 1)
		log_errnos(_metadata, "round", f->errnos, NULL);
	EXPECT_LT(1000, f->ioctls) TH_LOG("round %u: the fuzzer hardly ran",
					  round);
	EXPECT_LT(0, f->created) TH_LOG("round %u: no VM was created", round);
	total->ioctls += f->ioctls;
	total->created += f->created;
	total->sysfs_ops += f->sysfs_ops;
	for (i = 0; i < FUZZ_MAX_ERRNO; i++)
		total->errnos[i] += f->errnos[i];

	/* Every file is closed: the module's refcount falls to 0. */
	deadline = kab_now_ns() + KAB_WAIT_MS * 1000000ull;
	while (!kab_module_refcnt(&refcnt) && refcnt &&
	       kab_now_ns() < deadline)
		kab_sleep_ms(20);
	EXPECT_EQ(0, refcnt) TH_LOG("round %u: module refcount %" PRIu64
				    " after the round", round, refcnt);
	if (module) {
		EXPECT_EQ(0, kab_module_unload())
			TH_LOG("round %u: rmmod after the round", round);
		ASSERT_EQ(0, kab_module_load(module))
			TH_LOG("round %u: reload of %s", round, module);
	}

	splat = klog_splats(mark, first, sizeof(first));
	EXPECT_EQ(0, splat) TH_LOG("round %u: kernel log: %s (seed %" PRIu64
				   ")", round, first, f->seed);
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
}

/* Long enough for the long form under a debug kernel in a TCG VM. */
TEST_F_TIMEOUT(fuzz, run, 7200)
{
	static struct fuzz f;
	static struct fuzz_total total;
	struct fuzz_form form;
	unsigned int round;
	uint64_t nr;

	KAB_REQUIRE_MODULE();
	if (geteuid())
		SKIP(return, "fuzz: needs root");
	KAB_ASSERT_OK(kab_nr_vms(&nr), "nr_vms");
	if (nr)
		SKIP(return, "fuzz: %" PRIu64 " VMs exist already", nr);
	fuzz_form_get(&form);
	TH_LOG("%u round(s) of %u s, %u ioctl, %u life, %u sysfs threads, "
	       "first seed %" PRIu64, form.rounds, form.secs,
	       form.ioctl_threads, form.life_threads, form.sysfs_threads,
	       form.seed);
	for (round = 0; round < form.rounds; round++)
		fuzz_round(_metadata, &f, &form, round, &total);
	TH_LOG("total: %" PRIu64 " ioctls, %" PRIu64 " VMs created, %" PRIu64
	       " sysfs reads in %u round(s)", total.ioctls, total.created,
	       total.sysfs_ops, form.rounds);
	log_errnos(_metadata, "total", NULL, total.errnos);
}

KAB_TEST_MAIN
