/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kvm_autoballoon: automatic virtio-balloon targets decided by the host kernel.
 *
 * The module exposes a misc device, /dev/kvm_autoballoon. A VMM (QEMU) opens
 * it, registers one VM with KAB_CREATE_VM and gets back a per-VM file
 * descriptor. The module then decides the VM's balloon target by itself and
 * signals the VM's target eventfd whenever the target changes; the VMM reads
 * the new target with KAB_VM_GET_TARGET, applies it to the balloon device and
 * reports the balloon's actual size with KAB_VM_SET_ACTUAL. Closing the per-VM
 * fd unregisters the VM.
 *
 * Sizes are counted in 4 KiB pages (KAB_PAGE_SIZE), the unit of the virtio
 * balloon's num_pages and actual fields, whatever the host page size.
 * "Target" is the balloon size: the number of pages the guest should give
 * up. A larger target means less memory for the guest.
 *
 * Every ioctl argument starts with a __u32 size, the number of bytes of the
 * structure the caller knows about, so that structures can grow at their end
 * (as clone3() and openat2() do). The ioctl numbers do not encode that size
 * (they are _IO(KABIO, nr), as iommufd's): a caller built against a newer
 * header uses the same number with a larger size, and an older kernel
 * accepts it when the bytes it does not know are zero. KAB_GET_INFO tells
 * which ioctls, which structure sizes and which optional fields this kernel
 * knows. Reserved fields and flags must be zero. See
 * Documentation/virt/kvm/autoballoon.rst for the full contract.
 */
#ifndef _UAPI_LINUX_KVM_AUTOBALLOON_H
#define _UAPI_LINUX_KVM_AUTOBALLOON_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * 2: ioctl numbers without the argument size (version 1's _IOW/_IOWR numbers
 * are gone), KAB_GET_INFO, KAB_VM_SET_GUEST_STATS.
 */
#define KAB_API_VERSION		2
#define KAB_PAGE_SIZE		4096

/* Guest or host memory pressure levels, as carried by eventfds and sysfs. */
#define KAB_LEVEL_NONE		0
#define KAB_LEVEL_LOW		1
#define KAB_LEVEL_MEDIUM	2
#define KAB_LEVEL_CRITICAL	3
#define KAB_NR_LEVELS		3	/* low, medium, critical */

/* No fd for an optional fd field. */
#define KAB_NO_FD		(-1)

/* Upper bound on any page count: 2^40 pages of 4 KiB is 4 PiB. */
#define KAB_MAX_PAGES		(1ULL << 40)
#define KAB_MAX_WEIGHT		10000
/* Weights above this need CAP_SYS_ADMIN. */
#define KAB_DEFAULT_WEIGHT	100

/**
 * struct kab_create_vm - argument of KAB_CREATE_VM
 * @size:	sizeof(struct kab_create_vm) as the caller knows it; at least
 *		KAB_CREATE_VM_SIZE_VER0. Larger sizes are accepted when the
 *		bytes unknown to the kernel are zero (else E2BIG).
 * @flags:	must be 0.
 * @total_pages:	guest RAM size in 4 KiB pages, 1..KAB_MAX_PAGES.
 * @floor_pages:	pages the guest always keeps: the target never exceeds
 *		@total_pages - @floor_pages. 1..@ceiling_pages.
 * @ceiling_pages:	most pages the guest may have: the target is never below
 *		@total_pages - @ceiling_pages. @floor_pages..@total_pages.
 *		The initial target is @total_pages - @ceiling_pages.
 * @weight:	share of host-wide inflation this VM takes relative to other
 *		VMs, 1..KAB_MAX_WEIGHT; above KAB_DEFAULT_WEIGHT only with
 *		CAP_SYS_ADMIN.
 * @target_fd:	eventfd the module signals when the target changes. Required.
 * @pressure_fd:	one eventfd per guest pressure level (low, medium,
 *		critical), each KAB_NO_FD or an eventfd. QEMU binds each to a
 *		KVM ioeventfd with datamatch on the balloon's pressure doorbell.
 * @kvm_vm_fd:	a KVM VM fd (from KVM_CREATE_VM); the module holds a
 *		reference to it for the life of the registration. Without
 *		CAP_SYS_ADMIN it is required, and @total_pages must not
 *		exceed the memory of its slots; KAB_NO_FD only with
 *		CAP_SYS_ADMIN (a VMM without KVM, e.g. under TCG).
 * @psi_fd:	KAB_NO_FD or a PSI trigger fd: memory.pressure of the VM's
 *		cgroup (or /proc/pressure/memory) opened and with a trigger
 *		written by the caller, e.g. "some 150000 1000000". Each event
 *		of the trigger is host pressure on this VM, at the level in
 *		sysfs sources/psi/level. The module holds the file until the
 *		VM is unregistered; if the cgroup is removed meanwhile, the
 *		trigger is dropped (sysfs vms/<id>/psi_trigger: unbound) and
 *		the VM stays registered. EBADF: not an open fd; EINVAL: not a
 *		memory pressure file, no trigger written, or its cgroup was
 *		removed; EEXIST: the trigger is bound already (each event
 *		goes to one binding, so give each its own trigger).
 * @reserved:	must be zero.
 *
 * Return: a new per-VM file descriptor (O_CLOEXEC) on success, else -1 with
 * errno: EFAULT bad pointer; EINVAL size too small, nonzero flags/reserved,
 * page counts or weight out of their ranges, floor > ceiling; E2BIG unknown
 * trailing bytes not zero or size > one page; ERANGE ceiling > total or a
 * count above KAB_MAX_PAGES; EBADF an fd that is not open; EINVAL an fd that
 * is not of the expected kind (not an eventfd, not a KVM VM, not a PSI
 * trigger); EEXIST the same eventfd given twice, the KVM VM already
 * registered or the PSI trigger already bound; ENOSPC too many VMs (see
 * sysfs max_vms); ENOMEM. Without CAP_SYS_ADMIN also: EPERM no @kvm_vm_fd,
 * or @weight above KAB_DEFAULT_WEIGHT; ERANGE @total_pages above the KVM
 * VM's memory; EDQUOT the caller's user has max_vms_per_user VMs
 * registered (see sysfs).
 */
struct kab_create_vm {
	__u32 size;
	__u32 flags;
	__u64 total_pages;
	__u64 floor_pages;
	__u64 ceiling_pages;
	__u32 weight;
	__s32 target_fd;
	__s32 pressure_fd[KAB_NR_LEVELS];
	__s32 kvm_vm_fd;
	__s32 psi_fd;
	__u32 reserved32;
	__u64 reserved[4];
};

#define KAB_CREATE_VM_SIZE_VER0	96

/* Why the target last changed; sysfs prints these as words. */
enum kab_reason {
	KAB_REASON_NONE = 0,		/* no decision yet */
	KAB_REASON_INITIAL,		/* registration: total - ceiling */
	KAB_REASON_HOST_PRESSURE,	/* inflate: host under pressure */
	KAB_REASON_GUEST_PRESSURE,	/* deflate: guest under pressure */
	KAB_REASON_CLAMP,		/* limits changed, target clamped */
	KAB_REASON_STALL,		/* guest did not follow, backed off */
	KAB_REASON_RELAX,		/* deflate: host pressure gone */
	KAB_REASON_RESTORE,		/* KAB_VM_RESTORE: state brought in */
	KAB_REASON_HEADROOM,		/* inflate: host short of headroom */
	KAB_NR_REASONS,
};

/**
 * struct kab_target - argument of KAB_VM_GET_TARGET
 * @size:	in: sizeof(struct kab_target) as the caller knows it (at least
 *		KAB_TARGET_SIZE_VER0); out: bytes the kernel filled.
 * @reason:	out: enum kab_reason of the last change.
 * @target_pages:	out: balloon target in 4 KiB pages.
 * @seq:	out: incremented on every target change, starting at 1 for the
 *		initial target; a VMM applies a target only if @seq is newer
 *		than the last one it applied.
 */
struct kab_target {
	__u32 size;
	__u32 reason;
	__u64 target_pages;
	__u64 seq;
};

#define KAB_TARGET_SIZE_VER0	24

/**
 * struct kab_actual - argument of KAB_VM_SET_ACTUAL
 * @size:	sizeof(struct kab_actual), at least KAB_ACTUAL_SIZE_VER0.
 * @flags:	must be 0.
 * @actual_pages:	balloon size the guest reports, 0..total_pages (ERANGE
 *		otherwise).
 */
struct kab_actual {
	__u32 size;
	__u32 flags;
	__u64 actual_pages;
};

#define KAB_ACTUAL_SIZE_VER0	16

/* KAB_VM_RESTORE flags */
#define KAB_RESTORE_RESET	(1U << 0)	/* the guest was reset */
#define KAB_RESTORE_FLAGS	KAB_RESTORE_RESET

/**
 * struct kab_restore - argument of KAB_VM_RESTORE
 * @size:	sizeof(struct kab_restore), at least KAB_RESTORE_SIZE_VER0.
 * @flags:	0 or KAB_RESTORE_RESET (EINVAL for any other bit).
 * @target_pages:	without KAB_RESTORE_RESET: the balloon target the guest
 *		arrives with (an incoming migration, loadvm), which becomes
 *		the VM's target (reason KAB_REASON_RESTORE, a new seq, the
 *		target eventfd signalled) when it differs from the current
 *		one; within the VM's limits, total - ceiling..total - floor
 *		(ERANGE otherwise). With KAB_RESTORE_RESET: must be 0 (EINVAL),
 *		the target stays as it is.
 * @actual_pages:	without KAB_RESTORE_RESET: the balloon's size the guest
 *		arrives with, 0..total_pages (ERANGE otherwise). With
 *		KAB_RESTORE_RESET: must be 0 (EINVAL): a reset guest owns all
 *		its memory again.
 * @reserved:	must be zero (EINVAL).
 *
 * Either way the module forgets what it learned of the guest (its figures,
 * need, pressure history, stall backoff, hint rate limit) as if it had just
 * registered; the limits, weight and counters stay. A reset (reboot, kexec,
 * the driver resetting the device) leaves the target as it was: the VMM
 * applies it again once the guest's driver is back.
 */
struct kab_restore {
	__u32 size;
	__u32 flags;
	__u64 target_pages;
	__u64 actual_pages;
	__u64 reserved[2];
};

#define KAB_RESTORE_SIZE_VER0	40

/**
 * struct kab_vm_stats - argument of KAB_VM_GET_STATS
 * @size:	in: bytes the caller can take (at least KAB_VM_STATS_SIZE_VER0);
 *		out: bytes the kernel filled.
 * @vm_id:	out: the VM's id, its directory under
 *		/sys/kernel/kvm_autoballoon/vms/.
 * All other fields are out, counters since registration.
 */
struct kab_vm_stats {
	__u32 size;
	__u32 vm_id;
	__u64 total_pages;
	__u64 floor_pages;
	__u64 ceiling_pages;
	__u64 target_pages;
	__u64 actual_pages;
	__u64 target_seq;
	__u64 guest_events[KAB_NR_LEVELS];
	__u64 guest_events_dropped;
	__u64 host_events[KAB_NR_LEVELS];
	__u64 inflations;
	__u64 deflations;
	__u64 stalls;
	__u32 weight;
	__u32 last_reason;
};

#define KAB_VM_STATS_SIZE_VER0	144

/**
 * struct kab_host_psi - argument of KAB_BIND_HOST_PSI
 * @size:	sizeof(struct kab_host_psi) as the caller knows it; at least
 *		KAB_HOST_PSI_SIZE_VER0 (larger: unknown bytes must be zero,
 *		else E2BIG).
 * @flags:	must be 0.
 * @psi_fd:	a PSI trigger fd created by the caller on
 *		/proc/pressure/memory (or on a cgroup's memory.pressure).
 *		Each event of the trigger is host pressure on every VM.
 * @level:	level of its events, KAB_LEVEL_LOW..KAB_LEVEL_CRITICAL, or 0
 *		for the level in sysfs sources/psi/level (default medium).
 * @reserved:	must be zero.
 *
 * Root only (CAP_SYS_ADMIN). Return: a new file descriptor (O_CLOEXEC)
 * that owns the binding: closing it stops listening to the trigger. The
 * module holds the trigger file until then. Errors: EPERM not privileged;
 * EFAULT; EINVAL size too small, nonzero flags/reserved, level > 3; E2BIG;
 * EBADF @psi_fd not open; EINVAL not a memory pressure file, no trigger
 * written, or its cgroup was removed; EEXIST the trigger is bound already;
 * ENOSPC 16 bindings already open;
 * ENOMEM.
 */
struct kab_host_psi {
	__u32 size;
	__u32 flags;
	__s32 psi_fd;
	__u32 level;
	__u64 reserved[2];
};

#define KAB_HOST_PSI_SIZE_VER0	32

/* Bits of kab_guest_stats.valid: which figures the update carries. */
#define KAB_GUEST_STAT_AVAILABLE	(1ULL << 0)
#define KAB_GUEST_STAT_FREE		(1ULL << 1)
#define KAB_GUEST_STAT_CACHE		(1ULL << 2)
#define KAB_GUEST_STAT_TOTAL		(1ULL << 3)
#define KAB_GUEST_STAT_COMMITTED	(1ULL << 4)
#define KAB_GUEST_STAT_ALL		((1ULL << 5) - 1)

/**
 * struct kab_guest_stats - argument of KAB_VM_SET_GUEST_STATS
 * @size:	sizeof(struct kab_guest_stats) as the caller knows it; at least
 *		KAB_GUEST_STATS_SIZE_VER0 (larger: unknown bytes must be zero,
 *		else E2BIG).
 * @flags:	must be 0.
 * @valid:	KAB_GUEST_STAT_* bits of the figures this update carries; at
 *		least one. A figure whose bit is clear must be 0 and is "not
 *		reported" until an update carries it again: each update
 *		replaces all figures.
 * @available_pages:	memory the guest could use for new allocations
 *		without swapping (virtio-balloon VIRTIO_BALLOON_S_AVAIL, Linux
 *		MemAvailable), in 4 KiB pages.
 * @free_pages:	memory the guest leaves unused (VIRTIO_BALLOON_S_MEMFREE,
 *		MemFree), 4 KiB pages.
 * @cache_pages:	memory the guest could free at once (VIRTIO_BALLOON_S_CACHES,
 *		page cache), 4 KiB pages.
 * @total_pages:	memory the guest sees (VIRTIO_BALLOON_S_MEMTOT, MemTotal),
 *		4 KiB pages; at most the VM's registered total_pages.
 * @committed_pages:	memory the guest has promised to its processes
 *		(Linux Committed_AS), 4 KiB pages. Only from drivers that report
 *		it (not a standard virtio stat); may exceed @total_pages when
 *		the guest overcommits.
 * @reserved:	must be zero.
 *
 * A VMM hands every statistics update of the guest's balloon to the module,
 * converted from bytes to 4 KiB pages (rounded down). The figures are hints
 * from the guest: the module checks that they are consistent and within
 * the VM's size, keeps the latest ones and their age, and never takes them
 * for a target. Return: 0, else -1 with errno: EFAULT; EINVAL size too
 * small, nonzero flags or reserved, @valid zero or with unknown bits, a
 * figure not in @valid that is not 0;
 * E2BIG; ERANGE a figure above the VM's registered total_pages
 * (@committed_pages: above KAB_MAX_PAGES), or @available_pages,
 * @free_pages or @cache_pages above @total_pages when @total_pages is
 * given. A refused update changes nothing.
 *
 * sysfs, /sys/kernel/kvm_autoballoon/vms/<id>/, read only:
 *   guest_available_pages, guest_free_pages, guest_cache_pages,
 *   guest_total_pages, guest_committed_pages
 *		the figures of the last accepted update, 4 KiB pages
 *		(0..total_pages; committed 0..KAB_MAX_PAGES), or "unknown"
 *		when it did not carry the figure or no update came yet;
 *   guest_stats_age_ms	milliseconds since that update, or "never";
 *   guest_stats_updates	updates accepted since registration.
 */
struct kab_guest_stats {
	__u32 size;
	__u32 flags;
	__u64 valid;
	__u64 available_pages;
	__u64 free_pages;
	__u64 cache_pages;
	__u64 total_pages;
	__u64 committed_pages;
	__u64 reserved[3];
};

#define KAB_GUEST_STATS_SIZE_VER0	80

/* Number of ioctl numbers (nr of _IO(KABIO, nr)) kab_info describes. */
#define KAB_INFO_NR_IOCTLS	64

/**
 * struct kab_info - argument of KAB_GET_INFO
 * @size:	in: bytes the caller can take (at least KAB_INFO_SIZE_VER0);
 *		out: bytes the kernel filled.
 * @api_version:	out: KAB_API_VERSION of the kernel.
 * @ioctls:	out: bit nr is set when the kernel knows the ioctl
 *		_IO(KABIO, nr) (on the device or on a per-VM fd).
 * @guest_stats_valid:	out: the KAB_GUEST_STAT_* bits KAB_VM_SET_GUEST_STATS
 *		accepts.
 * @arg_size:	out: arg_size[nr] is the size of the argument of ioctl nr as
 *		this kernel knows it, the largest size with no unknown bytes:
 *		every field below it is understood. 0 for an ioctl without an
 *		argument structure or one the kernel does not know.
 *
 * All fields are out; the kernel ignores what the caller put there. A
 * caller learns from @arg_size whether a field added to a structure after
 * its first version is known (its offset is below @arg_size), instead of
 * trying and reading E2BIG. Errors: EFAULT; EINVAL @size too small.
 */
struct kab_info {
	__u32 size;
	__u32 api_version;
	__u64 ioctls;
	__u64 guest_stats_valid;
	__u32 arg_size[KAB_INFO_NR_IOCTLS];
};

#define KAB_INFO_SIZE_VER0	280

#define KABIO	0xBA

/*
 * ioctl numbers, _IO(KABIO, nr): the direction and size bits are zero, the
 * size lives in the argument. The nr is what KAB_GET_INFO reports.
 */
#define KAB_NR_GET_API_VERSION		0x00
#define KAB_NR_CREATE_VM		0x01
#define KAB_NR_BIND_HOST_PSI		0x02
#define KAB_NR_GET_INFO			0x03
#define KAB_NR_VM_GET_TARGET		0x10
#define KAB_NR_VM_SET_ACTUAL		0x11
#define KAB_NR_VM_GET_STATS		0x12
#define KAB_NR_VM_SET_GUEST_STATS	0x13
#define KAB_NR_VM_RESTORE		0x14

/* On /dev/kvm_autoballoon. */
#define KAB_GET_API_VERSION	_IO(KABIO, KAB_NR_GET_API_VERSION)
#define KAB_CREATE_VM		_IO(KABIO, KAB_NR_CREATE_VM)
#define KAB_BIND_HOST_PSI	_IO(KABIO, KAB_NR_BIND_HOST_PSI)
#define KAB_GET_INFO		_IO(KABIO, KAB_NR_GET_INFO)

/* On a per-VM fd. */
#define KAB_VM_GET_TARGET	_IO(KABIO, KAB_NR_VM_GET_TARGET)
#define KAB_VM_SET_ACTUAL	_IO(KABIO, KAB_NR_VM_SET_ACTUAL)
#define KAB_VM_GET_STATS	_IO(KABIO, KAB_NR_VM_GET_STATS)
#define KAB_VM_SET_GUEST_STATS	_IO(KABIO, KAB_NR_VM_SET_GUEST_STATS)
#define KAB_VM_RESTORE		_IO(KABIO, KAB_NR_VM_RESTORE)

#endif /* _UAPI_LINUX_KVM_AUTOBALLOON_H */
