/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the kvm_autoballoon selftests.
 *
 * Every helper that can fail returns 0 (or a file descriptor) on success and
 * -errno on failure, never -1 with errno, so that a test can print exactly
 * what came back. The helpers never assert: the tests do, with messages that
 * say what they expected.
 *
 * This header does not include kselftest_harness.h (which defines functions
 * and may only be included once per program); the KAB_* check macros at the
 * bottom expand inside TEST()/TEST_F() bodies, where the harness is in scope.
 */
#ifndef KAB_SELFTEST_LIB_H
#define KAB_SELFTEST_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/kvm_autoballoon.h>

#define KAB_DEV_PATH		"/dev/kvm_autoballoon"
#define KAB_SYSFS_ROOT		"/sys/kernel/kvm_autoballoon"
#define KAB_MODULE_NAME		"kvm_autoballoon"

/*
 * How long to wait for something the module does asynchronously (its work
 * items). This is a bound on a hang, not a speed requirement: the tests run
 * under TCG, where a work item can take a good fraction of a second.
 */
#define KAB_WAIT_MS		10000

/* Limits of sysfs max_vms, from the brief's sysfs contract. */
#define KAB_MAX_VMS_MIN		1
#define KAB_MAX_VMS_MAX		65536

/* Default geometry of a test VM: 1 GiB guest, keeps at least 256 MiB. */
#define KAB_TEST_TOTAL		262144ULL
#define KAB_TEST_FLOOR		65536ULL
#define KAB_TEST_CEILING	196608ULL
#define KAB_TEST_WEIGHT		100

#define KAB_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- errors and time ---- */

/* "EINVAL" for 22, "success (5)" for a non-negative return value. */
const char *kab_ret_name(long ret, char *buf, size_t len);
/* Returns @ret, or -errno when @ret is negative (for raw syscalls). */
long kab_sys(long ret);
uint64_t kab_now_ns(void);
/*
 * CPU time of every kworker, in nanoseconds (the first field of
 * /proc/PID/schedstat, summed): what the module's work items cost.
 */
uint64_t kab_kworker_ns(void);
void kab_sleep_ms(unsigned int ms);

/* ---- the device and its VMs ---- */

/* NULL when /dev/kvm_autoballoon can be used, else why not (for SKIP). */
const char *kab_unavailable_reason(void);
int kab_dev_open(void);

/* A valid request with no fds: the caller fills target_fd at least. */
void kab_create_vm_defaults(struct kab_create_vm *req);
/* KAB_CREATE_VM: the new per-VM fd, or -errno. */
int kab_create_vm_raw(int dev_fd, const void *req);

/* Which eventfds kab_vm_create() makes besides the target eventfd. */
#define KAB_VM_PRESSURE_FDS	(1u << 0)

/**
 * struct kab_test_vm - one registered VM and the fds the test owns
 * @fd:		per-VM fd.
 * @target_efd:	target eventfd (nonblocking).
 * @pressure_efd: one eventfd per level, or -1.
 * @id:		the VM's id (its vms/<id> directory).
 * @req:	the request it was created with.
 */
struct kab_test_vm {
	int fd;
	int target_efd;
	int pressure_efd[KAB_NR_LEVELS];
	uint32_t id;
	struct kab_create_vm req;
};

/*
 * Create eventfds and register a VM. @req may be NULL for the defaults. The
 * target eventfd is always made here; the pressure eventfds too with
 * KAB_VM_PRESSURE_FDS, else @req's pressure_fd[] are used as given and
 * stay the caller's (vm->pressure_efd[] = -1). kvm_vm_fd and psi_fd are
 * taken from @req. Drains the target eventfd once the registration's own
 * signal arrived, so the test starts from a quiet fd. On failure, every fd
 * made here is closed and -errno returned.
 */
int kab_vm_create(int dev_fd, struct kab_test_vm *vm,
		  const struct kab_create_vm *req, unsigned int flags);
void kab_vm_destroy(struct kab_test_vm *vm);

int kab_get_target(int vm_fd, struct kab_target *t);
int kab_set_actual(int vm_fd, uint64_t pages);
int kab_get_stats(int vm_fd, struct kab_vm_stats *s);
/* KAB_GET_INFO with the full struct: 0 or -errno. */
int kab_get_info(int dev_fd, struct kab_info *info);
/* KAB_VM_SET_GUEST_STATS of @gs as given (size included): 0 or -errno. */
int kab_set_guest_stats(int vm_fd, const struct kab_guest_stats *gs);
/* A valid update of every figure but committed, for a KAB_TEST_TOTAL VM. */
void kab_guest_stats_defaults(struct kab_guest_stats *gs);

/*
 * Wait until the VM's target_seq differs from @old_seq; fills @t. Returns 0,
 * -ETIMEDOUT, or -errno of the ioctl.
 */
int kab_wait_seq_change(int vm_fd, uint64_t old_seq, int timeout_ms,
			struct kab_target *t);

/*
 * Wait for the target eventfd to fire with a target of seq >= @min_seq
 * readable after it: the order a VMM relies on. A signal after which the
 * old seq still reads was an earlier change's; it is consumed and the wait
 * goes on. Fills @t. Returns 0, -ETIMEDOUT, or -errno.
 */
int kab_wait_target_signal(const struct kab_test_vm *vm, uint64_t min_seq,
			   int timeout_ms, struct kab_target *t);

/* ---- eventfds ---- */

int kab_eventfd_new(void);				/* nonblocking */
int kab_eventfd_signal(int efd, uint64_t value);
/* 0 and the counter in @count once readable; -ETIMEDOUT; -errno. */
int kab_eventfd_wait(int efd, int timeout_ms, uint64_t *count);
/* Read without waiting: 0 and @count, or -EAGAIN when nothing pending. */
int kab_eventfd_drain(int efd, uint64_t *count);

/* ---- sysfs ---- */

/* Paths are relative to KAB_SYSFS_ROOT. */
int kab_sysfs_read(const char *rel, char *buf, size_t len);
int kab_sysfs_read_u64(const char *rel, uint64_t *val);
/* Writes @text in one write(2); returns 0 or the write's -errno. */
int kab_sysfs_write(const char *rel, const char *text);
bool kab_sysfs_exists(const char *rel);
int kab_vm_sysfs_read_u64(uint32_t id, const char *file, uint64_t *val);
int kab_vm_sysfs_read(uint32_t id, const char *file, char *buf, size_t len);
int kab_nr_vms(uint64_t *nr);

/* Writes "LEVEL" (vm_id 0) or "LEVEL VMID" to inject_host_pressure. */
int kab_inject(unsigned int level, uint32_t vm_id);

/* Wait until nr_vms reads @want: 0, -ETIMEDOUT or -errno. */
int kab_wait_nr_vms(uint64_t want, int timeout_ms);
/* Wait until vms/<id> is gone. */
int kab_wait_vm_gone(uint32_t id, int timeout_ms);

/*
 * Policy tunables. kab_policy_save() records every file of policy/;
 * kab_policy_zero_timers() writes 0 to each time-based one (name ending in
 * _ms, _us, _ns or _s), which by contract disables the behaviour, so that
 * steps are deterministic; kab_policy_restore() writes the saved values back.
 */
#define KAB_MAX_TUNABLES	64

struct kab_policy_snapshot {
	unsigned int nr;
	char name[KAB_MAX_TUNABLES][64];
	uint64_t value[KAB_MAX_TUNABLES];
};

int kab_policy_save(struct kab_policy_snapshot *snap);
/* On failure, names the tunable that refused in @failed. */
int kab_policy_zero_timers(const struct kab_policy_snapshot *snap,
			   char *failed, size_t len);
int kab_policy_restore(const struct kab_policy_snapshot *snap);

/* ---- the module itself ---- */

bool kab_module_loaded(void);
int kab_module_refcnt(uint64_t *refcnt);
/* delete_module(2) with O_NONBLOCK: 0 or -errno. */
int kab_module_unload(void);
/* finit_module(2) of @path with no parameters: 0 or -errno. */
int kab_module_load(const char *path);
/* The same with module parameters @params ("name=value ..."). */
int kab_module_load_params(const char *path, const char *params);

/* ---- privileges ---- */

#define KAB_NOBODY		65534
/* Exit status of a kab_run_unprivileged() child that kept privileges. */
#define KAB_CHILD_PRIVILEGED	250

/*
 * Run @fn(@arg) in a forked child that gave up root: no supplementary
 * groups, gid and uid @uid (every capability goes with uid 0). The child
 * keeps the parent's fds, so it can use a device only root may open.
 * Returns the child's exit status (what @fn returned, 0..255;
 * KAB_CHILD_PRIVILEGED when it could not drop root), or -errno.
 */
int kab_run_unprivileged(uid_t uid, int (*fn)(void *arg), void *arg);

/* ---- checks for test bodies (need the harness in scope) ---- */

/*
 * Expect @ret (a helper's 0/fd/-errno) to be -@err. A file descriptor that
 * came back by mistake is closed so that one failure does not leak into the
 * next check.
 */
#define KAB_EXPECT_ERR(err, ret, what) do {				\
	long __kr = (ret);						\
	char __kb1[64], __kb2[64];					\
	if (__kr != -(long)(err)) {					\
		TH_LOG("%s: expected %s, got %s", (what),		\
		       kab_ret_name(-(long)(err), __kb1, sizeof(__kb1)),\
		       kab_ret_name(__kr, __kb2, sizeof(__kb2)));	\
		_metadata->passed = 0;					\
	}								\
	if (__kr > 2)							\
		close((int)__kr);					\
} while (0)

/* Expect @ret to be a success (>= 0). */
#define KAB_EXPECT_OK(ret, what) do {					\
	long __kr = (ret);						\
	char __kb[64];							\
	if (__kr < 0) {							\
		TH_LOG("%s: expected success, got %s", (what),		\
		       kab_ret_name(__kr, __kb, sizeof(__kb)));		\
		_metadata->passed = 0;					\
	}								\
} while (0)

/* Like KAB_EXPECT_OK but ends the test. */
#define KAB_ASSERT_OK(ret, what) do {					\
	long __kr = (ret);						\
	char __kb[64];							\
	if (__kr < 0) {							\
		TH_LOG("%s: expected success, got %s", (what),		\
		       kab_ret_name(__kr, __kb, sizeof(__kb)));		\
		ASSERT_GE(0, 1);	/* ends the test */		\
	}								\
} while (0)

/*
 * In a FIXTURE_SETUP whose fixture has `struct kab_policy_snapshot policy`
 * and `bool policy_saved`: save policy/ (the teardown restores it when
 * policy_saved is set) and zero every time-based tunable, so that no timer
 * changes a target behind the test. Ends the test if a tunable refuses 0.
 */
#define KAB_SETUP_POLICY(self) do {					\
	char __kf[64] = "";						\
	KAB_ASSERT_OK(kab_policy_save(&(self)->policy), "read policy/*"); \
	(self)->policy_saved = true;					\
	if (kab_policy_zero_timers(&(self)->policy, __kf, sizeof(__kf)))	\
		TH_LOG("policy/%s refused 0", __kf);			\
	ASSERT_STREQ("", __kf);						\
} while (0)

/* Skip the test when the module is not there to test. */
#define KAB_REQUIRE_MODULE() do {					\
	const char *__why = kab_unavailable_reason();			\
	if (__why)							\
		SKIP(return, "%s: %s", _metadata->name, __why);		\
} while (0)

/*
 * The 6.1 harness runs a TEST_F body even when its FIXTURE_SETUP called
 * SKIP(); every TEST_F that uses a skipping setup starts with this.
 */
#define KAB_BAIL_IF_SKIPPED() do {					\
	if (_metadata->skip)						\
		return;							\
} while (0)

/*
 * main() for a test program: the 6.1 harness exits 0 when every test was
 * skipped; the project's convention (and kselftest's) is exit 4 then.
 */
#define KAB_TEST_MAIN							\
	static void __attribute__((constructor))			\
	__constructor_order_last(void)					\
	{								\
		if (!__constructor_order)				\
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	}								\
	static void kab_exit_skip_if_all_skipped(void)			\
	{								\
		if (ksft_cnt.ksft_xskip > 0 && !ksft_cnt.ksft_pass &&	\
		    !ksft_cnt.ksft_fail && !ksft_cnt.ksft_xfail &&	\
		    !ksft_cnt.ksft_xpass && !ksft_cnt.ksft_error) {	\
			fflush(stdout);					\
			fflush(stderr);					\
			_exit(KSFT_SKIP);				\
		}							\
	}								\
	int main(int argc, char **argv)					\
	{								\
		atexit(kab_exit_skip_if_all_skipped);			\
		return test_harness_run(argc, argv);			\
	}

#endif /* KAB_SELFTEST_LIB_H */
