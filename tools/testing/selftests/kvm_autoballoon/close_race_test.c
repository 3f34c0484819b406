// SPDX-License-Identifier: GPL-2.0
/*
 * Teardown under fire, and guests that shout.
 *
 * - The per-VM fd is closed while threads hammer its guest-pressure
 *   eventfds, inject host pressure for it and call its ioctls: the close
 *   must return, the VM must be gone (nr_vms back, sysfs directory gone),
 *   and nothing may hang.
 * - A guest-pressure eventfd, or the target eventfd, is closed by its owner
 *   while the VM lives (the module sees EPOLLHUP): the VM goes on working.
 * - An eventfd storm (a million writes) from a "guest" stays bounded: the
 *   module never counts more than was written, keeps the target in range,
 *   settles once the storm ends and still answers.
 * - 1,000 registrations, each rung and closed at once, while host pressure
 *   and another VM's doorbell storm run: every one registers, nr_vms comes
 *   back, and the VM that stayed still answers.
 *
 * Whatever goes wrong in the kernel here (a use-after-free, a WARN, a
 * deadlock) also shows on the test VM's console, which the harness checks.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

FIXTURE(race) {
	int dev;
	uint64_t nr_vms;
	struct kab_policy_snapshot policy;
	bool policy_saved;
};

FIXTURE_SETUP(race)
{
	self->dev = -1;
	KAB_REQUIRE_MODULE();
	self->dev = kab_dev_open();
	KAB_ASSERT_OK(self->dev, "open " KAB_DEV_PATH);
	KAB_ASSERT_OK(kab_nr_vms(&self->nr_vms), "read nr_vms");
	KAB_SETUP_POLICY(self);
}

FIXTURE_TEARDOWN(race)
{
	if (self->dev >= 0)
		EXPECT_EQ(0, kab_wait_nr_vms(self->nr_vms, KAB_WAIT_MS))
			TH_LOG("VMs left registered after the test");
	if (self->policy_saved)
		EXPECT_EQ(0, kab_policy_restore(&self->policy));
	if (self->dev >= 0)
		close(self->dev);
}

/* ---- closing while events are in flight ---- */

enum storm_role { STORM_EVENTFD, STORM_INJECT, STORM_IOCTL };

struct storm {
	struct kab_test_vm *vm;
	int vm_fd;		/* the number, still used after the close */
	atomic_bool stop;
	atomic_uint started;
	atomic_ulong writes;
};

struct storm_thread {
	struct storm *storm;
	enum storm_role role;
	unsigned int level;
	pthread_t tid;
};

static void *storm_fn(void *arg)
{
	struct storm_thread *st = arg;
	struct storm *storm = st->storm;
	struct kab_target t;
	unsigned long n = 0;

	atomic_fetch_add(&storm->started, 1);
	do {
		switch (st->role) {
		case STORM_EVENTFD:
			/* The fd stays ours: only the module's side goes. */
			kab_eventfd_signal(storm->vm->pressure_efd[st->level], 1);
			break;
		case STORM_INJECT:
			/* ENOENT once the VM is gone: expected, ignored. */
			kab_inject(KAB_LEVEL_CRITICAL, storm->vm->id);
			break;
		case STORM_IOCTL:
			/* EBADF once the fd is closed: expected, ignored. */
			kab_get_target(storm->vm_fd, &t);
			kab_set_actual(storm->vm_fd, n & 1023);
			break;
		}
		n++;
	} while (!atomic_load(&storm->stop));
	atomic_fetch_add(&storm->writes, n);
	return NULL;
}

TEST_F_TIMEOUT(race, close_during_storm, 600)
{
	const unsigned int rounds = 20;
	struct storm_thread threads[KAB_NR_LEVELS + 2];
	struct kab_test_vm vm;
	struct storm storm;
	unsigned int round, i;
	int fd;

	KAB_BAIL_IF_SKIPPED();
	for (round = 0; round < rounds; round++) {
		KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL,
					    KAB_VM_PRESSURE_FDS), "create");
		memset(&storm, 0, sizeof(storm));
		storm.vm = &vm;
		storm.vm_fd = vm.fd;
		for (i = 0; i < ARRAY_SIZE(threads); i++) {
			threads[i].storm = &storm;
			threads[i].role = i < KAB_NR_LEVELS ? STORM_EVENTFD :
					  i == KAB_NR_LEVELS ? STORM_INJECT :
					  STORM_IOCTL;
			threads[i].level = i % KAB_NR_LEVELS;
			ASSERT_EQ(0, pthread_create(&threads[i].tid, NULL,
						    storm_fn, &threads[i]));
		}
		/* Every thread going, then vary how long before the close. */
		while (atomic_load(&storm.started) < ARRAY_SIZE(threads))
			kab_sleep_ms(1);
		kab_sleep_ms(5 + (round % 5) * 10);

		fd = vm.fd;
		vm.fd = -1;
		EXPECT_EQ(0, close(fd));
		EXPECT_EQ(0, kab_wait_vm_gone(vm.id, KAB_WAIT_MS))
			TH_LOG("round %u: vms/%u still there", round, vm.id);

		atomic_store(&storm.stop, true);
		for (i = 0; i < ARRAY_SIZE(threads); i++)
			pthread_join(threads[i].tid, NULL);
		EXPECT_LT(0, atomic_load(&storm.writes));
		kab_vm_destroy(&vm);
		ASSERT_EQ(0, kab_wait_nr_vms(self->nr_vms, KAB_WAIT_MS))
			TH_LOG("round %u: nr_vms did not come back", round);
	}
}

/* Closing several VMs at once, from several threads. */
struct closer {
	int fd;
	pthread_barrier_t *barrier;
	pthread_t tid;
	int ret;
};

static void *closer_fn(void *arg)
{
	struct closer *c = arg;

	pthread_barrier_wait(c->barrier);
	c->ret = close(c->fd);
	return NULL;
}

TEST_F(race, concurrent_closes)
{
	struct kab_test_vm vm[8];
	struct closer c[8];
	pthread_barrier_t barrier;
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	ASSERT_EQ(0, pthread_barrier_init(&barrier, NULL, ARRAY_SIZE(c)));
	for (i = 0; i < ARRAY_SIZE(vm); i++) {
		KAB_ASSERT_OK(kab_vm_create(self->dev, &vm[i], NULL,
					    KAB_VM_PRESSURE_FDS), "create");
		/* Events pending at close time. */
		kab_eventfd_signal(vm[i].pressure_efd[i % KAB_NR_LEVELS], 1);
		kab_inject(KAB_LEVEL_MEDIUM, vm[i].id);
		c[i].fd = vm[i].fd;
		vm[i].fd = -1;
		c[i].barrier = &barrier;
	}
	for (i = 0; i < ARRAY_SIZE(c); i++)
		ASSERT_EQ(0, pthread_create(&c[i].tid, NULL, closer_fn, &c[i]));
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		pthread_join(c[i].tid, NULL);
		EXPECT_EQ(0, c[i].ret);
	}
	pthread_barrier_destroy(&barrier);
	EXPECT_EQ(0, kab_wait_nr_vms(self->nr_vms, KAB_WAIT_MS));
	for (i = 0; i < ARRAY_SIZE(vm); i++) {
		EXPECT_EQ(0, kab_wait_vm_gone(vm[i].id, KAB_WAIT_MS));
		kab_vm_destroy(&vm[i]);
	}
}

/* ---- the owner closes its eventfds while the VM lives ---- */

TEST_F(race, pressure_eventfds_closed_first)
{
	struct kab_test_vm vm;
	struct kab_target t;
	struct kab_vm_stats s;
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, KAB_VM_PRESSURE_FDS),
		      "create");
	for (i = 0; i < KAB_NR_LEVELS; i++) {
		kab_eventfd_signal(vm.pressure_efd[i], 1);
		close(vm.pressure_efd[i]);
		vm.pressure_efd[i] = -1;
	}
	/* The VM is unaffected: host pressure still moves its target. */
	KAB_ASSERT_OK(kab_inject(KAB_LEVEL_CRITICAL, vm.id), "inject");
	KAB_EXPECT_OK(kab_wait_target_signal(&vm, 2, KAB_WAIT_MS, &t),
		      "target eventfd with the pressure eventfds closed");
	ASSERT_EQ(0, kab_get_stats(vm.fd, &s));
	EXPECT_EQ(1, s.host_events[KAB_LEVEL_CRITICAL - 1]);
	kab_vm_destroy(&vm);
	EXPECT_EQ(0, kab_wait_vm_gone(vm.id, KAB_WAIT_MS));
}

TEST_F(race, target_eventfd_closed_first)
{
	struct kab_test_vm vm;
	struct kab_target t;
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, KAB_VM_PRESSURE_FDS),
		      "create");
	close(vm.target_efd);
	vm.target_efd = -1;
	/* Changes still happen; their signals go to an eventfd nobody has. */
	for (i = 0; i < 5; i++) {
		KAB_ASSERT_OK(kab_inject(KAB_LEVEL_CRITICAL, vm.id), "inject");
		kab_eventfd_signal(vm.pressure_efd[0], 1);
	}
	kab_sleep_ms(200);
	ASSERT_EQ(0, kab_get_target(vm.fd, &t));
	EXPECT_LT(1, t.seq);
	kab_vm_destroy(&vm);
	EXPECT_EQ(0, kab_wait_vm_gone(vm.id, KAB_WAIT_MS));
}

/* Closing the eventfds and the VM fd at the same time, from two threads. */
struct efd_closer {
	struct kab_test_vm *vm;
	pthread_barrier_t *barrier;
};

static void *efd_closer_fn(void *arg)
{
	struct efd_closer *c = arg;
	unsigned int i;

	pthread_barrier_wait(c->barrier);
	for (i = 0; i < KAB_NR_LEVELS; i++)
		close(c->vm->pressure_efd[i]);
	return NULL;
}

TEST_F_TIMEOUT(race, eventfd_and_vm_close_race, 300)
{
	pthread_barrier_t barrier;
	struct kab_test_vm vm;
	struct efd_closer c;
	unsigned int round, i;
	pthread_t tid;

	KAB_BAIL_IF_SKIPPED();
	for (round = 0; round < 50; round++) {
		KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL,
					    KAB_VM_PRESSURE_FDS), "create");
		for (i = 0; i < KAB_NR_LEVELS; i++)
			kab_eventfd_signal(vm.pressure_efd[i], 1);
		ASSERT_EQ(0, pthread_barrier_init(&barrier, NULL, 2));
		c.vm = &vm;
		c.barrier = &barrier;
		ASSERT_EQ(0, pthread_create(&tid, NULL, efd_closer_fn, &c));
		pthread_barrier_wait(&barrier);
		EXPECT_EQ(0, close(vm.fd));
		pthread_join(tid, NULL);
		pthread_barrier_destroy(&barrier);
		vm.fd = -1;
		for (i = 0; i < KAB_NR_LEVELS; i++)
			vm.pressure_efd[i] = -1;
		kab_vm_destroy(&vm);
		ASSERT_EQ(0, kab_wait_nr_vms(self->nr_vms, KAB_WAIT_MS))
			TH_LOG("round %u", round);
	}
}

/* ---- a guest that shouts ---- */

struct shouter {
	int efd;
	uint64_t max_writes;
	uint64_t max_ns;
	uint64_t written;
	pthread_t tid;
};

static void *shouter_fn(void *arg)
{
	struct shouter *sh = arg;
	uint64_t deadline = kab_now_ns() + sh->max_ns;

	while (sh->written < sh->max_writes) {
		if (kab_eventfd_signal(sh->efd, 1))
			break;
		sh->written++;
		/* Look at the clock only now and then: it is slow in TCG. */
		if (!(sh->written & 4095) && kab_now_ns() > deadline)
			break;
	}
	return NULL;
}

/* Stats that no longer move: the module has drained the storm. */
static int wait_settled(int vm_fd, struct kab_vm_stats *s)
{
	uint64_t deadline = kab_now_ns() + 3ull * KAB_WAIT_MS * 1000000ull;
	struct kab_vm_stats prev;
	unsigned int quiet = 0;
	int ret;

	ret = kab_get_stats(vm_fd, &prev);
	while (!ret && quiet < 3) {
		if (kab_now_ns() > deadline)
			return -ETIMEDOUT;
		kab_sleep_ms(100);
		ret = kab_get_stats(vm_fd, s);
		if (!ret && !memcmp(&prev, s, sizeof(*s)))
			quiet++;
		else
			quiet = 0;
		prev = *s;
	}
	return ret;
}

TEST_F_TIMEOUT(race, eventfd_storm_bounded, 600)
{
	struct kab_test_vm vm;
	struct kab_vm_stats s;
	struct kab_target t, t2;
	struct shouter sh[KAB_NR_LEVELS];
	uint64_t total_written = 0, counted = 0, cnt;
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, KAB_VM_PRESSURE_FDS),
		      "create");
	/*
	 * Room to deflate, so that the storm makes real decisions. The
	 * balloon follows each step, as the module expects of a VMM.
	 */
	for (i = 0; i < 20; i++) {
		KAB_ASSERT_OK(kab_inject(KAB_LEVEL_CRITICAL, vm.id), "inject");
		ASSERT_EQ(0, kab_get_target(vm.fd, &t));
		KAB_ASSERT_OK(kab_set_actual(vm.fd, t.target_pages), "actual");
	}

	for (i = 0; i < KAB_NR_LEVELS; i++) {
		sh[i].efd = vm.pressure_efd[i];
		sh[i].max_writes = i == 0 ? 1000000 : 100000;
		sh[i].max_ns = 60ull * 1000000000ull;
		sh[i].written = 0;
		ASSERT_EQ(0, pthread_create(&sh[i].tid, NULL, shouter_fn,
					    &sh[i]));
	}
	/* Host pressure meanwhile, the other direction. */
	for (i = 0; i < 50; i++) {
		kab_inject(KAB_LEVEL_LOW, vm.id);
		kab_sleep_ms(10);
	}
	for (i = 0; i < KAB_NR_LEVELS; i++) {
		pthread_join(sh[i].tid, NULL);
		total_written += sh[i].written;
	}
	TH_LOG("storm: %" PRIu64 " eventfd writes (%" PRIu64 " low)",
	       total_written, sh[0].written);
	EXPECT_LT(100000, total_written) TH_LOG("the storm did not happen");

	KAB_ASSERT_OK(wait_settled(vm.fd, &s),
		      "stats still moving long after the storm ended");
	for (i = 0; i < KAB_NR_LEVELS; i++) {
		EXPECT_GE(sh[i].written, s.guest_events[i])
			TH_LOG("level %u: %" PRIu64 " events counted for %" PRIu64 " written",
			       i + 1, (uint64_t)s.guest_events[i],
			       sh[i].written);
		EXPECT_LT(0, s.guest_events[i]);
		counted += s.guest_events[i];
	}
	EXPECT_GE(total_written, counted + s.guest_events_dropped);
	EXPECT_GE(KAB_TEST_TOTAL - KAB_TEST_FLOOR, s.target_pages);
	EXPECT_LE(KAB_TEST_TOTAL - KAB_TEST_CEILING, s.target_pages);
	EXPECT_EQ(s.inflations + s.deflations + s.stalls + 1, s.target_seq)
		TH_LOG("every seq step must be one counted decision");
	EXPECT_GE(counted, s.deflations)
		TH_LOG("more deflations than guest events");

	/* Every count was consumed: the eventfds are quiet. */
	for (i = 0; i < KAB_NR_LEVELS; i++)
		KAB_EXPECT_ERR(EAGAIN, kab_eventfd_drain(vm.pressure_efd[i],
							 &cnt),
			       "read of a stormed guest-pressure eventfd");

	/* And the VM still works. */
	ASSERT_EQ(0, kab_get_target(vm.fd, &t));
	KAB_ASSERT_OK(kab_set_actual(vm.fd, t.target_pages), "actual");
	while (kab_eventfd_drain(vm.target_efd, &cnt) == 0)
		;
	KAB_ASSERT_OK(kab_inject(KAB_LEVEL_CRITICAL, vm.id), "inject after");
	ASSERT_EQ(0, kab_get_target(vm.fd, &t2));
	if (t.target_pages < KAB_TEST_TOTAL - KAB_TEST_FLOOR) {
		EXPECT_LT(t.target_pages, t2.target_pages);
		EXPECT_EQ(0, kab_wait_target_signal(&vm, t.seq + 1,
						    KAB_WAIT_MS, &t2));
	}
	kab_vm_destroy(&vm);
}


/* ---- register and unregister during a pressure storm ---- */

struct cycle_storm {
	atomic_bool stop;
	int efd;		/* the lasting VM's low pressure eventfd */
	uint64_t injections;
	uint64_t rings;
};

static void *cycle_inject_fn(void *arg)
{
	struct cycle_storm *cs = arg;

	while (!atomic_load(&cs->stop)) {
		kab_inject(1 + cs->injections % KAB_NR_LEVELS, 0);
		cs->injections++;
	}
	return NULL;
}

static void *cycle_ring_fn(void *arg)
{
	struct cycle_storm *cs = arg;

	while (!atomic_load(&cs->stop)) {
		kab_eventfd_signal(cs->efd, 1);
		cs->rings++;
	}
	return NULL;
}

TEST_F_TIMEOUT(race, register_cycles_under_storm, 600)
{
	struct cycle_storm cs = {};
	struct kab_test_vm lasting, vm;
	struct kab_vm_stats s;
	pthread_t inject, ring;
	unsigned int i, failed = 0;
	int first_err = 0;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &lasting, NULL,
				    KAB_VM_PRESSURE_FDS), "the lasting VM");
	cs.efd = lasting.pressure_efd[0];
	ASSERT_EQ(0, pthread_create(&inject, NULL, cycle_inject_fn, &cs));
	ASSERT_EQ(0, pthread_create(&ring, NULL, cycle_ring_fn, &cs));
	for (i = 0; i < 1000; i++) {
		int ret = kab_vm_create(self->dev, &vm, NULL,
					KAB_VM_PRESSURE_FDS);

		if (ret) {
			if (!failed++)
				first_err = ret;
			continue;
		}
		kab_eventfd_signal(vm.pressure_efd[i % KAB_NR_LEVELS], 1);
		kab_vm_destroy(&vm);
	}
	atomic_store(&cs.stop, true);
	pthread_join(inject, NULL);
	pthread_join(ring, NULL);
	TH_LOG("1000 cycles under %" PRIu64 " injections and %" PRIu64
	       " doorbell writes", cs.injections, cs.rings);
	EXPECT_EQ(0, failed)
		TH_LOG("%u registrations failed, the first with %s", failed,
		       strerrorname_np(-first_err));
	EXPECT_LT(0, cs.injections);
	EXPECT_EQ(0, kab_wait_nr_vms(self->nr_vms + 1, KAB_WAIT_MS))
		TH_LOG("nr_vms did not come back to the lasting VM alone");
	EXPECT_EQ(0, kab_get_stats(lasting.fd, &s));
	EXPECT_LT(0, s.guest_events[0]) TH_LOG("the storm's events were lost");
	kab_vm_destroy(&lasting);
}

KAB_TEST_MAIN
