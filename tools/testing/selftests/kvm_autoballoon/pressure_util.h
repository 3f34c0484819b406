/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real memory pressure for the host pressure source tests
 * (pressure_vmpressure_test.c, pressure_psi_test.c): cgroup v2 helpers, a
 * RAM disk whose page cache is reclaimable, and workloads that make the
 * kernel reclaim, in one memcg or host wide.
 *
 * Static inline functions only, so that each test program includes it once and the
 * Makefile needs no extra object. Like lib.h, helpers return 0 (or a pid,
 * or an fd) or -errno and never assert; @why gets a reason for a SKIP.
 *
 * Reclaimable memory: the test VM has no swap and its root is a read-only
 * 9p mount, so the only page cache that reclaim can free is that of a block
 * device. brd's /dev/ram0 reads zeros from sectors never written without
 * allocating anything, so reading it makes clean page cache and nothing
 * else.
 */
#ifndef KAB_PRESSURE_UTIL_H
#define KAB_PRESSURE_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib.h"

#define KAB_CG_ROOT		"/sys/fs/cgroup"
#define KAB_RAMDISK		"/dev/ram0"
#define KAB_RAMDISK_MIB		1024

static inline int kab_write_file(const char *path, const char *text)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : 0;
}

static inline int kab_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

/* ---- cgroup v2 ---- */

/* The memory controller usable for children of the root, else why not. */
static inline const char *kab_cg_unavailable(void)
{
	static char why[160];
	char buf[512];
	int ret;

	ret = kab_read_file(KAB_CG_ROOT "/cgroup.controllers", buf,
			    sizeof(buf));
	if (ret) {
		snprintf(why, sizeof(why), "no cgroup v2 at " KAB_CG_ROOT
			 " (%s)", strerror(-ret));
		return why;
	}
	if (!strstr(buf, "memory"))
		return "cgroup v2 has no memory controller";
	ret = kab_write_file(KAB_CG_ROOT "/cgroup.subtree_control",
			     "+memory");
	if (ret) {
		snprintf(why, sizeof(why), "cannot enable +memory (%s)",
			 strerror(-ret));
		return why;
	}
	return NULL;
}

static inline void kab_cg_path(char *buf, size_t len, const char *cg,
			const char *file)
{
	snprintf(buf, len, KAB_CG_ROOT "%s%s%s%s", *cg ? "/" : "", cg,
		 file ? "/" : "", file ? file : "");
}

static inline int kab_cg_write(const char *cg, const char *file, const char *text)
{
	char path[256];

	kab_cg_path(path, sizeof(path), cg, file);
	return kab_write_file(path, text);
}

/* Move the calling process into @cg ("" for the root). */
static inline int kab_cg_enter(const char *cg)
{
	return kab_cg_write(cg, "cgroup.procs", "0");
}

/* Remove @cg; it must be empty. ENOENT counts as done. */
static inline int kab_cg_remove(const char *cg)
{
	char path[256];
	int i;

	kab_cg_path(path, sizeof(path), cg, NULL);
	/* A killed member leaves the cgroup shortly after it is reaped. */
	for (i = 0; i < 100; i++) {
		if (!rmdir(path) || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		kab_sleep_ms(20);
	}
	return -EBUSY;
}

/* A fresh, empty @cg with no limit. */
static inline int kab_cg_create(const char *cg)
{
	char path[256];
	int ret;

	ret = kab_cg_remove(cg);
	if (ret)
		return ret;
	kab_cg_path(path, sizeof(path), cg, NULL);
	return mkdir(path, 0755) ? -errno : 0;
}

/* Register a VM from inside @cg, so that @cg is its memcg. */
static inline int kab_vm_create_in_cg(int dev, const char *cg, struct kab_test_vm *vm,
			       const struct kab_create_vm *req)
{
	int ret, back;

	ret = kab_cg_enter(cg);
	if (ret)
		return ret;
	ret = kab_vm_create(dev, vm, req, 0);
	back = kab_cg_enter("");
	return ret ? ret : back;
}

/* ---- a RAM disk with reclaimable page cache ---- */

static inline const char *kab_ramdisk_unavailable(void)
{
	char cmd[128];

	if (access(KAB_RAMDISK, R_OK) == 0)
		return NULL;
	snprintf(cmd, sizeof(cmd),
		 "modprobe brd rd_nr=1 rd_size=%d >/dev/null 2>&1",
		 KAB_RAMDISK_MIB * 1024);
	if (system(cmd) || access(KAB_RAMDISK, R_OK))
		return "no " KAB_RAMDISK " (modprobe brd failed): no page cache"
		       " that reclaim could free";
	return NULL;
}

/* Drop the RAM disk's page cache, so a test starts from a quiet system. */
static inline void kab_drop_caches(void)
{
	sync();
	kab_write_file("/proc/sys/vm/drop_caches", "3");
}

/* ---- workloads, each in a child process ---- */

/*
 * Thrash in @cg: map @span_mib of the RAM disk and touch every page over
 * and over for at most @seconds, or until killed. With memory.max well
 * below @span_mib, reclaim runs in @cg and mostly finds pages that were
 * just referenced: medium and critical pressure. Returns the child's pid.
 */
static inline pid_t kab_thrash_start(const char *cg, unsigned int span_mib,
			      unsigned int seconds)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		size_t len = (size_t)span_mib << 20, off;
		uint64_t end = kab_now_ns() + seconds * 1000000000ULL;
		volatile const char *p;
		unsigned long sum = 0;
		int fd;

		if (kab_cg_enter(cg))
			_exit(2);
		fd = open(KAB_RAMDISK, O_RDONLY);
		if (fd < 0)
			_exit(3);
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(4);
		while (kab_now_ns() < end)
			for (off = 0; off < len; off += 4096)
				sum += p[off];
		_exit(sum == 1 ? 5 : 0);
	}
	return pid;
}

/* A /proc/meminfo line in MiB, -1 if missing. */
static inline long kab_meminfo_mib(const char *key)
{
	char line[256];
	long val = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) &&
		    line[strlen(key)] == ':') {
			val = strtol(line + strlen(key) + 1, NULL, 10) / 1024;
			break;
		}
	fclose(f);
	return val;
}

/*
 * Fill the host: read @cache_mib of the RAM disk into the page cache, then
 * allocate and touch anonymous memory in steps of 16 MiB until
 * MemAvailable falls below @stop_mib, so that reclaim must free the page
 * cache; then hold it for @hold_ms and exit. Nothing can be swapped, and
 * stopping above the OOM point leaves every process alive. Returns the
 * child's pid; the child exits 0, or 2.. when a step failed.
 */
static inline pid_t kab_hog_start(unsigned int cache_mib, unsigned int stop_mib,
			   unsigned int hold_ms)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		static char buf[1 << 20];
		unsigned int i;
		char *p;
		int fd;

		fd = open(KAB_RAMDISK, O_RDONLY);
		if (fd < 0)
			_exit(2);
		for (i = 0; i < cache_mib; i++)
			if (read(fd, buf, sizeof(buf)) != sizeof(buf))
				_exit(3);
		while (kab_meminfo_mib("MemAvailable") > (long)stop_mib) {
			p = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				_exit(4);
			memset(p, 0x5a, 16 << 20);
		}
		kab_sleep_ms(hold_ms);
		_exit(0);
	}
	return pid;
}

/* Kill a workload and reap it; returns its exit status, or -1 if killed. */
static inline int kab_child_stop(pid_t pid)
{
	int status;

	if (pid <= 0)
		return -1;
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static inline int kab_child_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- sysfs values ---- */

static inline uint64_t kab_sysfs_u64_or(const char *rel, uint64_t dflt)
{
	uint64_t val;

	return kab_sysfs_read_u64(rel, &val) ? dflt : val;
}

static inline uint64_t kab_vm_u64_or(uint32_t id, const char *file, uint64_t dflt)
{
	uint64_t val;

	return kab_vm_sysfs_read_u64(id, file, &val) ? dflt : val;
}

/* host_events_low + host_events_medium + host_events_critical */
static inline uint64_t kab_vm_host_events(uint32_t id, bool medium_up)
{
	uint64_t sum = 0;

	if (!medium_up)
		sum += kab_vm_u64_or(id, "host_events_low", 0);
	sum += kab_vm_u64_or(id, "host_events_medium", 0);
	sum += kab_vm_u64_or(id, "host_events_critical", 0);
	return sum;
}

#endif /* KAB_PRESSURE_UTIL_H */
