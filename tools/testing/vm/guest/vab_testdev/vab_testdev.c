// SPDX-License-Identifier: GPL-2.0
/*
 * vab_testdev: a minimal virtio balloon device model for testing the guest
 * driver's pressure doorbell where no VMM offers the feature.
 *
 * It is a virtio transport in software: it registers one virtio device of
 * type balloon on the virtio bus, so whatever balloon driver is loaded binds
 * to it exactly as to a PCI or MMIO device, negotiates features through the
 * virtio core and reaches the device only through the config operations
 * below. The device offers VIRTIO_F_VERSION_1 and the doorbell feature as
 * the module parameters say, keeps the balloon configuration space in
 * memory, and records every driver write to it. num_pages stays 0, so the
 * driver never sends a request on its queues; the queues exist (real vrings)
 * but the device never consumes them.
 *
 * debugfs, /sys/kernel/debug/vab_testdev/:
 *   features	features the driver accepted, hex ("-" before negotiation)
 *   writes	one line per config write, "OFFSET LEN VALUE" (decimal, the
 *		value little-endian as the device sees it); at most
 *		VTD_MAX_WRITES, later writes are counted in "dropped"
 *   dropped	config writes not recorded
 *   clear	write anything: forget the recorded writes
 */

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "compat.h"
#include "virtio_autoballoon.h"

static bool doorbell = true;
module_param(doorbell, bool, 0444);
MODULE_PARM_DESC(doorbell, "Offer the pressure doorbell feature (default on)");

static bool version_1 = true;
module_param(version_1, bool, 0444);
MODULE_PARM_DESC(version_1, "Offer VIRTIO_F_VERSION_1 (default on)");

#define VTD_MAX_WRITES	4096
#define VTD_QUEUE_SIZE	64

struct vtd_write {
	unsigned int offset;
	unsigned int len;
	u32 value;
};

/**
 * struct vtd_device - the device model
 * @vdev:	the virtio device on the virtio bus.
 * @lock:	protects everything below it.
 * @status:	device status byte.
 * @config:	configuration space, as the device holds it.
 * @negotiated:	features accepted by the driver, valid if @finalized.
 * @finalized:	the driver finalized features since the last reset.
 * @writes:	recorded config writes.
 * @nr_writes:	entries used in @writes.
 * @dropped:	writes not recorded because @writes was full.
 */
struct vtd_device {
	struct virtio_device vdev;
	spinlock_t lock;	/* see @lock above */
	u8 status;
	u8 config[sizeof(struct vab_config)];
	u64 negotiated;
	bool finalized;
	struct vtd_write writes[VTD_MAX_WRITES];
	unsigned int nr_writes;
	u64 dropped;
};

static struct device *vtd_root;
static struct vtd_device *vtd;
static struct dentry *vtd_debugfs;

static struct vtd_device *to_vtd(struct virtio_device *vdev)
{
	return container_of(vdev, struct vtd_device, vdev);
}

static void vtd_get(struct virtio_device *vdev, unsigned int offset,
		    void *buf, unsigned int len)
{
	struct vtd_device *d = to_vtd(vdev);

	spin_lock(&d->lock);
	if (offset <= sizeof(d->config) && len <= sizeof(d->config) - offset)
		memcpy(buf, d->config + offset, len);
	else
		memset(buf, 0, len);
	spin_unlock(&d->lock);
}

static void vtd_set(struct virtio_device *vdev, unsigned int offset,
		    const void *buf, unsigned int len)
{
	struct vtd_device *d = to_vtd(vdev);
	__le32 raw = 0;

	memcpy(&raw, buf, min_t(unsigned int, len, sizeof(raw)));
	spin_lock(&d->lock);
	if (d->nr_writes < VTD_MAX_WRITES) {
		d->writes[d->nr_writes++] = (struct vtd_write){
			.offset = offset,
			.len = len,
			.value = le32_to_cpu(raw),
		};
	} else {
		d->dropped++;
	}
	/* num_pages (offset 0) belongs to the device: the driver cannot. */
	if (offset >= offsetof(struct vab_config, actual) &&
	    offset <= sizeof(d->config) && len <= sizeof(d->config) - offset)
		memcpy(d->config + offset, buf, len);
	spin_unlock(&d->lock);
}

static u8 vtd_get_status(struct virtio_device *vdev)
{
	return READ_ONCE(to_vtd(vdev)->status);
}

static void vtd_set_status(struct virtio_device *vdev, u8 status)
{
	WRITE_ONCE(to_vtd(vdev)->status, status);
}

static void vtd_reset(struct virtio_device *vdev)
{
	struct vtd_device *d = to_vtd(vdev);

	spin_lock(&d->lock);
	d->status = 0;
	d->finalized = false;
	memset(d->config, 0, sizeof(d->config));
	spin_unlock(&d->lock);
}

static u64 vtd_offered(void)
{
	u64 features = 0;

	if (version_1)
		features |= BIT_ULL(VIRTIO_F_VERSION_1);
	if (doorbell)
		features |= BIT_ULL(VAB_F_PRESSURE_DOORBELL);
	return features;
}

static u64 vtd_get_features(struct virtio_device *vdev)
{
	return vtd_offered();
}

static int vtd_finalize_features(struct virtio_device *vdev)
{
	struct vtd_device *d = to_vtd(vdev);

	vring_transport_features(vdev);
	/* A driver may only accept what was offered. */
	if (vdev->features & ~vtd_offered())
		return -EINVAL;
	spin_lock(&d->lock);
	d->negotiated = vdev->features;
	d->finalized = true;
	spin_unlock(&d->lock);
	return 0;
}

/* The device never consumes a buffer: nothing to notify. */
static bool vtd_notify(struct virtqueue *vq)
{
	return true;
}

static void vtd_del_vqs(struct virtio_device *vdev)
{
	struct virtqueue *vq, *next;

	list_for_each_entry_safe(vq, next, &vdev->vqs, list)
		vring_del_virtqueue(vq);
}

static int vtd_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			struct virtqueue *vqs[], VAB_FIND_VQS_PARAMS,
			struct irq_affinity *desc)
{
	unsigned int i;

	for (i = 0; i < nvqs; i++) {
		struct vab_vq_request req = VAB_VQ_REQUEST(i);

		vqs[i] = NULL;
		if (!req.name)
			continue;
		vqs[i] = vring_create_virtqueue(i, VTD_QUEUE_SIZE,
						SMP_CACHE_BYTES, vdev, true,
						true, false, vtd_notify,
						req.callback, req.name);
		if (!vqs[i]) {
			vtd_del_vqs(vdev);
			return -ENOMEM;
		}
	}
	return 0;
}

static const char *vtd_bus_name(struct virtio_device *vdev)
{
	return "vab_testdev";
}

static const struct virtio_config_ops vtd_config_ops = {
	.get = vtd_get,
	.set = vtd_set,
	.get_status = vtd_get_status,
	.set_status = vtd_set_status,
	.reset = vtd_reset,
	.find_vqs = vtd_find_vqs,
	.del_vqs = vtd_del_vqs,
	.get_features = vtd_get_features,
	.finalize_features = vtd_finalize_features,
	.bus_name = vtd_bus_name,
};

static int vtd_features_show(struct seq_file *m, void *unused)
{
	struct vtd_device *d = m->private;

	spin_lock(&d->lock);
	if (d->finalized)
		seq_printf(m, "%llx\n", d->negotiated);
	else
		seq_puts(m, "-\n");
	spin_unlock(&d->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vtd_features);

static int vtd_writes_show(struct seq_file *m, void *unused)
{
	struct vtd_device *d = m->private;
	unsigned int i;

	spin_lock(&d->lock);
	for (i = 0; i < d->nr_writes; i++)
		seq_printf(m, "%u %u %u\n", d->writes[i].offset,
			   d->writes[i].len, d->writes[i].value);
	spin_unlock(&d->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vtd_writes);

static int vtd_dropped_show(struct seq_file *m, void *unused)
{
	struct vtd_device *d = m->private;

	spin_lock(&d->lock);
	seq_printf(m, "%llu\n", d->dropped);
	spin_unlock(&d->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vtd_dropped);

static ssize_t vtd_clear_write(struct file *file, const char __user *buf,
			       size_t count, loff_t *ppos)
{
	struct vtd_device *d = file->private_data;

	spin_lock(&d->lock);
	d->nr_writes = 0;
	d->dropped = 0;
	spin_unlock(&d->lock);
	return count;
}

static const struct file_operations vtd_clear_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = vtd_clear_write,
	.llseek = noop_llseek,
};

static void vtd_release(struct device *dev)
{
	kfree(container_of(dev_to_virtio(dev), struct vtd_device, vdev));
}

static int __init vtd_init(void)
{
	int err;

	vtd_root = root_device_register("vab_testdev");
	if (IS_ERR(vtd_root))
		return PTR_ERR(vtd_root);

	vtd = kzalloc(sizeof(*vtd), GFP_KERNEL);
	if (!vtd) {
		err = -ENOMEM;
		goto err_root;
	}
	spin_lock_init(&vtd->lock);
	vtd->vdev.dev.parent = vtd_root;
	vtd->vdev.dev.release = vtd_release;
	vtd->vdev.id.device = VIRTIO_ID_BALLOON;
	vtd->vdev.id.vendor = 0x1af4;
	vtd->vdev.config = &vtd_config_ops;

	vtd_debugfs = debugfs_create_dir("vab_testdev", NULL);
	debugfs_create_file("features", 0444, vtd_debugfs, vtd,
			    &vtd_features_fops);
	debugfs_create_file("writes", 0444, vtd_debugfs, vtd,
			    &vtd_writes_fops);
	debugfs_create_file("dropped", 0444, vtd_debugfs, vtd,
			    &vtd_dropped_fops);
	debugfs_create_file("clear", 0200, vtd_debugfs, vtd, &vtd_clear_fops);

	err = register_virtio_device(&vtd->vdev);
	if (err) {
		debugfs_remove(vtd_debugfs);
		/* The device is initialised: its release frees vtd. */
		put_device(&vtd->vdev.dev);
		goto err_root;
	}
	return 0;

err_root:
	root_device_unregister(vtd_root);
	return err;
}
module_init(vtd_init);

static void __exit vtd_exit(void)
{
	unregister_virtio_device(&vtd->vdev);
	debugfs_remove(vtd_debugfs);
	root_device_unregister(vtd_root);
}
module_exit(vtd_exit);

MODULE_DESCRIPTION("Minimal virtio balloon device model for driver tests");
MODULE_LICENSE("GPL");
