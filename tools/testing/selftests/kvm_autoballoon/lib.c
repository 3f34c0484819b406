// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the kvm_autoballoon selftests: the device, VMs,
 * eventfds, sysfs, the module. See lib.h for the conventions.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"

/* ---- errors and time ---- */

const char *kab_ret_name(long ret, char *buf, size_t len)
{
	const char *name;

	if (ret >= 0) {
		snprintf(buf, len, "success (%ld)", ret);
		return buf;
	}
	name = strerrorname_np((int)-ret);
	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "errno %ld", -ret);
	return buf;
}

long kab_sys(long ret)
{
	return ret < 0 ? -errno : ret;
}

uint64_t kab_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t kab_kworker_ns(void)
{
	char path[300], comm[32];
	unsigned long long ns;
	struct dirent *de;
	uint64_t sum = 0;
	DIR *proc;
	FILE *fp;

	proc = opendir("/proc");
	if (!proc)
		return 0;
	while ((de = readdir(proc))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		fp = fopen(path, "r");
		if (!fp)
			continue;
		if (!fgets(comm, sizeof(comm), fp) ||
		    strncmp(comm, "kworker", 7)) {
			fclose(fp);
			continue;
		}
		fclose(fp);
		snprintf(path, sizeof(path), "/proc/%s/schedstat", de->d_name);
		fp = fopen(path, "r");
		if (!fp)
			continue;
		if (fscanf(fp, "%llu", &ns) == 1)
			sum += ns;
		fclose(fp);
	}
	closedir(proc);
	return sum;
}

void kab_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Poll period of the wait helpers: short at first, then backing off. */
static unsigned int kab_backoff_ms(unsigned int round)
{
	return round < 10 ? 1 : round < 40 ? 5 : 20;
}

/* ---- the device and its VMs ---- */

const char *kab_unavailable_reason(void)
{
	int fd;

	if (access(KAB_DEV_PATH, F_OK))
		return KAB_DEV_PATH " is absent (module " KAB_MODULE_NAME
		       " not loaded)";
	fd = open(KAB_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES || errno == EPERM ?
		       KAB_DEV_PATH " needs root" :
		       KAB_DEV_PATH " cannot be opened";
	close(fd);
	if (access(KAB_SYSFS_ROOT "/nr_vms", R_OK))
		return KAB_SYSFS_ROOT " is absent";
	return NULL;
}

int kab_dev_open(void)
{
	return (int)kab_sys(open(KAB_DEV_PATH, O_RDWR | O_CLOEXEC));
}

void kab_create_vm_defaults(struct kab_create_vm *req)
{
	unsigned int i;

	memset(req, 0, sizeof(*req));
	req->size = sizeof(*req);
	req->total_pages = KAB_TEST_TOTAL;
	req->floor_pages = KAB_TEST_FLOOR;
	req->ceiling_pages = KAB_TEST_CEILING;
	req->weight = KAB_TEST_WEIGHT;
	req->target_fd = KAB_NO_FD;
	for (i = 0; i < KAB_NR_LEVELS; i++)
		req->pressure_fd[i] = KAB_NO_FD;
	req->kvm_vm_fd = KAB_NO_FD;
	req->psi_fd = KAB_NO_FD;
}

int kab_create_vm_raw(int dev_fd, const void *req)
{
	return (int)kab_sys(ioctl(dev_fd, KAB_CREATE_VM, req));
}

static void kab_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void kab_vm_destroy(struct kab_test_vm *vm)
{
	unsigned int i;

	kab_close_fd(&vm->fd);
	kab_close_fd(&vm->target_efd);
	for (i = 0; i < KAB_NR_LEVELS; i++)
		kab_close_fd(&vm->pressure_efd[i]);
}

/* Does the module signal the initial target? -1 not known yet, 0, 1. */
static int kab_initial_signal = -1;

int kab_vm_create(int dev_fd, struct kab_test_vm *vm,
		  const struct kab_create_vm *req, unsigned int flags)
{
	struct kab_vm_stats stats;
	unsigned int i;
	uint64_t cnt;
	int ret;

	vm->fd = -1;
	vm->target_efd = -1;
	for (i = 0; i < KAB_NR_LEVELS; i++)
		vm->pressure_efd[i] = -1;
	if (req)
		vm->req = *req;
	else
		kab_create_vm_defaults(&vm->req);

	ret = kab_eventfd_new();
	if (ret < 0)
		goto err;
	vm->target_efd = ret;
	vm->req.target_fd = ret;
	for (i = 0; i < KAB_NR_LEVELS; i++) {
		if (!(flags & KAB_VM_PRESSURE_FDS))
			continue;
		ret = kab_eventfd_new();
		if (ret < 0)
			goto err;
		vm->pressure_efd[i] = ret;
		vm->req.pressure_fd[i] = ret;
	}

	ret = kab_create_vm_raw(dev_fd, &vm->req);
	if (ret < 0)
		goto err;
	vm->fd = ret;

	ret = kab_get_stats(vm->fd, &stats);
	if (ret)
		goto err;
	vm->id = stats.vm_id;

	/*
	 * The module may announce the initial target like any later one
	 * (the ABI leaves it open). Consume that signal so that a test sees
	 * only the signals it caused: the first VM of the program learns
	 * whether one comes, the later ones wait for it only if it did.
	 */
	if (kab_initial_signal) {
		ret = kab_eventfd_wait(vm->target_efd, KAB_WAIT_MS, &cnt);
		if (kab_initial_signal < 0)
			kab_initial_signal = ret ? 0 : 1;
	}
	return 0;

err:
	kab_vm_destroy(vm);
	return ret;
}

int kab_get_target(int vm_fd, struct kab_target *t)
{
	memset(t, 0, sizeof(*t));
	t->size = sizeof(*t);
	return (int)kab_sys(ioctl(vm_fd, KAB_VM_GET_TARGET, t));
}

int kab_set_actual(int vm_fd, uint64_t pages)
{
	struct kab_actual a = {
		.size = sizeof(a),
		.actual_pages = pages,
	};

	return (int)kab_sys(ioctl(vm_fd, KAB_VM_SET_ACTUAL, &a));
}

int kab_get_stats(int vm_fd, struct kab_vm_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	return (int)kab_sys(ioctl(vm_fd, KAB_VM_GET_STATS, s));
}

int kab_get_info(int dev_fd, struct kab_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return (int)kab_sys(ioctl(dev_fd, KAB_GET_INFO, info));
}

int kab_set_guest_stats(int vm_fd, const struct kab_guest_stats *gs)
{
	return (int)kab_sys(ioctl(vm_fd, KAB_VM_SET_GUEST_STATS, gs));
}

void kab_guest_stats_defaults(struct kab_guest_stats *gs)
{
	memset(gs, 0, sizeof(*gs));
	gs->size = sizeof(*gs);
	gs->valid = KAB_GUEST_STAT_AVAILABLE | KAB_GUEST_STAT_FREE |
		    KAB_GUEST_STAT_CACHE | KAB_GUEST_STAT_TOTAL;
	/* Distinct values, so that a figure shown in the wrong file shows. */
	gs->total_pages = KAB_TEST_TOTAL - 4000;
	gs->available_pages = 150001;
	gs->free_pages = 100002;
	gs->cache_pages = 40003;
}

int kab_wait_seq_change(int vm_fd, uint64_t old_seq, int timeout_ms,
			struct kab_target *t)
{
	uint64_t deadline = kab_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	unsigned int round = 0;
	int ret;

	for (;;) {
		ret = kab_get_target(vm_fd, t);
		if (ret)
			return ret;
		if (t->seq != old_seq)
			return 0;
		if (kab_now_ns() > deadline)
			return -ETIMEDOUT;
		kab_sleep_ms(kab_backoff_ms(round++));
	}
}

int kab_wait_target_signal(const struct kab_test_vm *vm, uint64_t min_seq,
			   int timeout_ms, struct kab_target *t)
{
	uint64_t deadline = kab_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	uint64_t now, cnt;
	int ret;

	for (;;) {
		now = kab_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		ret = kab_eventfd_wait(vm->target_efd,
				       (int)((deadline - now) / 1000000ull) + 1,
				       &cnt);
		if (ret)
			return ret;
		ret = kab_get_target(vm->fd, t);
		if (ret)
			return ret;
		if (t->seq >= min_seq)
			return 0;
	}
}

/* ---- eventfds ---- */

int kab_eventfd_new(void)
{
	return (int)kab_sys(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
}

int kab_eventfd_signal(int efd, uint64_t value)
{
	ssize_t n = write(efd, &value, sizeof(value));

	if (n < 0)
		return -errno;
	return n == sizeof(value) ? 0 : -EIO;
}

int kab_eventfd_drain(int efd, uint64_t *count)
{
	ssize_t n = read(efd, count, sizeof(*count));

	if (n < 0)
		return -errno;
	return n == sizeof(*count) ? 0 : -EIO;
}

int kab_eventfd_wait(int efd, int timeout_ms, uint64_t *count)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	int ret;

	do {
		ret = poll(&pfd, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return -ETIMEDOUT;
	return kab_eventfd_drain(efd, count);
}

/* ---- sysfs ---- */

static void kab_sysfs_path(char *path, size_t len, const char *rel)
{
	snprintf(path, len, "%s/%s", KAB_SYSFS_ROOT, rel);
}

int kab_sysfs_read(const char *rel, char *buf, size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	kab_sysfs_path(path, sizeof(path), rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int kab_sysfs_read_u64(const char *rel, uint64_t *val)
{
	char buf[64], *end;
	int ret;

	ret = kab_sysfs_read(rel, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || end == buf || *end)
		return -EBADMSG;	/* the file did not hold a number */
	return 0;
}

int kab_sysfs_write(const char *rel, const char *text)
{
	size_t len = strlen(text);
	char path[256];
	ssize_t n;
	int fd;

	kab_sysfs_path(path, sizeof(path), rel);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* An empty write never reaches the store method: send a newline. */
	n = len ? write(fd, text, len) : write(fd, "\n", 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	return 0;
}

bool kab_sysfs_exists(const char *rel)
{
	char path[256];

	kab_sysfs_path(path, sizeof(path), rel);
	return access(path, F_OK) == 0;
}

int kab_vm_sysfs_read_u64(uint32_t id, const char *file, uint64_t *val)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "vms/%" PRIu32 "/%s", id, file);
	return kab_sysfs_read_u64(rel, val);
}

int kab_vm_sysfs_read(uint32_t id, const char *file, char *buf, size_t len)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "vms/%" PRIu32 "/%s", id, file);
	return kab_sysfs_read(rel, buf, len);
}

int kab_nr_vms(uint64_t *nr)
{
	return kab_sysfs_read_u64("nr_vms", nr);
}

int kab_inject(unsigned int level, uint32_t vm_id)
{
	char text[32];

	if (vm_id)
		snprintf(text, sizeof(text), "%u %" PRIu32, level, vm_id);
	else
		snprintf(text, sizeof(text), "%u", level);
	return kab_sysfs_write("inject_host_pressure", text);
}

int kab_wait_nr_vms(uint64_t want, int timeout_ms)
{
	uint64_t deadline = kab_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	unsigned int round = 0;
	uint64_t nr;
	int ret;

	for (;;) {
		ret = kab_nr_vms(&nr);
		if (ret)
			return ret;
		if (nr == want)
			return 0;
		if (kab_now_ns() > deadline)
			return -ETIMEDOUT;
		kab_sleep_ms(kab_backoff_ms(round++));
	}
}

int kab_wait_vm_gone(uint32_t id, int timeout_ms)
{
	uint64_t deadline = kab_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	unsigned int round = 0;
	char rel[64];

	snprintf(rel, sizeof(rel), "vms/%" PRIu32, id);
	while (kab_sysfs_exists(rel)) {
		if (kab_now_ns() > deadline)
			return -ETIMEDOUT;
		kab_sleep_ms(kab_backoff_ms(round++));
	}
	return 0;
}

/* ---- policy tunables ---- */

int kab_policy_save(struct kab_policy_snapshot *snap)
{
	struct dirent *de;
	char rel[128];
	DIR *dir;
	int ret = 0;

	memset(snap, 0, sizeof(*snap));
	dir = opendir(KAB_SYSFS_ROOT "/policy");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (snap->nr == KAB_MAX_TUNABLES ||
		    strlen(de->d_name) >= sizeof(snap->name[0])) {
			ret = -E2BIG;
			break;
		}
		snprintf(rel, sizeof(rel), "policy/%s", de->d_name);
		ret = kab_sysfs_read_u64(rel, &snap->value[snap->nr]);
		if (ret)
			break;
		strcpy(snap->name[snap->nr], de->d_name);
		snap->nr++;
	}
	closedir(dir);
	return ret;
}

static bool kab_tunable_is_time(const char *name)
{
	static const char * const suffixes[] = { "_ms", "_us", "_ns", "_s" };
	size_t len = strlen(name), slen;
	unsigned int i;

	for (i = 0; i < KAB_ARRAY_SIZE(suffixes); i++) {
		slen = strlen(suffixes[i]);
		if (len > slen && !strcmp(name + len - slen, suffixes[i]))
			return true;
	}
	return false;
}

int kab_policy_zero_timers(const struct kab_policy_snapshot *snap,
			   char *failed, size_t len)
{
	char rel[128];
	unsigned int i;
	int ret;

	for (i = 0; i < snap->nr; i++) {
		if (!kab_tunable_is_time(snap->name[i]))
			continue;
		snprintf(rel, sizeof(rel), "policy/%s", snap->name[i]);
		ret = kab_sysfs_write(rel, "0");
		if (ret) {
			snprintf(failed, len, "%s", snap->name[i]);
			return ret;
		}
	}
	return 0;
}

int kab_policy_restore(const struct kab_policy_snapshot *snap)
{
	char rel[128], text[32];
	unsigned int i;
	int ret, first = 0;

	for (i = 0; i < snap->nr; i++) {
		snprintf(rel, sizeof(rel), "policy/%s", snap->name[i]);
		snprintf(text, sizeof(text), "%" PRIu64, snap->value[i]);
		ret = kab_sysfs_write(rel, text);
		if (ret && !first)
			first = ret;
	}
	return first;
}

/* ---- the module itself ---- */

bool kab_module_loaded(void)
{
	return access("/sys/module/" KAB_MODULE_NAME, F_OK) == 0;
}

int kab_module_refcnt(uint64_t *refcnt)
{
	char buf[32], *end;
	ssize_t n;
	int fd;

	fd = open("/sys/module/" KAB_MODULE_NAME "/refcnt", O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EBADMSG;
	buf[n] = '\0';
	*refcnt = strtoull(buf, &end, 10);
	return end == buf ? -EBADMSG : 0;
}

int kab_module_unload(void)
{
	return (int)kab_sys(syscall(SYS_delete_module, KAB_MODULE_NAME,
				    O_NONBLOCK));
}

int kab_module_load_params(const char *path, const char *params)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = (int)kab_sys(syscall(SYS_finit_module, fd, params, 0));
	close(fd);
	return ret;
}

int kab_module_load(const char *path)
{
	return kab_module_load_params(path, "");
}

/* ---- privileges ---- */

int kab_run_unprivileged(uid_t uid, int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		if (setgroups(0, NULL) || setgid(uid) || setuid(uid) ||
		    !setuid(0))
			_exit(KAB_CHILD_PRIVILEGED);
		_exit(fn(arg) & 0xff);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	if (!WIFEXITED(status))
		return -ECHILD;
	return WEXITSTATUS(status);
}
