// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark, not a test: how long from a guest's pressure doorbell write to
 * the module's target eventfd firing.
 *
 * Same setup as kvm_ioeventfd_test (a real KVM guest, KVM_IOEVENTFD with
 * datamatch on the doorbell, the eventfds handed to the module). For each
 * sample the main thread takes the time and enters KVM_RUN; the guest
 * writes the doorbell and halts; a second thread, blocked in poll() on the
 * target eventfd, takes the time when it fires. The figure therefore
 * includes one VM entry; the HLT-only KVM_RUN round trip is measured too,
 * so that the entry cost can be read off. A third figure starts from a
 * userspace write() to the same pressure eventfd (no KVM at all).
 *
 *   kvm_doorbell_bench [-n SAMPLES] [-l LEVEL]
 *
 * Prints TAP comments and one "doorbell_to_target_eventfd_us ..." line per
 * figure: median, p99, min, max in microseconds. Exits 4 when the module
 * or /dev/kvm is missing.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"
#include "kvm.h"

#define KSFT_SKIP	4

struct bench {
	struct kab_test_vm vm;
	struct kab_guest guest;
	int efd[KAB_NR_LEVELS];
	unsigned int level;

	/*
	 * Reader thread: when armed, the first firing after which the target
	 * reads a seq above armed_seq completes the sample. Firings for
	 * older changes (their signal came late) are skipped.
	 */
	pthread_t tid;
	atomic_bool armed;
	atomic_uint_fast64_t armed_seq;
	atomic_bool stop;
	uint64_t fired_ns;
	sem_t fired;
};

static void *reader_fn(void *arg)
{
	struct bench *b = arg;
	struct pollfd pfd = { .fd = b->vm.target_efd, .events = POLLIN };
	struct kab_target t;
	uint64_t now, cnt;

	while (!atomic_load(&b->stop)) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		now = kab_now_ns();
		kab_eventfd_drain(b->vm.target_efd, &cnt);
		if (!atomic_load(&b->armed) || kab_get_target(b->vm.fd, &t) ||
		    t.seq <= atomic_load(&b->armed_seq))
			continue;
		atomic_store(&b->armed, false);
		b->fired_ns = now;
		sem_post(&b->fired);
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *name, uint64_t *ns, unsigned int n)
{
	qsort(ns, n, sizeof(*ns), cmp_u64);
	printf("%s median=%.1f p99=%.1f min=%.1f max=%.1f samples=%u\n", name,
	       ns[n / 2] / 1000.0, ns[(n * 99) / 100] / 1000.0, ns[0] / 1000.0,
	       ns[n - 1] / 1000.0, n);
}

/* Make sure the next guest event can lower the target, then go quiet. */
static int prepare_sample(struct bench *b)
{
	struct kab_target t;
	int ret, i;

	ret = kab_get_target(b->vm.fd, &t);
	if (ret)
		return ret;
	for (i = 0; t.target_pages < KAB_TEST_TOTAL / 2 && i < 1000; i++) {
		/* The balloon follows, as the module expects of a VMM. */
		ret = kab_set_actual(b->vm.fd, t.target_pages);
		if (ret)
			return ret;
		ret = kab_inject(KAB_LEVEL_CRITICAL, b->vm.id);
		if (ret)
			return ret;
		ret = kab_get_target(b->vm.fd, &t);
		if (ret)
			return ret;
	}
	if (t.target_pages == b->vm.req.total_pages - b->vm.req.ceiling_pages)
		return -ERANGE;
	atomic_store(&b->armed_seq, t.seq);
	atomic_store(&b->armed, true);
	return 0;
}

static int wait_fired(struct bench *b)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += KAB_WAIT_MS / 1000;
	while (sem_timedwait(&b->fired, &ts))
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int sample_doorbell(struct bench *b, uint64_t *ns)
{
	uint32_t exit_reason;
	uint64_t t0;
	int ret;

	ret = prepare_sample(b);
	if (ret)
		return ret;
	t0 = kab_now_ns();
	ret = kab_guest_ring(&b->guest, b->level, &exit_reason);
	if (ret)
		return ret;
	if (exit_reason != KVM_EXIT_HLT)
		return -EIO;
	ret = wait_fired(b);
	if (ret)
		return ret;
	*ns = b->fired_ns - t0;
	return 0;
}

static int sample_userspace(struct bench *b, uint64_t *ns)
{
	uint64_t t0;
	int ret;

	ret = prepare_sample(b);
	if (ret)
		return ret;
	t0 = kab_now_ns();
	ret = kab_eventfd_signal(b->efd[b->level - 1], 1);
	if (ret)
		return ret;
	ret = wait_fired(b);
	if (ret)
		return ret;
	*ns = b->fired_ns - t0;
	return 0;
}

static int sample_halt(struct bench *b, uint64_t *ns)
{
	uint32_t exit_reason;
	uint64_t t0;
	int ret;

	t0 = kab_now_ns();
	ret = kab_guest_halt(&b->guest, &exit_reason);
	*ns = kab_now_ns() - t0;
	if (ret)
		return ret;
	return exit_reason == KVM_EXIT_HLT ? 0 : -EIO;
}

int main(int argc, char **argv)
{
	struct kab_policy_snapshot policy;
	struct kab_create_vm req;
	struct bench b = { .level = KAB_LEVEL_LOW };
	unsigned int n = 300, i;
	uint64_t *ns;
	char failed[64] = "", err[64];
	const char *why, *what = "";
	int opt, dev, ret;

	while ((opt = getopt(argc, argv, "n:l:")) != -1) {
		switch (opt) {
		case 'n':
			n = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'l':
			b.level = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-n SAMPLES] [-l LEVEL]\n",
				argv[0]);
			return 2;
		}
	}
	if (n < 2 || b.level < KAB_LEVEL_LOW || b.level > KAB_LEVEL_CRITICAL) {
		fprintf(stderr, "need at least 2 samples and a level 1..3\n");
		return 2;
	}

	why = kab_unavailable_reason();
	if (!why)
		why = kab_kvm_unavailable_reason();
	if (why) {
		printf("# SKIP kvm_doorbell_bench: %s\n", why);
		return KSFT_SKIP;
	}

	dev = kab_dev_open();
	if (dev < 0 || kab_policy_save(&policy) ||
	    kab_policy_zero_timers(&policy, failed, sizeof(failed))) {
		printf("# kvm_doorbell_bench: setup failed (policy/%s)\n",
		       failed);
		return 1;
	}
	ret = kab_guest_create(&b.guest, &what);
	if (ret)
		goto out_policy;
	for (i = 0; i < KAB_NR_LEVELS; i++) {
		what = "eventfd";
		b.efd[i] = kab_eventfd_new();
		ret = b.efd[i];
		if (ret < 0)
			goto out_policy;
		what = "KVM_IOEVENTFD";
		ret = kab_guest_bind_doorbell(&b.guest, i + 1, b.efd[i]);
		if (ret)
			goto out_policy;
	}
	kab_create_vm_defaults(&req);
	req.floor_pages = 1;
	req.ceiling_pages = req.total_pages;
	req.kvm_vm_fd = b.guest.vm_fd;
	for (i = 0; i < KAB_NR_LEVELS; i++)
		req.pressure_fd[i] = b.efd[i];
	what = "KAB_CREATE_VM";
	ret = kab_vm_create(dev, &b.vm, &req, 0);
	if (ret)
		goto out_policy;

	ns = calloc(n, sizeof(*ns));
	sem_init(&b.fired, 0, 0);
	what = "pthread_create";
	ret = -pthread_create(&b.tid, NULL, reader_fn, &b);
	if (ret || !ns)
		goto out_vm;

	printf("# kvm_doorbell_bench: %u samples, level %u\n", n, b.level);
	what = "halt round trip";
	for (i = 0; i < n && !ret; i++)
		ret = sample_halt(&b, &ns[i]);
	if (!ret)
		report("kvm_run_halt_roundtrip_us", ns, n);
	what = "doorbell sample";
	for (i = 0; i < n && !ret; i++)
		ret = sample_doorbell(&b, &ns[i]);
	if (!ret)
		report("doorbell_to_target_eventfd_us", ns, n);
	what = "userspace sample";
	for (i = 0; i < n && !ret; i++)
		ret = sample_userspace(&b, &ns[i]);
	if (!ret)
		report("eventfd_write_to_target_eventfd_us", ns, n);

	atomic_store(&b.stop, true);
	pthread_join(b.tid, NULL);
out_vm:
	free(ns);
	kab_vm_destroy(&b.vm);
out_policy:
	kab_guest_destroy(&b.guest);
	for (i = 0; i < KAB_NR_LEVELS; i++)
		if (b.efd[i] > 0)
			close(b.efd[i]);
	kab_policy_restore(&policy);
	close(dev);
	if (ret) {
		printf("# kvm_doorbell_bench: %s failed: %s\n", what,
		       kab_ret_name(ret, err, sizeof(err)));
		return 1;
	}
	return 0;
}
