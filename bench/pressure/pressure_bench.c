// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark of the host pressure sources, run inside the test VM by
 * bench/pressure/run.sh. It prints figures; it asserts nothing.
 *
 *   pressure_bench latency RUNS MODULE.ko [SOURCE]
 *	For each source, RUNS times: start a workload that makes the kernel
 *	reclaim and measure the time from its start to the first host
 *	pressure decision (the VM's target eventfd firing). Sources:
 *	  vmpressure-memcg  thrash in a cgroup with memory.max 32M, the VM
 *			    registered from that cgroup;
 *	  vmpressure-global a hog filling the RAM with anonymous memory, the
 *			    VM in the root cgroup. Made before, untimed: 768
 *			    MiB of page cache and anonymous ballast until 256
 *			    MiB are free (filling 2 GiB under TCG would time
 *			    memset);
 *	  psi-vm	    the thrash, the VM registered from the root with
 *			    a trigger on the cgroup's memory.pressure;
 *	  psi-host	    the global hog and, beside it in the root cgroup,
 *			    a thrash of 256 MiB of mapped page cache (more
 *			    than the hog leaves: refaults, a host-wide
 *			    stall); a /proc/pressure/memory trigger bound
 *			    host wide, the module loaded with vmpressure=0;
 *	  psi-host-local    the thrash (a cgroup short of memory, the host
 *			    not), the same host-wide trigger. The stall
 *			    shows in /proc/pressure/memory, but the host has
 *			    no deficit, so the policy is expected to decide
 *			    nothing: the run waits LOCAL_WAIT_MS and reports
 *			    the host events the VM received.
 *	Triggers are "some 50000 500000" (50 ms of stall in 500 ms). Each
 *	run also prints the host events the VM received (its
 *	vms/<id>/host_events_*): an event that arrived and was declined
 *	shows there without a decision.
 *
 *   pressure_bench overhead RUNS MODULE.ko
 *	A heavy reclaim run (streaming 1 GiB through a cgroup limited to
 *	64M) RUNS times with the module loaded and a VM registered from that
 *	cgroup (its memcg watched: the handler's slow path), and RUNS times
 *	without the module, alternating which goes first. Prints the kprobe
 *	hits per second, the CPU time of the streaming process (its direct
 *	reclaim runs the kprobe handlers), of the whole VM (the module's work
 *	items run in shared kworkers) and the wall time of each run, and the
 *	medians' ratios: the module's own CPU time is the difference.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib.h"
#include "pressure_util.h"

#define BENCH_CG	"kab-bench"
#define TRIGGER		"some 50000 500000"
#define MAX_RUNS	64

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void big_vm_req(struct kab_create_vm *req)
{
	kab_create_vm_defaults(req);
	req->total_pages = 1ULL << 22;
	req->ceiling_pages = 1ULL << 22;
	req->floor_pages = 1ULL << 16;
}

static int psi_trigger(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (write(fd, TRIGGER, sizeof(TRIGGER)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

enum source {
	VMP_MEMCG, VMP_GLOBAL, PSI_VM, PSI_HOST, PSI_HOST_LOCAL, NR_SOURCES
};

static const char * const source_names[NR_SOURCES] = {
	"vmpressure-memcg", "vmpressure-global", "psi-vm", "psi-host",
	"psi-host-local",
};

#define WAIT_MS		120000
#define HOST_THRASH_MIB	256
#define LOCAL_WAIT_MS	30000

static bool global_workload(enum source src)
{
	return src == VMP_GLOBAL || src == PSI_HOST;
}

/*
 * The host-wide PSI runs load the module with vmpressure=0: with the
 * global hog the vmpressure source fires too, and its decision would be
 * timed instead of the trigger's.
 */
static bool without_vmpressure(enum source src)
{
	return src == PSI_HOST || src == PSI_HOST_LOCAL;
}

/* (Re)load @module with or without the vmpressure source, open it. */
static int reload(const char *module, bool vmpressure, int *dev,
		  struct kab_policy_snapshot *snap)
{
	char failed[64];

	if (*dev >= 0) {
		kab_policy_restore(snap);
		close(*dev);
		*dev = -1;
	}
	if (kab_module_loaded() && kab_module_unload())
		return -1;
	if (kab_module_load_params(module, vmpressure ? "" : "vmpressure=0"))
		return -1;
	*dev = kab_dev_open();
	if (*dev < 0 || kab_policy_save(snap) ||
	    kab_policy_zero_timers(snap, failed, sizeof(failed)))
		return -1;
	return 0;
}

/* Host events of every level the VM received so far. */
static uint64_t host_events(const struct kab_test_vm *vm)
{
	static const char * const files[] = {
		"host_events_low", "host_events_medium", "host_events_critical",
	};
	uint64_t sum = 0, v;
	unsigned int i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (!kab_vm_sysfs_read_u64(vm->id, files[i], &v))
			sum += v;
	return sum;
}

#define BALLAST_FREE_MIB	256

/*
 * Allocate anonymous memory until MemFree is below @free_mib, then hold it
 * until killed. Returns once the ballast is in place: its pid, or -errno.
 */
static pid_t ballast_start(unsigned int free_mib)
{
	int pipefd[2];
	char ready;
	pid_t pid;

	if (pipe(pipefd))
		return -errno;
	pid = fork();
	if (pid == 0) {
		char *p;

		close(pipefd[0]);
		while (kab_meminfo_mib("MemFree") > (long)free_mib) {
			p = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				_exit(2);
			memset(p, 0x5a, 16 << 20);
		}
		if (write(pipefd[1], "r", 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	if (pid < 0 || read(pipefd[0], &ready, 1) != 1) {
		close(pipefd[0]);
		kab_child_stop(pid);
		return -EIO;
	}
	close(pipefd[0]);
	return pid;
}

/* One latency run: seconds to the first decision, or < 0 on a failure. */
static double latency_run(int dev, enum source src, uint64_t *events)
{
	struct kab_test_vm vm = { .fd = -1 };
	struct kab_create_vm req;
	struct kab_host_psi h = { .size = sizeof(h) };
	int trig = -1, bind = -1, ret;
	struct pollfd pfd;
	uint64_t t0, t1 = 0;
	double res = -1;
	pid_t child, ballast = -1, thrash = -1;

	kab_drop_caches();
	if (kab_cg_create(BENCH_CG) ||
	    kab_cg_write(BENCH_CG, "memory.max", "32M"))
		return -1;
	big_vm_req(&req);
	if (src == PSI_VM) {
		char path[256];

		kab_cg_path(path, sizeof(path), BENCH_CG, "memory.pressure");
		trig = psi_trigger(path);
		if (trig < 0)
			goto out;
		req.psi_fd = trig;
	}
	ret = kab_vm_create_in_cg(dev, src == VMP_MEMCG ? BENCH_CG : "", &vm,
				  &req);
	if (ret)
		goto out;
	if (src == PSI_HOST || src == PSI_HOST_LOCAL) {
		trig = psi_trigger("/proc/pressure/memory");
		if (trig < 0)
			goto out;
		h.psi_fd = trig;
		bind = (int)kab_sys(ioctl(dev, KAB_BIND_HOST_PSI, &h));
		if (bind < 0)
			goto out;
	}

	if (global_workload(src)) {
		/*
		 * Untimed: page cache, then anonymous ballast until little
		 * is free. Filling 2 GiB under TCG takes tens of seconds,
		 * which would measure memset, not the source.
		 */
		child = kab_hog_start(768, 1 << 30, 0);
		if (kab_child_wait(child))
			goto out;
		ballast = ballast_start(BALLAST_FREE_MIB);
		if (ballast < 0)
			goto out;
	}
	t0 = kab_now_ns();
	if (global_workload(src))
		child = kab_hog_start(0, 160, WAIT_MS);
	else
		child = kab_thrash_start(BENCH_CG, 96, WAIT_MS / 1000);
	/*
	 * The hog alone does not stall: kswapd drops the page cache as fast
	 * as memset under TCG fills the RAM. A thrash of more mapped page
	 * cache than the hog leaves, in the root cgroup, refaults: the
	 * host-wide stall that PSI measures, with the host short of memory.
	 */
	if (src == PSI_HOST)
		thrash = kab_thrash_start("", HOST_THRASH_MIB, WAIT_MS / 1000);
	pfd.fd = vm.target_efd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, src == PSI_HOST_LOCAL ? LOCAL_WAIT_MS : WAIT_MS) == 1)
		t1 = kab_now_ns();
	*events = host_events(&vm);
	kab_child_stop(thrash);
	kab_child_stop(child);
	kab_child_stop(ballast);
	if (t1)
		res = (t1 - t0) / 1e9;
out:
	if (bind >= 0)
		close(bind);
	if (trig >= 0)
		close(trig);
	kab_vm_destroy(&vm);
	kab_cg_remove(BENCH_CG);
	return res;
}

static int latency(int runs, const char *module, const char *only)
{
	struct kab_policy_snapshot snap;
	double v[MAX_RUNS];
	int dev = -1, s, r, n, vmp = -1;
	char active[128];

	for (s = 0; s < NR_SOURCES; s++) {
		if (only && strcmp(only, source_names[s]))
			continue;
		if (vmp != !without_vmpressure(s)) {
			vmp = !without_vmpressure(s);
			if (reload(module, vmp, &dev, &snap)) {
				fprintf(stderr, "cannot load the module (vmpressure=%d) or set its policy\n",
					vmp);
				return 1;
			}
			if (kab_sysfs_read("sources/active", active,
					   sizeof(active)))
				strcpy(active, "?");
			printf("module loaded with vmpressure=%d, sources: %s\n",
			       vmp, active);
		}
		for (n = 0, r = 0; r < runs; r++) {
			uint64_t events = 0;
			double l = latency_run(dev, s, &events);

			printf("  %s run %d: %.3f s (host events to the VM %"
			       PRIu64 ", global events %" PRIu64
			       ", memcg events %" PRIu64 ")\n",
			       source_names[s], r + 1, l, events,
			       kab_sysfs_u64_or("sources/vmpressure/events_global", 0),
			       kab_sysfs_u64_or("sources/vmpressure/events_memcg", 0));
			if (l >= 0)
				v[n++] = l;
			kab_sleep_ms(1000);
		}
		if (n)
			printf("latency %-18s median %.3f s (n=%d of %d)\n",
			       source_names[s], median(v, n), n, runs);
		else
			printf("latency %-18s no event in %d runs\n",
			       source_names[s], runs);
		fflush(stdout);
	}
	if (dev >= 0) {
		kab_policy_restore(&snap);
		close(dev);
	}
	/* Leave the module as the VM run loaded it. */
	if (vmp == 0 && (kab_module_unload() ||
			  kab_module_load_params(module, ""))) {
		fprintf(stderr, "cannot reload the module\n");
		return 1;
	}
	return 0;
}

/* ---- overhead ---- */

/* CPU time of the whole VM so far, in seconds (all CPUs, not idle). */
static double cpu_seconds(void)
{
	unsigned long long v[10] = {};
	FILE *f = fopen("/proc/stat", "re");
	double busy;
	int i;

	if (!f)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8) {
		fclose(f);
		return 0;
	}
	fclose(f);
	busy = 0;
	for (i = 0; i < 8; i++)
		if (i != 3 && i != 4)	/* idle, iowait */
			busy += v[i];
	return busy / sysconf(_SC_CLK_TCK);
}

/* Stream @mib of the RAM disk through BENCH_CG (limited to 64M). */
static pid_t stream_start(unsigned int mib)
{
	pid_t pid = fork();

	if (pid == 0) {
		static char buf[1 << 20];
		unsigned int i;
		int fd;

		if (kab_cg_enter(BENCH_CG))
			_exit(2);
		fd = open(KAB_RAMDISK, O_RDONLY);
		if (fd < 0)
			_exit(3);
		for (i = 0; i < mib; i++) {
			if (i % KAB_RAMDISK_MIB == 0)
				lseek(fd, 0, SEEK_SET);
			if (read(fd, buf, sizeof(buf)) != sizeof(buf))
				_exit(4);
		}
		_exit(0);
	}
	return pid;
}

static int load_module(const char *path, bool load)
{
	return load ? kab_module_load_params(path, "") : kab_module_unload();
}

/* One overhead run; fills @wall, @cpu (whole VM), @child (the stream). */
static int overhead_run(const char *module, bool with, double *wall,
			double *cpu, double *child_cpu, double *rate)
{
	struct kab_test_vm vm = { .fd = -1 };
	struct kab_create_vm req;
	uint64_t hits0 = 0, hits = 0, t0, t1;
	struct rusage ru;
	int dev = -1, status;
	double c0, c1;
	pid_t child;

	if (kab_module_loaded() != with && load_module(module, with)) {
		fprintf(stderr, "cannot %s the module\n",
			with ? "load" : "unload");
		return -1;
	}
	kab_drop_caches();
	if (kab_cg_create(BENCH_CG) ||
	    kab_cg_write(BENCH_CG, "memory.max", "64M"))
		return -1;
	if (with) {
		dev = kab_dev_open();
		big_vm_req(&req);
		if (dev < 0 || kab_vm_create_in_cg(dev, BENCH_CG, &vm, &req))
			return -1;
		hits0 = kab_sysfs_u64_or("sources/vmpressure/kprobe_hits", 0);
	}
	c0 = cpu_seconds();
	t0 = kab_now_ns();
	child = stream_start(1024);
	if (child < 0 || wait4(child, &status, 0, &ru) != child)
		return -1;
	t1 = kab_now_ns();
	c1 = cpu_seconds();
	if (with) {
		hits = kab_sysfs_u64_or("sources/vmpressure/kprobe_hits", 0);
		kab_vm_destroy(&vm);
		close(dev);
	}
	kab_cg_remove(BENCH_CG);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "stream failed: %d\n", status);
		return -1;
	}
	*wall = (t1 - t0) / 1e9;
	*cpu = c1 - c0;
	*child_cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		     ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	*rate = (hits - hits0) / *wall;
	printf("  %s module: wall %.2f s, VM cpu %.2f s, stream cpu %.2f s",
	       with ? "with   " : "without", *wall, *cpu, *child_cpu);
	if (with)
		printf(", kprobe hits %" PRIu64 " (%.0f/s)", hits - hits0,
		       *rate);
	printf("\n");
	return 0;
}

/*
 * Runs alternate which of the two goes first, so that a drift of the
 * machine (other VMs on the host) hits both alike.
 */
static int overhead(int runs, const char *module)
{
	double wall[2][MAX_RUNS], cpu[2][MAX_RUNS], ccpu[2][MAX_RUNS];
	double rate[MAX_RUNS], unused;
	int r, k;

	for (r = 0; r < runs; r++) {
		for (k = 0; k < 2; k++) {
			bool with = (r + k) % 2;

			if (overhead_run(module, with, &wall[with][r],
					 &cpu[with][r], &ccpu[with][r],
					 with ? &rate[r] : &unused))
				return 1;
		}
	}
	if (!kab_module_loaded())
		load_module(module, true);
	printf("overhead kprobe hits median %.0f/s\n", median(rate, runs));
	printf("overhead stream cpu median with %.2f s, without %.2f s, ratio %.3f\n",
	       median(ccpu[1], runs), median(ccpu[0], runs),
	       median(ccpu[1], runs) / median(ccpu[0], runs));
	printf("overhead VM cpu median with %.2f s, without %.2f s, ratio %.3f\n",
	       median(cpu[1], runs), median(cpu[0], runs),
	       median(cpu[1], runs) / median(cpu[0], runs));
	printf("overhead wall median with %.2f s, without %.2f s, ratio %.3f\n",
	       median(wall[1], runs), median(wall[0], runs),
	       median(wall[1], runs) / median(wall[0], runs));
	return 0;
}

int main(int argc, char **argv)
{
	const char *why;
	int runs;

	if (argc < 3)
		goto usage;
	runs = atoi(argv[2]);
	if (runs < 1 || runs > MAX_RUNS)
		goto usage;
	why = kab_cg_unavailable();
	if (!why)
		why = kab_ramdisk_unavailable();
	if (why) {
		fprintf(stderr, "cannot benchmark: %s\n", why);
		return 4;
	}
	/*
	 * The kernel drops a block device's page cache at its last close:
	 * keep the RAM disk open, so the cache one child made outlives it.
	 */
	if (open(KAB_RAMDISK, O_RDONLY | O_CLOEXEC) < 0) {
		perror(KAB_RAMDISK);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "latency") && (argc == 4 || argc == 5))
		return latency(runs, argv[3], argc > 4 ? argv[4] : NULL);
	if (!strcmp(argv[1], "overhead") && argc == 4)
		return overhead(runs, argv[3]);
usage:
	fprintf(stderr, "usage: %s latency RUNS MODULE.ko [SOURCE] | overhead RUNS MODULE.ko\n",
		argv[0]);
	return 2;
}
