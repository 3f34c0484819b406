// SPDX-License-Identifier: GPL-2.0
/*
 * kab_guest: the whole userspace of the end-to-end test's nested guests.
 *
 * It is /init of an initramfs that holds nothing else but kernel modules
 * (mkguest.sh), so a guest boots to its workload in seconds even nested
 * under TCG: no root filesystem, no shell, no Python.
 *
 * As PID 1 it mounts /proc, /sys and /dev, loads the modules named in
 * /modules (one path per line, in order: the virtio transport where the
 * kernel has it as a module, then virtio_autoballoon.ko) and talks to the
 * test over the first serial port, one line at a time.
 *
 * Commands it reads:
 *   grow MIB   the workload's demand becomes MIB (anonymous memory, touched)
 *   free       the demand becomes 0
 *   build MIB N  a build-like job: N rounds, each allocating a pseudo-random
 *              MIB/4..MIB (seeded, the same in every run), writing every
 *              page four times over, then freeing it; reports when done
 *   build MIB N CACHE  the same job with page cache, as a kernel build has:
 *              it first writes CACHE MiB of "sources" to the disk /dev/vda,
 *              then each round reads all the sources back, runs the round
 *              above, and writes CACHE/2 MiB of "objects" further on (the
 *              objects wrap around at the end of the disk); buffered I/O,
 *              never synced, so the guest's page cache holds it all
 *   build MIB N CACHE SEED  the same with another seed of the round sizes
 *              (1 above; CACHE may be 0): guests with different seeds do
 *              not peak together
 *   off        power off
 *   reboot     reboot at once, as a guest's reboot(2) does (the machine
 *              resets, the kernel boots again and says ready again)
 * Lines it writes:
 *   kabg: ready ...          once, after the modules are loaded
 *   kabg: insmod PATH: ERR   a module that did not load
 *   kabg: built ms=MS rounds=N oom=N   a build job ended (MS: its runtime)
 *   kabg: build failed status=N   a build job with page cache found no
 *                            disk, or its I/O failed (4, 5)
 *   kabg: s t=MS mt=KB av=KB dem=MIB held=MIB oom=N bo=N
 *                            the state, every second, and every 250 ms
 *                            while it changes (bo: the OOM restarts of
 *                            the current or last build job)
 *
 * The workload is a child process with oom_score_adj 1000 that grows its
 * memory towards the demand in 8 MiB steps and gives it back when the
 * demand falls. If the OOM killer takes it, oom counts up and a new one
 * starts a second later with the same demand: a program that needs the
 * memory and tries again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define MIB		(1UL << 20)
#define STEP_MIB	8
#define MAX_CHUNKS	4096

struct shared {
	volatile unsigned int demand;	/* MiB, set by PID 1 */
	volatile unsigned int held;	/* MiB, set by the workload */
};

static struct shared *sh;
static int tty = -1;

static unsigned long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000UL + ts.tv_nsec / 1000000;
}

static void say(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(tty, buf, n) < 0)
		_exit(1);
}

static long meminfo(const char *key)
{
	char line[128];
	size_t len = strlen(key);
	long val = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, len) && line[len] == ':') {
			val = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

static void load_modules(void)
{
	char path[512];
	FILE *f = fopen("/modules", "r");

	if (!f)
		return;
	while (fgets(path, sizeof(path), f)) {
		int fd;

		path[strcspn(path, "\n")] = '\0';
		if (!path[0])
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || syscall(SYS_finit_module, fd, "", 0) < 0)
			say("kabg: insmod %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	fclose(f);
}

/* The workload: hold sh->demand MiB, touched, in STEP_MIB chunks. */
static void workload(void)
{
	static char *chunk[MAX_CHUNKS];
	unsigned int n = 0;
	int fd = open("/proc/self/oom_score_adj", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "1000", 4) < 0)
			_exit(2);
		close(fd);
	}
	for (;;) {
		unsigned int want = sh->demand / STEP_MIB;

		if (want > MAX_CHUNKS)
			want = MAX_CHUNKS;
		if (n < want) {
			char *p = mmap(NULL, STEP_MIB * MIB,
				       PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			size_t off;

			if (p == MAP_FAILED) {
				usleep(100000);
				continue;
			}
			for (off = 0; off < STEP_MIB * MIB; off += 4096)
				p[off] = 1;
			chunk[n++] = p;
		} else if (n > want) {
			munmap(chunk[--n], STEP_MIB * MIB);
		} else {
			usleep(50000);
		}
		sh->held = n * STEP_MIB;
	}
}

/* Write (wr) or read LEN MiB of the disk at MiB OFF, 1 MiB at a time. */
static void disk_io(int fd, char *buf, unsigned long off, unsigned long len,
		    int wr)
{
	unsigned long i;

	for (i = 0; i < len; i++) {
		ssize_t n;

		if (wr)
			memset(buf, (int)(off + i), MIB);
		n = wr ? pwrite(fd, buf, MIB, (off_t)(off + i) * MIB) :
			 pread(fd, buf, MIB, (off_t)(off + i) * MIB);
		if (n != (ssize_t)MIB)
			_exit(5);
	}
}

/* One build job (see "build" above); exits 0 when done. */
static void build_job(unsigned int mib, unsigned int rounds,
		      unsigned int cache, unsigned int seed)
{
	unsigned int r, pass;
	unsigned long disk = 0, obj = 0;
	int dfd = -1, fd = open("/proc/self/oom_score_adj", O_WRONLY);
	static char buf[MIB];

	if (fd >= 0) {
		if (write(fd, "1000", 4) < 0)
			_exit(2);
		close(fd);
	}
	if (cache) {
		off_t end;

		dfd = open("/dev/vda", O_RDWR | O_CLOEXEC);
		if (dfd < 0)
			_exit(4);
		end = lseek(dfd, 0, SEEK_END);
		disk = end > 0 ? (unsigned long)(end / MIB) : 0;
		if (disk < cache + cache / 2 + 1)
			_exit(4);
		disk_io(dfd, buf, 0, cache, 1);
	}
	for (r = 0; r < rounds; r++) {
		size_t len, off;
		char *p;

		if (cache)
			disk_io(dfd, buf, 0, cache, 0);

		seed = seed * 1103515245 + 12345;
		len = (mib / 4 + (seed >> 8) % (mib - mib / 4 + 1)) * MIB;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(3);
		for (pass = 0; pass < 4; pass++)
			for (off = 0; off < len; off += 4096)
				p[off] += pass + 1;
		munmap(p, len);
		if (cache) {
			if (cache + obj + cache / 2 > disk)
				obj = 0;
			disk_io(dfd, buf, cache + obj, cache / 2, 1);
			obj += cache / 2;
		}
	}
	_exit(0);
}

static pid_t start_workload(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		workload();
		_exit(0);
	}
	return pid;
}

static pid_t builder;
static unsigned long build_start;
static unsigned int build_mib, build_rounds, build_cache, build_seed;
static unsigned int build_oom;

static void start_build(void)
{
	builder = fork();
	if (builder == 0)
		build_job(build_mib, build_rounds, build_cache, build_seed);
}

static void command(char *line, int *off)
{
	unsigned long mib, n, cache, seed;
	char *end;

	if (!strncmp(line, "build ", 6)) {
		errno = 0;
		mib = strtoul(line + 6, &end, 10);
		n = *end == ' ' ? strtoul(end + 1, &end, 10) : 0;
		cache = *end == ' ' ? strtoul(end + 1, &end, 10) : 0;
		seed = *end == ' ' ? strtoul(end + 1, &end, 10) : 1;
		if (errno || *end || mib < 4 || mib > 65536 || !n ||
		    n > 100000 || cache > 65536 || seed > UINT_MAX ||
		    builder) {
			say("kabg: bad command '%s'", line);
		} else {
			build_mib = mib;
			build_rounds = n;
			build_cache = cache;
			build_seed = seed;
			build_oom = 0;
			build_start = now_ms();
			start_build();
		}
	} else if (!strncmp(line, "grow ", 5)) {
		errno = 0;
		mib = strtoul(line + 5, &end, 10);
		if (errno || *end || mib > MAX_CHUNKS * STEP_MIB)
			say("kabg: bad command '%s'", line);
		else
			sh->demand = mib;
	} else if (!strcmp(line, "free")) {
		sh->demand = 0;
	} else if (!strcmp(line, "off")) {
		*off = 1;
	} else if (!strcmp(line, "reboot")) {
		*off = 2;
	} else if (line[0]) {
		say("kabg: bad command '%s'", line);
	}
}

int main(void)
{
	unsigned int oom = 0, last_held = ~0U, last_demand = ~0U;
	unsigned long last_report = 0, restart_at = 0;
	char in[128];
	size_t in_len = 0;
	struct termios tio;
	pid_t child = 0;
	int off = 0;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	tty = open("/dev/ttyS0", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty < 0)
		tty = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty < 0)
		return 1;
	if (!tcgetattr(tty, &tio)) {
		cfmakeraw(&tio);
		tcsetattr(tty, TCSANOW, &tio);
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	load_modules();
	say("kabg: ready mt=%ld", meminfo("MemTotal"));

	while (!off) {
		struct pollfd pfd = { .fd = tty, .events = POLLIN };
		unsigned long t;
		int status;
		pid_t pid;

		if (poll(&pfd, 1, 200) > 0) {
			ssize_t n = read(tty, in + in_len, 1);

			if (n == 1) {
				if (in[in_len] == '\n' || in[in_len] == '\r') {
					in[in_len] = '\0';
					command(in, &off);
					in_len = 0;
				} else if (in_len < sizeof(in) - 2) {
					in_len++;
				}
			}
		}
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0 && pid == builder) {
			if (WIFEXITED(status) && !WEXITSTATUS(status)) {
				builder = 0;
				say("kabg: built ms=%lu rounds=%u oom=%u",
				    now_ms() - build_start, build_rounds,
				    build_oom);
			} else if (WIFEXITED(status) &&
				   WEXITSTATUS(status) >= 4) {
				/* No disk, or its I/O failed: no retry. */
				builder = 0;
				say("kabg: build failed status=%d",
				    WEXITSTATUS(status));
			} else {
				/* OOM-killed: the job starts over. */
				build_oom++;
				start_build();
			}
		}
		if (pid > 0 && pid == child) {
			child = 0;
			if (WIFSIGNALED(status))
				oom++;
			sh->held = 0;
			restart_at = now_ms() + 1000;
		}
		t = now_ms();
		if (!child && sh->demand && t >= restart_at)
			child = start_workload();
		if (t - last_report >= 1000 ||
		    ((sh->held != last_held || sh->demand != last_demand) &&
		     t - last_report >= 250)) {
			last_held = sh->held;
			last_demand = sh->demand;
			last_report = t;
			say("kabg: s t=%lu mt=%ld av=%ld dem=%u held=%u oom=%u bo=%u",
			    t, meminfo("MemTotal"), meminfo("MemAvailable"),
			    last_demand, last_held, oom, build_oom);
		}
	}
	if (child)
		kill(child, SIGKILL);
	sync();
	reboot(off == 2 ? RB_AUTOBOOT : RB_POWER_OFF);
	return 0;
}
