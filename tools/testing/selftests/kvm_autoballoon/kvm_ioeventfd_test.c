// SPDX-License-Identifier: GPL-2.0
/*
 * The guest -> KVM ioeventfd -> module path, without QEMU.
 *
 * A real KVM VM (plain /dev/kvm ioctls, see kvm.c) gets one KVM_IOEVENTFD
 * per pressure level on an MMIO doorbell, with datamatch on the level. The
 * same eventfds go to the module as pressure_fd[], the VM fd as kvm_vm_fd.
 * The guest then writes a level to the doorbell and halts; the write never
 * leaves the kernel, and the module must have reacted: the guest event
 * counted at that level, the target lowered, the target eventfd fired.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"
#include "kvm.h"

FIXTURE(kvm) {
	int dev;
	uint64_t nr_vms;
	struct kab_policy_snapshot policy;
	bool policy_saved;
	struct kab_guest guest;
	bool have_guest;
	int efd[KAB_NR_LEVELS];		/* bound to the doorbell */
};

FIXTURE_SETUP(kvm)
{
	const char *why, *what;
	unsigned int i;
	int ret;

	self->dev = -1;
	for (i = 0; i < KAB_NR_LEVELS; i++)
		self->efd[i] = -1;
	KAB_REQUIRE_MODULE();
	why = kab_kvm_unavailable_reason();
	if (why)
		SKIP(return, "%s: %s", _metadata->name, why);

	self->dev = kab_dev_open();
	KAB_ASSERT_OK(self->dev, "open " KAB_DEV_PATH);
	KAB_ASSERT_OK(kab_nr_vms(&self->nr_vms), "read nr_vms");
	KAB_SETUP_POLICY(self);

	ret = kab_guest_create(&self->guest, &what);
	if (ret)
		TH_LOG("creating the KVM guest: %s failed", what);
	KAB_ASSERT_OK(ret, "create a KVM guest");
	self->have_guest = true;
	for (i = 0; i < KAB_NR_LEVELS; i++) {
		self->efd[i] = kab_eventfd_new();
		ASSERT_LE(0, self->efd[i]);
		KAB_ASSERT_OK(kab_guest_bind_doorbell(&self->guest, i + 1,
						      self->efd[i]),
			      "KVM_IOEVENTFD with datamatch");
	}
}

FIXTURE_TEARDOWN(kvm)
{
	unsigned int i;

	if (self->have_guest)
		kab_guest_destroy(&self->guest);
	for (i = 0; i < KAB_NR_LEVELS; i++)
		if (self->efd[i] >= 0)
			close(self->efd[i]);
	if (self->dev >= 0)
		EXPECT_EQ(0, kab_wait_nr_vms(self->nr_vms, KAB_WAIT_MS));
	if (self->policy_saved)
		EXPECT_EQ(0, kab_policy_restore(&self->policy));
	if (self->dev >= 0)
		close(self->dev);
}

/* Register the guest with the module: its VM fd and its doorbell eventfds. */
static int register_guest(FIXTURE_DATA(kvm) *self, struct kab_test_vm *vm)
{
	struct kab_create_vm req;
	unsigned int i;

	kab_create_vm_defaults(&req);
	req.kvm_vm_fd = self->guest.vm_fd;
	for (i = 0; i < KAB_NR_LEVELS; i++)
		req.pressure_fd[i] = self->efd[i];
	return kab_vm_create(self->dev, vm, &req, 0);
}

static int raise_target(struct kab_test_vm *vm, struct kab_target *t)
{
	int ret;

	ret = kab_get_target(vm->fd, t);
	if (ret)
		return ret;
	/* The balloon is at its target: the VMM says so, as QEMU does. */
	ret = kab_set_actual(vm->fd, t->target_pages);
	if (ret)
		return ret;
	ret = kab_inject(KAB_LEVEL_CRITICAL, vm->id);
	if (ret)
		return ret;
	return kab_wait_target_signal(vm, t->seq + 1, KAB_WAIT_MS, t);
}

static int wait_guest_events(int vm_fd, unsigned int level, uint64_t want,
			     struct kab_vm_stats *s)
{
	uint64_t deadline = kab_now_ns() + KAB_WAIT_MS * 1000000ull;
	int ret;

	for (;;) {
		ret = kab_get_stats(vm_fd, s);
		if (ret)
			return ret;
		if (s->guest_events[level - 1] >= want)
			return 0;
		if (kab_now_ns() > deadline)
			return -ETIMEDOUT;
		kab_sleep_ms(2);
	}
}

TEST_F_TIMEOUT(kvm, doorbell_reaches_module, 300)
{
	struct kab_test_vm vm;
	struct kab_vm_stats s;
	struct kab_target before, t;
	uint32_t exit_reason;
	unsigned int level, i, ring;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(register_guest(self, &vm),
		      "register the KVM VM and its doorbell eventfds");

	for (level = KAB_LEVEL_LOW; level <= KAB_LEVEL_CRITICAL; level++) {
		for (ring = 1; ring <= 3; ring++) {
			KAB_ASSERT_OK(raise_target(&vm, &before),
				      "raise the target with host pressure");

			KAB_ASSERT_OK(kab_guest_ring(&self->guest, level,
						     &exit_reason), "KVM_RUN");
			if (exit_reason == KVM_EXIT_MMIO)
				TH_LOG("the doorbell write of %u reached userspace: no ioeventfd took it (gpa 0x%llx)",
				       level, (unsigned long long)
				       self->guest.run->mmio.phys_addr);
			ASSERT_EQ(KVM_EXIT_HLT, exit_reason);

			KAB_ASSERT_OK(kab_wait_target_signal(&vm, before.seq + 1,
							     KAB_WAIT_MS, &t),
				      "target eventfd after the guest's doorbell write");
			EXPECT_GT(before.target_pages, t.target_pages)
				TH_LOG("level %u did not lower the target", level);
			EXPECT_EQ(KAB_REASON_GUEST_PRESSURE, t.reason);
			KAB_ASSERT_OK(wait_guest_events(vm.fd, level, ring, &s),
				      "guest event counted");
			for (i = 0; i < KAB_NR_LEVELS; i++)
				EXPECT_EQ(i + 1 < level ? 3 :
					  i + 1 == level ? ring : 0,
					  s.guest_events[i])
					TH_LOG("guest_events[%u] after %u rings of level %u",
					       i, ring, level);
		}
	}
	ASSERT_EQ(0, kab_get_stats(vm.fd, &s));
	EXPECT_EQ(9, s.deflations);
	kab_vm_destroy(&vm);
}

/*
 * A value no ioeventfd matches exits to userspace; the module sees nothing.
 * (Also proves the datamatch: 4 differs from 1..3 only in its low byte.)
 */
TEST_F(kvm, stray_value_ignored)
{
	struct kab_test_vm vm;
	struct kab_vm_stats s;
	uint32_t exit_reason;
	unsigned int i;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(register_guest(self, &vm), "register");
	KAB_ASSERT_OK(kab_guest_ring(&self->guest, 4, &exit_reason), "KVM_RUN");
	ASSERT_EQ(KVM_EXIT_MMIO, exit_reason);
	EXPECT_EQ(KAB_DOORBELL_GPA, self->guest.run->mmio.phys_addr);
	EXPECT_EQ(1, self->guest.run->mmio.is_write);
	EXPECT_EQ(4, self->guest.run->mmio.len);
	EXPECT_EQ(4, self->guest.run->mmio.data[0]);
	EXPECT_EQ(0, self->guest.run->mmio.data[1]);
	kab_sleep_ms(200);
	ASSERT_EQ(0, kab_get_stats(vm.fd, &s));
	for (i = 0; i < KAB_NR_LEVELS; i++)
		EXPECT_EQ(0, s.guest_events[i]);
	EXPECT_EQ(1, s.target_seq);
	kab_vm_destroy(&vm);
}

/* kvm_vm_fd must be a KVM VM, once; other KVM fds are refused. */
TEST_F(kvm, kvm_vm_fd_checks)
{
	struct kab_create_vm req;
	int efd, a, b, dupfd;

	KAB_BAIL_IF_SKIPPED();
	efd = kab_eventfd_new();
	ASSERT_LE(0, efd);
	kab_create_vm_defaults(&req);
	req.target_fd = efd;

	req.kvm_vm_fd = self->guest.kvm_fd;
	KAB_EXPECT_ERR(EINVAL, kab_create_vm_raw(self->dev, &req),
		       "kvm_vm_fd = /dev/kvm");
	req.kvm_vm_fd = self->guest.vcpu_fd;
	KAB_EXPECT_ERR(EINVAL, kab_create_vm_raw(self->dev, &req),
		       "kvm_vm_fd = a KVM vCPU fd");

	req.kvm_vm_fd = self->guest.vm_fd;
	a = kab_create_vm_raw(self->dev, &req);
	KAB_ASSERT_OK(a, "kvm_vm_fd = a KVM VM fd");
	KAB_EXPECT_ERR(EEXIST, kab_create_vm_raw(self->dev, &req),
		       "the same KVM VM registered twice");
	dupfd = dup(self->guest.vm_fd);
	ASSERT_LE(0, dupfd);
	req.kvm_vm_fd = dupfd;
	KAB_EXPECT_ERR(EEXIST, kab_create_vm_raw(self->dev, &req),
		       "the same KVM VM through another fd");
	close(dupfd);

	/* Once the first registration is gone, the VM is free again. */
	close(a);
	req.kvm_vm_fd = self->guest.vm_fd;
	b = kab_create_vm_raw(self->dev, &req);
	KAB_EXPECT_OK(b, "the KVM VM after its registration closed");
	if (b >= 0)
		close(b);
	close(efd);
}

/*
 * The module holds a reference to the KVM VM for the registration's life:
 * with every fd of ours closed, KVM's debugfs directory of the VM
 * (<pid>-<fd>) must stay, and go once the registration is closed.
 */
static bool debugfs_ready(void)
{
	if (!access("/sys/kernel/debug/kvm", F_OK))
		return true;
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	return !access("/sys/kernel/debug/kvm", F_OK);
}

static bool path_exists(const char *p)
{
	return !access(p, F_OK);
}

TEST_F(kvm, holds_vm_reference)
{
	char dir[128];
	struct kab_create_vm req;
	uint64_t deadline;
	int efd, fd;

	KAB_BAIL_IF_SKIPPED();
	if (!debugfs_ready())
		SKIP(return, "holds_vm_reference: no /sys/kernel/debug/kvm");
	snprintf(dir, sizeof(dir), "/sys/kernel/debug/kvm/%d-%d", getpid(),
		 self->guest.vm_fd);
	if (!path_exists(dir))
		SKIP(return, "holds_vm_reference: KVM made no %s", dir);

	efd = kab_eventfd_new();
	ASSERT_LE(0, efd);
	kab_create_vm_defaults(&req);
	req.target_fd = efd;
	req.kvm_vm_fd = self->guest.vm_fd;
	fd = kab_create_vm_raw(self->dev, &req);
	KAB_ASSERT_OK(fd, "register with kvm_vm_fd");

	/* Drop every reference of ours: vCPU, VM, /dev/kvm, memory. */
	kab_guest_destroy(&self->guest);
	self->have_guest = false;
	kab_sleep_ms(200);
	EXPECT_TRUE(path_exists(dir))
		TH_LOG("the KVM VM died while registered: the module holds no reference");

	close(fd);
	deadline = kab_now_ns() + KAB_WAIT_MS * 1000000ull;
	while (path_exists(dir) && kab_now_ns() < deadline)
		kab_sleep_ms(10);
	EXPECT_FALSE(path_exists(dir))
		TH_LOG("the KVM VM outlived its registration: reference leaked");
	close(efd);
}

KAB_TEST_MAIN
