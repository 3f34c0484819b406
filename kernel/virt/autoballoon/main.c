// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_autoballoon: the host decides the balloon target of every KVM guest.
 *
 * This file holds the module's global state, the /dev/kvm_autoballoon misc
 * device and the entry point through which host pressure reaches the policy.
 * vm.c holds the per-VM objects, sysfs.c the sysfs tree, policy.c the
 * decisions.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "kab.h"

#define CREATE_TRACE_POINTS
#include "kab_trace.h"

/*
 * kab_lock serialises the VM list, every VM's policy state, the policy
 * parameters and the module limits below. It is a mutex: it is only taken
 * in process context (ioctls, sysfs, work items), never in a wake-up
 * callback.
 */
DEFINE_MUTEX(kab_lock);
LIST_HEAD(kab_vms);
unsigned int kab_nr_vms;
unsigned int kab_max_vms = KAB_DEFAULT_MAX_VMS;
unsigned int kab_tick_ms = KAB_DEFAULT_TICK_MS;
struct kab_policy_params kab_params;
struct workqueue_struct *kab_wq;

static const char * const kab_reason_names[KAB_NR_REASONS] = {
	[KAB_REASON_NONE]		= "none",
	[KAB_REASON_INITIAL]		= "initial",
	[KAB_REASON_HOST_PRESSURE]	= "host_pressure",
	[KAB_REASON_GUEST_PRESSURE]	= "guest_pressure",
	[KAB_REASON_CLAMP]		= "clamp",
	[KAB_REASON_STALL]		= "stall",
	[KAB_REASON_RELAX]		= "relax",
};

const char *kab_reason_name(u32 reason)
{
	if (reason >= KAB_NR_REASONS || !kab_reason_names[reason])
		return "unknown";
	return kab_reason_names[reason];
}

/**
 * kab_host_pressure - host memory pressure reached the module
 * @src:	who noticed it.
 * @level:	KAB_LEVEL_LOW..KAB_LEVEL_CRITICAL.
 * @vm_id:	0 for pressure on the whole host (every VM), else one VM.
 *
 * Return: 0, -ENOENT for an unknown @vm_id, -ENOMEM.
 */
int kab_host_pressure(enum kab_source src, unsigned int level, u32 vm_id)
{
	struct kab_policy_vm *one, **pols;
	struct kab_vm *vm;
	unsigned int nr = 0;
	int ret = 0;

	if (level < KAB_LEVEL_LOW || level > KAB_LEVEL_CRITICAL)
		return -EINVAL;

	mutex_lock(&kab_lock);
	if (vm_id) {
		vm = kab_vm_find(vm_id);
		if (!vm) {
			ret = -ENOENT;
			goto out;
		}
		one = &vm->pol;
		pols = &one;
		nr = 1;
		vm->host_events[level - 1]++;
	} else {
		pols = kmalloc_array(max(kab_nr_vms, 1U), sizeof(*pols),
				     GFP_KERNEL);
		if (!pols) {
			ret = -ENOMEM;
			goto out;
		}
		list_for_each_entry(vm, &kab_vms, node) {
			pols[nr++] = &vm->pol;
			vm->host_events[level - 1]++;
		}
	}
	trace_kab_host_pressure(src, level, vm_id, nr);
	kab_policy_host_event(&kab_params, pols, nr, level, ktime_get_ns());

	if (vm_id) {
		kab_vm_publish(vm);
	} else {
		kfree(pols);
		list_for_each_entry(vm, &kab_vms, node)
			kab_vm_publish(vm);
	}
out:
	mutex_unlock(&kab_lock);
	return ret;
}

static long kab_dev_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	switch (cmd) {
	case KAB_GET_API_VERSION:
		if (arg)
			return -EINVAL;
		return KAB_API_VERSION;
	case KAB_CREATE_VM:
		return kab_create_vm((const struct kab_create_vm __user *)arg);
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

	kab_policy_defaults(&kab_params);

	kab_wq = alloc_workqueue("kvm_autoballoon", WQ_UNBOUND, 0);
	if (!kab_wq)
		return -ENOMEM;

	ret = kab_sysfs_init();
	if (ret)
		goto err_destroy_wq;

	ret = misc_register(&kab_miscdev);
	if (ret)
		goto err_sysfs;

	pr_info("ready, API version %d\n", KAB_API_VERSION);
	return 0;

err_sysfs:
	kab_sysfs_exit();
err_destroy_wq:
	destroy_workqueue(kab_wq);
	return ret;
}

/* Every VM file pins the module, so no VM exists when this runs. */
static void __exit kab_exit(void)
{
	misc_deregister(&kab_miscdev);
	kab_tick_stop();
	kab_sysfs_exit();
	destroy_workqueue(kab_wq);
}

module_init(kab_init);
module_exit(kab_exit);

MODULE_DESCRIPTION("Automatic virtio-balloon targets for KVM guests");
MODULE_LICENSE("GPL");
