/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal real KVM guest for the kvm_autoballoon selftests, built with
 * plain /dev/kvm ioctls: one memory slot, one vCPU in real mode running a
 * few bytes of 16-bit code that store EAX to the pressure doorbell (a le32,
 * like virtio-balloon's pressure_level) and halt.
 *
 * Guest physical layout:
 *   0x00000 - 0x0ffff  RAM (one slot); the code sits at KAB_GUEST_CODE
 *   KAB_DOORBELL_GPA   MMIO, no slot: only the ioeventfds answer there
 *
 * Without an in-kernel irqchip HLT exits to userspace, so every
 * kab_guest_ring() is one KVM_RUN that ends in KVM_EXIT_HLT when an
 * ioeventfd took the write, or in KVM_EXIT_MMIO when none matched.
 */
#ifndef KAB_SELFTEST_KVM_H
#define KAB_SELFTEST_KVM_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#define KAB_GUEST_MEM_SIZE	0x10000
#define KAB_GUEST_CODE		0x1000
#define KAB_DOORBELL_SEG	0x2000
#define KAB_DOORBELL_GPA	((uint64_t)KAB_DOORBELL_SEG << 4)

struct kab_guest {
	int kvm_fd;
	int vm_fd;
	int vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	void *mem;
};

/*
 * NULL when /dev/kvm can run a guest, else why not (for SKIP). Only
 * checks that the device opens and speaks API 12.
 */
const char *kab_kvm_unavailable_reason(void);

/* 0 or -errno; on failure @what names the step that failed. */
int kab_guest_create(struct kab_guest *g, const char **what);
void kab_guest_destroy(struct kab_guest *g);

/* KVM_IOEVENTFD: @efd fires when the guest writes the le32 @value. */
int kab_guest_bind_doorbell(struct kab_guest *g, uint32_t value, int efd);
int kab_guest_unbind_doorbell(struct kab_guest *g, uint32_t value, int efd);

/*
 * Run the guest once: it writes @value (32 bits) to the doorbell, then
 * halts. Returns 0 with the exit reason in @exit_reason, or -errno of a KVM
 * ioctl.
 */
int kab_guest_ring(struct kab_guest *g, uint32_t value, uint32_t *exit_reason);

/* Run the guest once at its HLT only (no doorbell write): entry cost. */
int kab_guest_halt(struct kab_guest *g, uint32_t *exit_reason);

#endif /* KAB_SELFTEST_KVM_H */
