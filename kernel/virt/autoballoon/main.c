// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_autoballoon: the host decides the balloon target of every KVM guest.
 *
 * This file wires module init and exit, and holds the /dev/kvm_autoballoon
 * misc device and the workqueue. vm.c holds the VMs (their list, limits
 * and locks, the policy's tunables, the tick), sysfs.c the sysfs tree,
 * policy.c the decisions, source*.c the host pressure sources and the entry
 * point through which their events reach the policy.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kab.h"

#define CREATE_TRACE_POINTS
#include "kab_trace.h"

/*
 * Every work item of the module runs here. The host pressure response is
 * one of them: it must make progress when reclaim needs it, so the queue
 * has a rescuer (WQ_MEM_RECLAIM).
 */
static struct workqueue_struct *kab_wq;

bool kab_queue_work(struct work_struct *work)
{
	return queue_work(kab_wq, work);
}

/* Does nothing when @dwork is pending already, whatever its delay. */
bool kab_queue_delayed_work(struct delayed_work *dwork, unsigned long delay)
{
	return queue_delayed_work(kab_wq, dwork, delay);
}

static const char * const kab_reason_names[KAB_NR_REASONS] = {
	[KAB_REASON_NONE]		= "none",
	[KAB_REASON_INITIAL]		= "initial",
	[KAB_REASON_HOST_PRESSURE]	= "host_pressure",
	[KAB_REASON_GUEST_PRESSURE]	= "guest_pressure",
	[KAB_REASON_CLAMP]		= "clamp",
	[KAB_REASON_STALL]		= "stall",
	[KAB_REASON_RELAX]		= "relax",
	[KAB_REASON_RESTORE]		= "restore",
	[KAB_REASON_HEADROOM]		= "headroom",
};

const char *kab_reason_name(u32 reason)
{
	if (reason >= KAB_NR_REASONS || !kab_reason_names[reason])
		return "unknown";
	return kab_reason_names[reason];
}

/**
 * kab_copy_sized_arg - copy in an ioctl argument that starts with its size
 * @dst:	kernel copy of the structure.
 * @ksize:	sizeof(*@dst).
 * @uarg:	user pointer; its first __u32 is the size the caller knows.
 * @min_size:	size of the structure's first version.
 *
 * Bytes the kernel does not know must be zero, so a newer caller's
 * structure is accepted as long as it asks nothing new.
 *
 * Return: 0, -EFAULT, -EINVAL (smaller than @min_size), -E2BIG (larger than
 * a page, or unknown bytes not zero).
 */
int kab_copy_sized_arg(void *dst, size_t ksize, const void __user *uarg,
		       u32 min_size)
{
	u32 usize;

	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize < min_size)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(dst, ksize, uarg, usize);
}

/*
 * What KAB_GET_INFO reports: every ioctl this module dispatches, with the
 * size of its argument as this module knows it. The numbers carry no size
 * (_IO(KABIO, nr)), so the table is indexed by nr alone.
 */
static const u32 kab_ioctl_arg_size[KAB_INFO_NR_IOCTLS] = {
	[KAB_NR_GET_API_VERSION]	= 0,
	[KAB_NR_CREATE_VM]		= sizeof(struct kab_create_vm),
	[KAB_NR_BIND_HOST_PSI]		= sizeof(struct kab_host_psi),
	[KAB_NR_GET_INFO]		= sizeof(struct kab_info),
	[KAB_NR_VM_GET_TARGET]		= sizeof(struct kab_target),
	[KAB_NR_VM_SET_ACTUAL]		= sizeof(struct kab_actual),
	[KAB_NR_VM_GET_STATS]		= sizeof(struct kab_vm_stats),
	[KAB_NR_VM_SET_GUEST_STATS]	= sizeof(struct kab_guest_stats),
	[KAB_NR_VM_RESTORE]		= sizeof(struct kab_restore),
};

/* The first version of every structure is what it is now, or has grown. */
static_assert(sizeof(struct kab_create_vm) >= KAB_CREATE_VM_SIZE_VER0);
static_assert(sizeof(struct kab_host_psi) >= KAB_HOST_PSI_SIZE_VER0);
static_assert(sizeof(struct kab_info) >= KAB_INFO_SIZE_VER0);
static_assert(sizeof(struct kab_target) >= KAB_TARGET_SIZE_VER0);
static_assert(sizeof(struct kab_actual) >= KAB_ACTUAL_SIZE_VER0);
static_assert(sizeof(struct kab_vm_stats) >= KAB_VM_STATS_SIZE_VER0);
static_assert(sizeof(struct kab_guest_stats) >= KAB_GUEST_STATS_SIZE_VER0);
static_assert(sizeof(struct kab_restore) >= KAB_RESTORE_SIZE_VER0);

static const u8 kab_known_ioctls[] = {
	KAB_NR_GET_API_VERSION, KAB_NR_CREATE_VM, KAB_NR_BIND_HOST_PSI,
	KAB_NR_GET_INFO, KAB_NR_VM_GET_TARGET, KAB_NR_VM_SET_ACTUAL,
	KAB_NR_VM_GET_STATS, KAB_NR_VM_SET_GUEST_STATS, KAB_NR_VM_RESTORE,
};

static long kab_get_info(void __user *uarg)
{
	struct kab_info info = {};
	unsigned int i;
	u32 usize;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < KAB_INFO_SIZE_VER0)
		return -EINVAL;

	info.api_version = KAB_API_VERSION;
	for (i = 0; i < ARRAY_SIZE(kab_known_ioctls); i++)
		info.ioctls |= 1ULL << kab_known_ioctls[i];
	info.guest_stats_valid = KAB_GUEST_STAT_ALL;
	memcpy(info.arg_size, kab_ioctl_arg_size, sizeof(info.arg_size));

	info.size = min_t(u32, usize, sizeof(info));
	if (copy_to_user(uarg, &info, info.size))
		return -EFAULT;
	return 0;
}

/*
 * The numbers are matched whole: a version 1 number, which carried the
 * argument's size and direction, is unknown (-ENOTTY) like any other.
 */
static long kab_dev_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KAB_GET_API_VERSION:
		if (arg)
			return -EINVAL;
		return KAB_API_VERSION;
	case KAB_CREATE_VM:
		return kab_create_vm(uarg);
	case KAB_BIND_HOST_PSI:
		return kab_psi_bind_host(uarg);
	case KAB_GET_INFO:
		return kab_get_info(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kab_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= kab_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice kab_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "kvm_autoballoon",
	.fops	= &kab_dev_fops,
	.mode	= 0600,
};

static int __init kab_init(void)
{
	int ret;

	kab_wq = alloc_workqueue("kvm_autoballoon", WQ_UNBOUND | WQ_MEM_RECLAIM,
				 0);
	if (!kab_wq)
		return -ENOMEM;

	ret = kab_vms_init();
	if (ret)
		goto err_destroy_wq;

	ret = kab_sysfs_init();
	if (ret)
		goto err_vms;

	/* A source that cannot start leaves the module working without it. */
	ret = kab_sources_init(kab_kobj);
	if (ret)
		goto err_sysfs;

	ret = misc_register(&kab_miscdev);
	if (ret)
		goto err_sources;

	pr_info("ready, API version %d\n", KAB_API_VERSION);
	return 0;

err_sources:
	kab_sources_exit();
err_sysfs:
	kab_sysfs_exit();
err_vms:
	kab_vms_exit();
err_destroy_wq:
	destroy_workqueue(kab_wq);
	return ret;
}

/* Every VM file pins the module, so no VM exists when this runs. */
static void __exit kab_exit(void)
{
	misc_deregister(&kab_miscdev);
	kab_sources_exit();
	kab_sysfs_exit();
	kab_vms_exit();
	destroy_workqueue(kab_wq);
}

module_init(kab_init);
module_exit(kab_exit);

MODULE_DESCRIPTION("Automatic virtio-balloon targets for KVM guests");
MODULE_LICENSE("GPL");
