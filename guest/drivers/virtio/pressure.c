// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_autoballoon: guest memory pressure detection and the pressure
 * doorbell.
 *
 * A stock guest kernel offers modules no vmpressure or PSI interface, so the
 * detector reads what reclaim already counts. It has three parts:
 *
 * - Trigger. A shrinker that frees nothing: reclaim (kswapd and direct)
 *   calls every shrinker's count_objects(), so ours learns that reclaim is
 *   running at no cost when it is not. It only queues the evaluation, one
 *   sample period later, on a WQ_MEM_RECLAIM workqueue. An idle guest never
 *   reclaims and so never evaluates anything; there is no polling timer.
 * - Evaluation. The vm event counters since the last evaluation: allocation
 *   stalls (direct reclaim entered), pages scanned and reclaimed by kswapd
 *   and direct reclaim, OOM kills; and si_mem_available(). Available memory
 *   below the low watermark (low_avail_permille of RAM) gates every level,
 *   so a guest that reclaims page cache with plenty to spare stays quiet:
 *     low       reclaim ran;
 *     medium    an allocation stalled, or reclaim freed under 40 % of what
 *               it scanned (vmpressure's medium);
 *     critical  an allocation stalled while available memory is below
 *               critical_avail_permille, or reclaim freed under 5 % of what
 *               it scanned (vmpressure's critical).
 *   An OOM kill since the last evaluation is critical without the gate.
 * - OOM. The OOM notifier (balloon.c) reports critical at once, before the
 *   OOM killer picks a victim.
 *
 * Every detected level goes through a per-level rate limit (a quota: at
 * most one report per interval) and, when VAB_F_PRESSURE_DOORBELL was
 * negotiated, is written to the config field pressure_level. Without the
 * feature nothing is ever written; detection still runs and is counted.
 */

#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

#include "vab.h"

/**
 * struct vab_watermarks - available memory that activates the detector
 * @low_permille:	available memory below this share of RAM (per mille)
 *			lets reclaim count as pressure.
 * @critical_permille:	below this share, a stalled allocation is critical.
 */
struct vab_watermarks {
	unsigned int low_permille;
	unsigned int critical_permille;
};

/**
 * struct vab_quota - doorbell rate limit
 * @interval_ms:	least time between two reports of the same level; 0
 *			reports every detection.
 */
struct vab_quota {
	unsigned int interval_ms[VAB_NR_PRESSURE_LEVELS];
};

/*
 * pressure_sample_ms - delay between the first reclaim seen and the
 * evaluation of the counters; bounds detection latency and evaluations per
 * second while reclaim runs. Unit: ms. Default 100, range 10..10000.
 */
static unsigned int sample_ms = 100;

/*
 * low_avail_permille - low watermark, per mille of RAM. Default 100 (10 %),
 * range 0..1000 (0 disables all levels but OOM).
 * critical_avail_permille - critical watermark, per mille of RAM. Default 20
 * (2 %), range 0..1000.
 */
static struct vab_watermarks wmarks = {
	.low_permille = 100,
	.critical_permille = 20,
};

/*
 * ratelimit_low_ms, ratelimit_medium_ms, ratelimit_critical_ms - least time
 * between two reports of that level. Unit: ms. Defaults 10000, 2000 and 500;
 * range 0..3600000 (0: no limit). Over T ms a level is written at most
 * 1 + T / interval times.
 */
static struct vab_quota quota = {
	.interval_ms = { 10000, 2000, 500 },
};

static int sample_ms_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 10, 10000);
}

static int permille_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, 1000);
}

static int interval_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, 3600000);
}

static const struct kernel_param_ops sample_ms_ops = {
	.set = sample_ms_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops permille_ops = {
	.set = permille_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops interval_ops = {
	.set = interval_set,
	.get = param_get_uint,
};

module_param_cb(pressure_sample_ms, &sample_ms_ops, &sample_ms, 0644);
MODULE_PARM_DESC(pressure_sample_ms,
		 "Delay from reclaim seen to evaluation, ms (10..10000, default 100)");
module_param_cb(low_avail_permille, &permille_ops, &wmarks.low_permille,
		0644);
MODULE_PARM_DESC(low_avail_permille,
		 "Available memory below which reclaim is pressure, per mille of RAM (0..1000, default 100)");
module_param_cb(critical_avail_permille, &permille_ops,
		&wmarks.critical_permille, 0644);
MODULE_PARM_DESC(critical_avail_permille,
		 "Available memory below which a stall is critical, per mille of RAM (0..1000, default 20)");
module_param_cb(ratelimit_low_ms, &interval_ops,
		&quota.interval_ms[VAB_LOW], 0644);
MODULE_PARM_DESC(ratelimit_low_ms,
		 "Least time between two low reports, ms (0..3600000, default 10000)");
module_param_cb(ratelimit_medium_ms, &interval_ops,
		&quota.interval_ms[VAB_MEDIUM], 0644);
MODULE_PARM_DESC(ratelimit_medium_ms,
		 "Least time between two medium reports, ms (0..3600000, default 2000)");
module_param_cb(ratelimit_critical_ms, &interval_ops,
		&quota.interval_ms[VAB_CRITICAL], 0644);
MODULE_PARM_DESC(ratelimit_critical_ms,
		 "Least time between two critical reports, ms (0..3600000, default 500)");

/* Fewest pages scanned before reclaim efficiency means anything. */
#define VAB_EFFICIENCY_WINDOW	512
/* Reclaimed/scanned below these percentages: medium, critical. */
#define VAB_MEDIUM_EFFICIENCY	40
#define VAB_CRITICAL_EFFICIENCY	5

static unsigned long vab_delta(struct vab_pressure *p, enum vm_event_item item)
{
	return p->now[item] - p->events[item];
}

/* The level the counters show since the last evaluation, or -1 for none. */
static int vab_evaluate(struct vab_pressure *p)
{
	unsigned long stalls = 0, scanned, reclaimed, ooms;
	unsigned long total = totalram_pages();
	unsigned long avail = si_mem_available();
	bool below_low, below_critical, window;
	int zid;

	all_vm_events(p->now);
	for (zid = 0; zid < MAX_NR_ZONES; zid++)
		stalls += vab_delta(p, ALLOCSTALL_NORMAL - ZONE_NORMAL + zid);
	scanned = vab_delta(p, PGSCAN_KSWAPD) + vab_delta(p, PGSCAN_DIRECT);
	reclaimed = vab_delta(p, PGSTEAL_KSWAPD) + vab_delta(p, PGSTEAL_DIRECT);
	ooms = vab_delta(p, OOM_KILL);
	memcpy(p->events, p->now, sizeof(p->events));

	below_low = (u64)avail * 1000 <
		    (u64)total * READ_ONCE(wmarks.low_permille);
	below_critical = (u64)avail * 1000 <
			 (u64)total * READ_ONCE(wmarks.critical_permille);
	window = scanned >= VAB_EFFICIENCY_WINDOW;

	if (ooms)
		return VAB_CRITICAL;
	if (!below_low)
		return -1;
	if ((stalls && below_critical) ||
	    (window && (u64)reclaimed * 100 <
		       (u64)scanned * VAB_CRITICAL_EFFICIENCY))
		return VAB_CRITICAL;
	if (stalls ||
	    (window && (u64)reclaimed * 100 <
		       (u64)scanned * VAB_MEDIUM_EFFICIENCY))
		return VAB_MEDIUM;
	if (scanned)
		return VAB_LOW;
	return -1;
}

static void vab_eval_work(struct work_struct *work)
{
	struct vab_pressure *p = container_of(to_delayed_work(work),
					      struct vab_pressure, eval_work);
	struct vab_balloon *vb = container_of(p, struct vab_balloon, pressure);
	int level;

	level = vab_evaluate(p);
	WRITE_ONCE(p->evaluations, p->evaluations + 1);
	if (level >= 0)
		vab_pressure_report(vb, level);
}

static unsigned long vab_reclaim_seen(struct shrinker *shrinker,
				      struct shrink_control *sc)
{
	struct vab_pressure *p = vab_shrinker_private(shrinker);

	/* Already pending: the coming evaluation covers this pass too. */
	queue_delayed_work(p->wq, &p->eval_work,
			   msecs_to_jiffies(READ_ONCE(sample_ms)));
	return 0;
}

static unsigned long vab_reclaim_scan(struct shrinker *shrinker,
				      struct shrink_control *sc)
{
	return SHRINK_STOP;
}

/**
 * vab_pressure_report - report one detected pressure level
 * @vb:		the balloon.
 * @level:	the level.
 *
 * Counts the detection, applies the level's rate limit and, when the
 * doorbell was negotiated, writes the level to the device. May sleep.
 */
void vab_pressure_report(struct vab_balloon *vb, enum vab_level_index level)
{
	struct vab_pressure *p = &vb->pressure;
	unsigned int interval_ms = READ_ONCE(quota.interval_ms[level]);
	u32 value = VAB_PRESSURE_LOW + level;
	unsigned long now = jiffies;

	mutex_lock(&p->report_lock);
	WRITE_ONCE(p->detected[level], p->detected[level] + 1);
	if (p->reported[level] &&
	    time_before(now, p->last_write[level] +
			msecs_to_jiffies(interval_ms))) {
		WRITE_ONCE(p->ratelimited[level], p->ratelimited[level] + 1);
		goto out;
	}
	p->last_write[level] = now;
	WRITE_ONCE(p->reported[level], p->reported[level] + 1);
	if (p->doorbell) {
		virtio_cwrite_le(vb->vdev, struct vab_config, pressure_level,
				 &value);
		WRITE_ONCE(p->written[level], p->written[level] + 1);
	}
out:
	mutex_unlock(&p->report_lock);
}

/*
 * debugfs inject_pressure (root, write-only): "low", "medium", "critical"
 * or 1..3 reports that level as if the detector had seen it, through the
 * same rate limit and doorbell. For tests of the device side.
 */
static ssize_t vab_inject_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	static const char * const names[VAB_NR_PRESSURE_LEVELS] = {
		"low", "medium", "critical",
	};
	struct vab_balloon *vb = file->private_data;
	char buf[16];
	int level;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	level = sysfs_match_string(names, buf);
	if (level < 0) {
		if (kstrtoint(buf, 10, &level) || level < VAB_PRESSURE_LOW ||
		    level > VAB_PRESSURE_CRITICAL)
			return -EINVAL;
		level -= VAB_PRESSURE_LOW;
	}
	vab_pressure_report(vb, level);
	return count;
}

static const struct file_operations vab_inject_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = vab_inject_write,
	.llseek = noop_llseek,
};

int vab_pressure_init(struct vab_balloon *vb)
{
	struct vab_pressure *p = &vb->pressure;
	int err;

	mutex_init(&p->report_lock);
	INIT_DELAYED_WORK(&p->eval_work, vab_eval_work);
	p->doorbell = virtio_has_feature(vb->vdev, VAB_F_PRESSURE_DOORBELL);
	all_vm_events(p->events);

	p->wq = alloc_workqueue("vab_pressure", WQ_MEM_RECLAIM, 1);
	if (!p->wq)
		return -ENOMEM;
	err = vab_shrinker_register(&p->shrinker, vab_reclaim_seen,
				    vab_reclaim_scan, p, "virtio_autoballoon");
	if (err) {
		destroy_workqueue(p->wq);
		return err;
	}

	p->debugfs = debugfs_create_dir(dev_name(&vb->vdev->dev),
					vab_debugfs_root);
	debugfs_create_file("inject_pressure", 0200, p->debugfs, vb,
			    &vab_inject_fops);
	return 0;
}

void vab_pressure_exit(struct vab_balloon *vb)
{
	struct vab_pressure *p = &vb->pressure;

	debugfs_remove(p->debugfs);
	/* No shrinker call can queue the evaluation after this. */
	vab_shrinker_unregister(&p->shrinker);
	cancel_delayed_work_sync(&p->eval_work);
	destroy_workqueue(p->wq);
}

/* sysfs: /sys/bus/virtio/devices/virtioN/pressure/ */
static ssize_t doorbell_show(struct device *dev, struct device_attribute *a,
			     char *buf)
{
	struct vab_balloon *vb = dev_to_virtio(dev)->priv;

	return sysfs_emit(buf, "%d\n", vb->pressure.doorbell);
}
static DEVICE_ATTR_RO(doorbell);

static VAB_U64_ATTR(detected_low, pressure.detected[VAB_LOW]);
static VAB_U64_ATTR(detected_medium, pressure.detected[VAB_MEDIUM]);
static VAB_U64_ATTR(detected_critical, pressure.detected[VAB_CRITICAL]);
static VAB_U64_ATTR(reported_low, pressure.reported[VAB_LOW]);
static VAB_U64_ATTR(reported_medium, pressure.reported[VAB_MEDIUM]);
static VAB_U64_ATTR(reported_critical, pressure.reported[VAB_CRITICAL]);
static VAB_U64_ATTR(written_low, pressure.written[VAB_LOW]);
static VAB_U64_ATTR(written_medium, pressure.written[VAB_MEDIUM]);
static VAB_U64_ATTR(written_critical, pressure.written[VAB_CRITICAL]);
static VAB_U64_ATTR(ratelimited_low, pressure.ratelimited[VAB_LOW]);
static VAB_U64_ATTR(ratelimited_medium, pressure.ratelimited[VAB_MEDIUM]);
static VAB_U64_ATTR(ratelimited_critical,
		    pressure.ratelimited[VAB_CRITICAL]);
static VAB_U64_ATTR(evaluations, pressure.evaluations);

static struct attribute *vab_pressure_attrs[] = {
	&dev_attr_doorbell.attr,
	&vab_attr_detected_low.attr.attr,
	&vab_attr_detected_medium.attr.attr,
	&vab_attr_detected_critical.attr.attr,
	&vab_attr_reported_low.attr.attr,
	&vab_attr_reported_medium.attr.attr,
	&vab_attr_reported_critical.attr.attr,
	&vab_attr_written_low.attr.attr,
	&vab_attr_written_medium.attr.attr,
	&vab_attr_written_critical.attr.attr,
	&vab_attr_ratelimited_low.attr.attr,
	&vab_attr_ratelimited_medium.attr.attr,
	&vab_attr_ratelimited_critical.attr.attr,
	&vab_attr_evaluations.attr.attr,
	NULL
};

const struct attribute_group vab_pressure_group = {
	.name = "pressure",
	.attrs = vab_pressure_attrs,
};
