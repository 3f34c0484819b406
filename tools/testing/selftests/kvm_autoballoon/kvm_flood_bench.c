// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark, not a test: what a guest that rings its pressure doorbell as
 * fast as it can costs the host and the other VMs.
 *
 * VM A is a real KVM guest (kvm.h) whose doorbell is bound with
 * KVM_IOEVENTFD to A's guest-pressure eventfds; a thread runs it in a loop,
 * one doorbell write (cycling low, medium, critical) per KVM_RUN. VM B is
 * another registration; a thread calls B's KAB_VM_GET_TARGET (and, in a
 * second series, KAB_VM_GET_STATS) back to back and times each call. Both
 * are measured for the same time without the flood and with it. The
 * module's work items run on kworkers: their CPU time (the first field of
 * /proc/PID/schedstat of every kworker, summed) over each window, less
 * that of the quiet window, is the flood's cost outside the guest, in
 * percent of one CPU. The policy keeps its default tunables.
 *
 *   kvm_flood_bench [-s SECONDS]
 *
 * Prints TAP comments and lines "NAME key=value...". Exits 4 when the
 * module or /dev/kvm is missing.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"
#include "kvm.h"

#define KSFT_SKIP	4
#define MAX_SAMPLES	(1u << 21)

struct flood {
	struct kab_guest guest;
	struct kab_test_vm vm;
	int efd[KAB_NR_LEVELS];
	pthread_t tid;
	atomic_bool stop;
	uint64_t rings;
	int err;
};

static void *flood_fn(void *arg)
{
	struct flood *f = arg;
	uint32_t exit_reason;
	int ret;

	while (!atomic_load(&f->stop)) {
		ret = kab_guest_ring(&f->guest, 1 + f->rings % KAB_NR_LEVELS,
				     &exit_reason);
		if (ret || exit_reason != KVM_EXIT_HLT) {
			f->err = ret ? ret : -EIO;
			break;
		}
		f->rings++;
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Call @ioctl_fn on B for @secs seconds; report its latency percentiles.
 * Returns 0 or -errno.
 */
static int time_calls(const char *name, const char *phase, int vm_fd,
		      bool stats, unsigned int secs, uint64_t *ns)
{
	uint64_t end = kab_now_ns() + secs * 1000000000ull, t0;
	struct kab_vm_stats s;
	struct kab_target t;
	unsigned int n = 0;
	int ret;

	while (n < MAX_SAMPLES && (t0 = kab_now_ns()) < end) {
		ret = stats ? kab_get_stats(vm_fd, &s) : kab_get_target(vm_fd, &t);
		if (ret)
			return ret;
		ns[n++] = kab_now_ns() - t0;
	}
	if (n < 2)
		return -EIO;
	qsort(ns, n, sizeof(*ns), cmp_u64);
	printf("%s phase=%s median=%.1f p99=%.1f max=%.1f samples=%u\n", name,
	       phase, ns[n / 2] / 1000.0, ns[(n * 99) / 100] / 1000.0,
	       ns[n - 1] / 1000.0, n);
	return 0;
}

/*
 * One window of @secs per series with or without the flood; the kworker
 * CPU of the whole window, in percent of one CPU, in @cpu.
 */
static int window(struct flood *f, int vm_fd, bool flooding,
		  unsigned int secs, uint64_t *ns, double *cpu)
{
	const char *phase = flooding ? "flood" : "quiet";
	uint64_t k0, t0, rings0 = f->rings;
	int ret;

	if (flooding) {
		atomic_store(&f->stop, false);
		ret = -pthread_create(&f->tid, NULL, flood_fn, f);
		if (ret)
			return ret;
	}
	k0 = kab_kworker_ns();
	t0 = kab_now_ns();
	ret = time_calls("get_target_us", phase, vm_fd, false, secs, ns);
	if (!ret)
		ret = time_calls("get_stats_us", phase, vm_fd, true, secs, ns);
	*cpu = 100.0 * (double)(kab_kworker_ns() - k0) / (double)(kab_now_ns() - t0);
	if (flooding) {
		atomic_store(&f->stop, true);
		pthread_join(f->tid, NULL);
		if (!ret)
			ret = f->err;
		printf("doorbell_writes phase=flood per_s=%.0f total=%" PRIu64 "\n",
		       (double)(f->rings - rings0) * 1e9 /
		       (double)(kab_now_ns() - t0), f->rings - rings0);
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct kab_create_vm req;
	struct kab_test_vm victim;
	struct kab_vm_stats s;
	struct flood f = { .efd = { -1, -1, -1 } };
	unsigned int secs = 5, i;
	double quiet_cpu, flood_cpu;
	const char *why, *what = "";
	uint64_t *ns = NULL;
	char err[64];
	int opt, dev, ret;

	while ((opt = getopt(argc, argv, "s:")) != -1) {
		if (opt != 's') {
			fprintf(stderr, "usage: %s [-s SECONDS]\n", argv[0]);
			return 2;
		}
		secs = (unsigned int)strtoul(optarg, NULL, 0);
	}
	if (!secs) {
		fprintf(stderr, "need at least 1 second per window\n");
		return 2;
	}
	why = kab_unavailable_reason();
	if (!why)
		why = kab_kvm_unavailable_reason();
	if (why) {
		printf("# SKIP kvm_flood_bench: %s\n", why);
		return KSFT_SKIP;
	}

	dev = kab_dev_open();
	what = "open " KAB_DEV_PATH;
	ret = dev;
	if (dev < 0)
		goto out;
	ret = kab_guest_create(&f.guest, &what);
	if (ret)
		goto out;
	for (i = 0; i < KAB_NR_LEVELS; i++) {
		what = "eventfd";
		ret = f.efd[i] = kab_eventfd_new();
		if (ret < 0)
			goto out;
		what = "KVM_IOEVENTFD";
		ret = kab_guest_bind_doorbell(&f.guest, i + 1, f.efd[i]);
		if (ret)
			goto out;
	}
	kab_create_vm_defaults(&req);
	req.kvm_vm_fd = f.guest.vm_fd;
	for (i = 0; i < KAB_NR_LEVELS; i++)
		req.pressure_fd[i] = f.efd[i];
	what = "KAB_CREATE_VM (flood)";
	ret = kab_vm_create(dev, &f.vm, &req, 0);
	if (ret)
		goto out;
	what = "KAB_CREATE_VM (victim)";
	ret = kab_vm_create(dev, &victim, NULL, 0);
	if (ret)
		goto out_flood;
	ns = calloc(MAX_SAMPLES, sizeof(*ns));
	what = "calloc";
	ret = ns ? 0 : -ENOMEM;
	if (ret)
		goto out_victim;

	printf("# kvm_flood_bench: %u s per series and window\n", secs);
	what = "quiet window";
	ret = window(&f, victim.fd, false, secs, ns, &quiet_cpu);
	if (ret)
		goto out_victim;
	what = "flood window";
	ret = window(&f, victim.fd, true, secs, ns, &flood_cpu);
	if (ret)
		goto out_victim;
	printf("kworker_cpu_percent quiet=%.2f flood=%.2f module=%.2f\n",
	       quiet_cpu, flood_cpu,
	       flood_cpu > quiet_cpu ? flood_cpu - quiet_cpu : 0.0);
	what = "KAB_VM_GET_STATS (flood)";
	ret = kab_get_stats(f.vm.fd, &s);
	if (!ret)
		printf("flood_vm guest_events=%" PRIu64 " dropped=%" PRIu64
		       " rings=%" PRIu64 "\n",
		       (uint64_t)(s.guest_events[0] + s.guest_events[1] +
				  s.guest_events[2]),
		       (uint64_t)s.guest_events_dropped, f.rings);
out_victim:
	kab_vm_destroy(&victim);
out_flood:
	kab_vm_destroy(&f.vm);
out:
	free(ns);
	kab_guest_destroy(&f.guest);
	for (i = 0; i < KAB_NR_LEVELS; i++)
		if (f.efd[i] >= 0)
			close(f.efd[i]);
	if (dev >= 0)
		close(dev);
	if (ret < 0) {
		printf("# kvm_flood_bench: %s failed: %s\n", what,
		       kab_ret_name(ret, err, sizeof(err)));
		return 1;
	}
	return 0;
}
