// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal real KVM guest for the kvm_autoballoon selftests (see kvm.h).
 * Written against the KVM API only; no KVM selftest library.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm.h"

/*
 * The guest program, 16-bit real mode, DS = KAB_DOORBELL_SEG:
 *   mov [0x0000], eax	; 66 A3 00 00: a 32-bit store to the doorbell, as
 *			; a driver writes the le32 pressure_level field
 *   hlt		; F4
 */
static const uint8_t kab_guest_code[] = { 0x66, 0xa3, 0x00, 0x00, 0xf4 };
#define KAB_GUEST_HLT	(KAB_GUEST_CODE + 4)

/* A TSS for VMX real mode emulation; ignored by SVM. Below 4 GiB. */
#define KAB_TSS_ADDR	0xfffbd000ul

static long kab_ioctl(int fd, unsigned long req, void *arg)
{
	long ret = ioctl(fd, req, arg);

	return ret < 0 ? -errno : ret;
}

const char *kab_kvm_unavailable_reason(void)
{
	int fd, api;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? "/dev/kvm is absent" :
					 "/dev/kvm cannot be opened";
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (api != KVM_API_VERSION)
		return "/dev/kvm does not speak KVM API 12";
	return NULL;
}

void kab_guest_destroy(struct kab_guest *g)
{
	if (g->run && g->run != MAP_FAILED)
		munmap(g->run, g->run_size);
	if (g->mem && g->mem != MAP_FAILED)
		munmap(g->mem, KAB_GUEST_MEM_SIZE);
	if (g->vcpu_fd >= 0)
		close(g->vcpu_fd);
	if (g->vm_fd >= 0)
		close(g->vm_fd);
	if (g->kvm_fd >= 0)
		close(g->kvm_fd);
	memset(g, 0, sizeof(*g));
	g->kvm_fd = -1;
	g->vm_fd = -1;
	g->vcpu_fd = -1;
}

static int kab_guest_setup_vcpu(struct kab_guest *g, const char **what)
{
	struct kvm_sregs sregs;
	long ret;

	*what = "KVM_GET_SREGS";
	ret = kab_ioctl(g->vcpu_fd, KVM_GET_SREGS, &sregs);
	if (ret)
		return (int)ret;
	/* Real mode, flat code at 0, data segment on the doorbell. */
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = KAB_DOORBELL_GPA;
	sregs.ds.selector = KAB_DOORBELL_SEG;
	*what = "KVM_SET_SREGS";
	return (int)kab_ioctl(g->vcpu_fd, KVM_SET_SREGS, &sregs);
}

int kab_guest_create(struct kab_guest *g, const char **what)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = KAB_GUEST_MEM_SIZE,
	};
	long ret;

	memset(g, 0, sizeof(*g));
	g->kvm_fd = -1;
	g->vm_fd = -1;
	g->vcpu_fd = -1;

	*what = "open /dev/kvm";
	g->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (g->kvm_fd < 0) {
		ret = -errno;
		goto err;
	}
	*what = "KVM_CREATE_VM";
	ret = kab_ioctl(g->kvm_fd, KVM_CREATE_VM, 0);
	if (ret < 0)
		goto err;
	g->vm_fd = (int)ret;

	/* Needed by VMX for real mode; SVM accepts and ignores it. */
	ioctl(g->vm_fd, KVM_SET_TSS_ADDR, KAB_TSS_ADDR);

	*what = "mmap guest memory";
	g->mem = mmap(NULL, KAB_GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g->mem == MAP_FAILED) {
		ret = -errno;
		g->mem = NULL;
		goto err;
	}
	memcpy((uint8_t *)g->mem + KAB_GUEST_CODE, kab_guest_code,
	       sizeof(kab_guest_code));
	slot.userspace_addr = (uint64_t)(uintptr_t)g->mem;
	*what = "KVM_SET_USER_MEMORY_REGION";
	ret = kab_ioctl(g->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot);
	if (ret)
		goto err;

	*what = "KVM_CREATE_VCPU";
	ret = kab_ioctl(g->vm_fd, KVM_CREATE_VCPU, 0);
	if (ret < 0)
		goto err;
	g->vcpu_fd = (int)ret;

	*what = "KVM_GET_VCPU_MMAP_SIZE";
	ret = kab_ioctl(g->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret <= 0)
		goto err;
	g->run_size = (size_t)ret;
	*what = "mmap kvm_run";
	g->run = mmap(NULL, g->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->vcpu_fd, 0);
	if (g->run == MAP_FAILED) {
		ret = -errno;
		g->run = NULL;
		goto err;
	}

	ret = kab_guest_setup_vcpu(g, what);
	if (ret)
		goto err;
	*what = NULL;
	return 0;

err:
	kab_guest_destroy(g);
	return ret < 0 ? (int)ret : -EINVAL;
}

static int kab_guest_doorbell_ioctl(struct kab_guest *g, uint32_t value,
				    int efd, uint32_t extra_flags)
{
	struct kvm_ioeventfd io = {
		.datamatch = value,
		.addr = KAB_DOORBELL_GPA,
		.len = 4,
		.fd = efd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH | extra_flags,
	};

	return (int)kab_ioctl(g->vm_fd, KVM_IOEVENTFD, &io);
}

int kab_guest_bind_doorbell(struct kab_guest *g, uint32_t value, int efd)
{
	return kab_guest_doorbell_ioctl(g, value, efd, 0);
}

int kab_guest_unbind_doorbell(struct kab_guest *g, uint32_t value, int efd)
{
	return kab_guest_doorbell_ioctl(g, value, efd,
					KVM_IOEVENTFD_FLAG_DEASSIGN);
}

static int kab_guest_run_at(struct kab_guest *g, uint64_t rip, uint32_t eax,
			    uint32_t *exit_reason)
{
	struct kvm_regs regs;
	long ret;

	ret = kab_ioctl(g->vcpu_fd, KVM_GET_REGS, &regs);
	if (ret)
		return (int)ret;
	regs.rip = rip;
	regs.rax = eax;
	regs.rflags = 0x2;	/* bit 1 is always set */
	ret = kab_ioctl(g->vcpu_fd, KVM_SET_REGS, &regs);
	if (ret)
		return (int)ret;
	do {
		ret = kab_ioctl(g->vcpu_fd, KVM_RUN, NULL);
	} while (ret == -EINTR);
	if (ret)
		return (int)ret;
	*exit_reason = g->run->exit_reason;
	return 0;
}

int kab_guest_ring(struct kab_guest *g, uint32_t value, uint32_t *exit_reason)
{
	return kab_guest_run_at(g, KAB_GUEST_CODE, value, exit_reason);
}

int kab_guest_halt(struct kab_guest *g, uint32_t *exit_reason)
{
	return kab_guest_run_at(g, KAB_GUEST_HLT, 0, exit_reason);
}
