// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_autoballoon: guest memory pressure detection and the pressure
 * doorbell.
 *
 * A stock guest kernel offers modules no vmpressure or PSI interface, and
 * in a guest whose memory is anonymous and that has no swap, reclaim starts
 * only at the low watermark and then finds nothing to reclaim: by the first
 * allocation stall the guest is already out of memory. So the detector
 * looks ahead instead of waiting for reclaim:
 *
 * - Schedule. One deferrable work item on a freezable WQ_MEM_RECLAIM
 *   workqueue runs every pressure_period_ms. It evaluates only while the
 *   guest may be short of memory: the balloon holds pages, available memory
 *   (si_mem_available()) is under the activation watermark
 *   (active_avail_permille of RAM), or reclaim ran since the last period.
 *   Otherwise the period costs one si_mem_available() call, and being
 *   deferrable the timer never wakes an idle CPU: an idle guest costs
 *   nothing. A shrinker that frees nothing tells the detector that reclaim
 *   runs (reclaim calls every shrinker's count_objects()), for guests whose
 *   page cache keeps available memory high while they thrash.
 * - Evaluation, before reclaim, from the trend of the figures:
 *     low       available memory under low_avail_permille of RAM; or, at
 *               the rate available memory fell over the last periods (what
 *               the balloon itself took left out), it runs out within
 *               low_eta_ms; or file refaults (the working
 *               set being read back after reclaim) above
 *               refault_low_permille of RAM per second;
 *     medium    available memory under medium_avail_permille; or out
 *               within medium_eta_ms; or, with available memory under
 *               low_avail_permille, free memory under twice the sum of the
 *               zones' high watermarks (kswapd is about to wake); or
 *               refaults above refault_medium_permille per second.
 *   And from what reclaim counted since the last evaluation (allocation
 *   stalls, pages scanned and reclaimed by kswapd and direct reclaim),
 *   gated by available memory under low_avail_permille so that a guest
 *   reclaiming page cache with plenty to spare stays quiet:
 *     low       reclaim ran;
 *     medium    an allocation stalled, or reclaim freed under 40 % of what
 *               it scanned (vmpressure's medium);
 *     critical  an allocation stalled while available memory is under
 *               critical_avail_permille, or reclaim freed under 5 % of what
 *               it scanned (vmpressure's critical).
 *   One evaluation reports the highest level it found.
 * - OOM. The OOM notifier (balloon.c) reports critical at once, before the
 *   OOM killer picks a victim. The notifier runs for global OOM only; the
 *   OOM_KILL event also counts kills inside a memory cgroup at its limit,
 *   which say nothing about the guest as a whole, so it is not used here.
 *
 * Every detected level goes through a per-level rate limit (a quota: at
 * most one report per interval) and, when VAB_F_PRESSURE_DOORBELL was
 * negotiated, is written to the config field pressure_level. Without the
 * feature nothing is ever written; detection still runs and is counted.
 */

#include <linux/debugfs.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

#include "vab.h"

/**
 * struct vab_watermarks - available memory thresholds, per mille of RAM
 * @active_permille:	under this the detector evaluates every period.
 * @low_permille:	under this: low; it also lets reclaim count as
 *			pressure.
 * @medium_permille:	under this: medium.
 * @critical_permille:	under this, a stalled allocation is critical.
 */
struct vab_watermarks {
	unsigned int active_permille;
	unsigned int low_permille;
	unsigned int medium_permille;
	unsigned int critical_permille;
};

/**
 * struct vab_trend - thresholds on how fast memory goes
 * @low_eta_ms:		available memory runs out within this: low.
 * @medium_eta_ms:	within this: medium. 0 disables either.
 * @refault_low_permille: file refaults per second, per mille of RAM: low.
 * @refault_medium_permille: the same for medium. 0 disables either.
 */
struct vab_trend {
	unsigned int low_eta_ms;
	unsigned int medium_eta_ms;
	unsigned int refault_low_permille;
	unsigned int refault_medium_permille;
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
 * pressure_period_ms - period of the detector. Unit: ms. Default 500,
 * range 250..1000.
 */
static unsigned int period_ms = 500;

/*
 * active_avail_permille - activation watermark: available memory under this
 * share of RAM makes the detector evaluate. Default 250, range 0..1000.
 * low_avail_permille - low watermark. Default 100 (10 %), range 0..1000 (0
 * leaves only the trend rules and OOM).
 * medium_avail_permille - medium watermark. Default 50, range 0..1000.
 * critical_avail_permille - critical watermark for stalls. Default 20 (2 %),
 * range 0..1000.
 */
static struct vab_watermarks wmarks = {
	.active_permille = 250,
	.low_permille = 100,
	.medium_permille = 50,
	.critical_permille = 20,
};

/*
 * low_eta_ms, medium_eta_ms - time to exhaustion of available memory at
 * its current rate of decline under which low, medium is detected. Unit:
 * ms. Defaults 10000 and 3000, range 0..600000 (0: rule off).
 * refault_low_permille, refault_medium_permille - file refaults per second
 * above which low, medium is detected. Unit: per mille of RAM per second.
 * Defaults 10 and 50, range 0..1000 (0: rule off).
 */
static struct vab_trend trend = {
	.low_eta_ms = 10000,
	.medium_eta_ms = 3000,
	.refault_low_permille = 10,
	.refault_medium_permille = 50,
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

static int period_ms_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 250, 1000);
}

static int permille_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, 1000);
}

static int eta_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, 600000);
}

static int interval_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, 3600000);
}

static const struct kernel_param_ops period_ms_ops = {
	.set = period_ms_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops permille_ops = {
	.set = permille_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops eta_ops = {
	.set = eta_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops interval_ops = {
	.set = interval_set,
	.get = param_get_uint,
};

module_param_cb(pressure_period_ms, &period_ms_ops, &period_ms, 0644);
MODULE_PARM_DESC(pressure_period_ms,
		 "Period of the pressure detector, ms (250..1000, default 500)");
module_param_cb(active_avail_permille, &permille_ops,
		&wmarks.active_permille, 0644);
MODULE_PARM_DESC(active_avail_permille,
		 "Available memory below which the detector evaluates, per mille of RAM (0..1000, default 250)");
module_param_cb(low_avail_permille, &permille_ops, &wmarks.low_permille,
		0644);
MODULE_PARM_DESC(low_avail_permille,
		 "Available memory below which pressure is low, per mille of RAM (0..1000, default 100)");
module_param_cb(medium_avail_permille, &permille_ops,
		&wmarks.medium_permille, 0644);
MODULE_PARM_DESC(medium_avail_permille,
		 "Available memory below which pressure is medium, per mille of RAM (0..1000, default 50)");
module_param_cb(critical_avail_permille, &permille_ops,
		&wmarks.critical_permille, 0644);
MODULE_PARM_DESC(critical_avail_permille,
		 "Available memory below which a stall is critical, per mille of RAM (0..1000, default 20)");
module_param_cb(low_eta_ms, &eta_ops, &trend.low_eta_ms, 0644);
MODULE_PARM_DESC(low_eta_ms,
		 "Time to exhaustion below which pressure is low, ms (0..600000, 0 off, default 10000)");
module_param_cb(medium_eta_ms, &eta_ops, &trend.medium_eta_ms, 0644);
MODULE_PARM_DESC(medium_eta_ms,
		 "Time to exhaustion below which pressure is medium, ms (0..600000, 0 off, default 3000)");
module_param_cb(refault_low_permille, &permille_ops,
		&trend.refault_low_permille, 0644);
MODULE_PARM_DESC(refault_low_permille,
		 "File refaults per second above which pressure is low, per mille of RAM (0..1000, 0 off, default 10)");
module_param_cb(refault_medium_permille, &permille_ops,
		&trend.refault_medium_permille, 0644);
MODULE_PARM_DESC(refault_medium_permille,
		 "File refaults per second above which pressure is medium, per mille of RAM (0..1000, 0 off, default 50)");
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

/* @pages under @permille per mille of @total. */
static bool vab_below(unsigned long pages, unsigned long total,
		      unsigned int permille)
{
	return (u64)pages * 1000 < (u64)total * permille;
}

/*
 * Sum of the low and high watermarks of the populated zones. The kernel's
 * own walkers (for_each_populated_zone: first_online_pgdat(), next_zone())
 * are not exported on 6.1 or 6.12; node_data is, on both.
 */
static void vab_zone_watermarks(unsigned long *low, unsigned long *high)
{
	struct zone *zone;
	int nid, zid;

	*low = 0;
	*high = 0;
	for_each_online_node(nid) {
		for (zid = 0; zid < MAX_NR_ZONES; zid++) {
			zone = &NODE_DATA(nid)->node_zones[zid];
			if (!populated_zone(zone))
				continue;
			*low += low_wmark_pages(zone);
			*high += high_wmark_pages(zone);
		}
	}
}

static unsigned long vab_delta(struct vab_pressure *p, enum vm_event_item item)
{
	return p->now[item] - p->events[item];
}

/* The level reclaim's counters show since the last evaluation, or -1. */
static int vab_reclaim_level(struct vab_pressure *p, unsigned long avail,
			     unsigned long total)
{
	unsigned long stalls = 0, scanned, reclaimed;
	bool below_critical, window;
	int zid;

	all_vm_events(p->now);
	for (zid = 0; zid < MAX_NR_ZONES; zid++)
		stalls += vab_delta(p, ALLOCSTALL_NORMAL - ZONE_NORMAL + zid);
	scanned = vab_delta(p, PGSCAN_KSWAPD) + vab_delta(p, PGSCAN_DIRECT);
	reclaimed = vab_delta(p, PGSTEAL_KSWAPD) + vab_delta(p, PGSTEAL_DIRECT);
	memcpy(p->events, p->now, sizeof(p->events));

	if (!vab_below(avail, total, READ_ONCE(wmarks.low_permille)))
		return -1;
	below_critical = vab_below(avail, total,
				   READ_ONCE(wmarks.critical_permille));
	window = scanned >= VAB_EFFICIENCY_WINDOW;
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

/* @pages per second, per mille of @total, over @ms milliseconds. */
static u64 vab_permille_per_s(unsigned long pages, unsigned long total,
			      unsigned int ms)
{
	return div64_u64((u64)pages * 1000 * 1000, (u64)total * max(ms, 1U));
}

/*
 * The level the trend of available memory, free memory and refaults shows,
 * or -1. Updates the smoothed rate of decline, p->decline (pages per
 * second: half the old value plus half the new sample, so a burst counts
 * for one or two periods and a steady fall at once). The rate leaves out
 * what the balloon itself (@balloon pages now) took or gave back: every
 * page it takes is a page less available, and a host inflating at tens of
 * MiB/s would otherwise read as a guest about to run out. A guest the
 * balloon squeezes under the watermarks still reports by level.
 */
static int vab_trend_level(struct vab_pressure *p, unsigned long avail,
			   unsigned long balloon, unsigned long total)
{
	unsigned long free = global_zone_page_state(NR_FREE_PAGES);
	unsigned long refaults = global_node_page_state(WORKINGSET_REFAULT_FILE);
	unsigned long now = jiffies, wmark_low, wmark_high;
	unsigned int ms = jiffies_to_msecs(now - p->sampled);
	unsigned int low_eta = READ_ONCE(trend.low_eta_ms);
	unsigned int medium_eta = READ_ONCE(trend.medium_eta_ms);
	unsigned int refault_low = READ_ONCE(trend.refault_low_permille);
	unsigned int refault_medium = READ_ONCE(trend.refault_medium_permille);
	u64 eta_ms = U64_MAX, refault_rate = 0, rate;
	bool had_sample = p->has_sample;
	s64 fell;

	if (had_sample && ms) {
		fell = ((s64)p->avail + (s64)p->balloon) -
		       ((s64)avail + (s64)balloon);
		rate = div_s64(max_t(s64, fell, 0) * 1000, ms);
		p->decline = p->decline ? p->decline / 2 + rate / 2 : rate;
		refault_rate = vab_permille_per_s(refaults - p->refaults, total,
						  ms);
	}
	p->avail = avail;
	p->balloon = balloon;
	p->refaults = refaults;
	p->sampled = now;
	p->has_sample = true;
	if (had_sample && p->decline)
		eta_ms = div64_u64((u64)avail * 1000, p->decline);
	vab_zone_watermarks(&wmark_low, &wmark_high);

	if (vab_below(avail, total, READ_ONCE(wmarks.medium_permille)) ||
	    (medium_eta && eta_ms < medium_eta) ||
	    (vab_below(avail, total, READ_ONCE(wmarks.low_permille)) &&
	     free < 2 * wmark_high) ||
	    (refault_medium && refault_rate > refault_medium))
		return VAB_MEDIUM;
	if (vab_below(avail, total, READ_ONCE(wmarks.low_permille)) ||
	    (low_eta && eta_ms < low_eta) ||
	    (refault_low && refault_rate > refault_low))
		return VAB_LOW;
	return -1;
}

/* True when the detector should evaluate this period. */
static bool vab_active(struct vab_balloon *vb, unsigned long avail,
		       unsigned long total)
{
	struct vab_pressure *p = &vb->pressure;

	return READ_ONCE(vb->units) || xchg(&p->reclaim_seen, false) ||
	       vab_below(avail, total, READ_ONCE(wmarks.active_permille));
}

static void vab_eval_work(struct work_struct *work)
{
	struct vab_pressure *p = container_of(to_delayed_work(work),
					      struct vab_pressure, eval_work);
	struct vab_balloon *vb = container_of(p, struct vab_balloon, pressure);
	unsigned long total = totalram_pages();
	unsigned long avail = si_mem_available();
	int level, reclaim;

	if (vab_active(vb, avail, total)) {
		/* Reclaim counted while idle is old news: start afresh. */
		if (!p->has_sample)
			all_vm_events(p->events);
		level = vab_trend_level(p, avail,
					READ_ONCE(vb->units) / VAB_UNITS_PER_PAGE,
					total);
		reclaim = vab_reclaim_level(p, avail, total);
		level = max(level, reclaim);
		WRITE_ONCE(p->evaluations, p->evaluations + 1);
		if (level >= 0)
			vab_pressure_report(vb, level);
	} else if (p->has_sample) {
		/* A rate measured before an idle spell means nothing after. */
		p->has_sample = false;
		p->decline = 0;
	}
	queue_delayed_work(p->wq, &p->eval_work,
			   msecs_to_jiffies(READ_ONCE(period_ms)));
}

static unsigned long vab_reclaim_seen(struct shrinker *shrinker,
				      struct shrink_control *sc)
{
	struct vab_pressure *p = vab_shrinker_private(shrinker);

	/* The next period evaluates; a plain store, reclaim calls us often. */
	if (!READ_ONCE(p->reclaim_seen))
		WRITE_ONCE(p->reclaim_seen, true);
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
	/* Deferrable: the period never wakes an idle CPU. */
	INIT_DEFERRABLE_WORK(&p->eval_work, vab_eval_work);
	p->doorbell = virtio_has_feature(vb->vdev, VAB_F_PRESSURE_DOORBELL);
	p->has_sample = false;
	p->decline = 0;
	p->reclaim_seen = false;
	all_vm_events(p->events);

	/* Freezable: no evaluation while the guest suspends. */
	p->wq = alloc_workqueue("vab_pressure", WQ_MEM_RECLAIM | WQ_FREEZABLE,
				1);
	if (!p->wq)
		return -ENOMEM;
	err = vab_shrinker_register(&p->shrinker, vab_reclaim_seen,
				    vab_reclaim_scan, p, "virtio_autoballoon");
	if (err) {
		destroy_workqueue(p->wq);
		p->wq = NULL;
		return err;
	}

	p->debugfs = debugfs_create_dir(dev_name(&vb->vdev->dev),
					vab_debugfs_root);
	debugfs_create_file("inject_pressure", 0200, p->debugfs, vb,
			    &vab_inject_fops);
	queue_delayed_work(p->wq, &p->eval_work, 0);
	return 0;
}

void vab_pressure_exit(struct vab_balloon *vb)
{
	struct vab_pressure *p = &vb->pressure;

	debugfs_remove(p->debugfs);
	p->debugfs = NULL;
	vab_shrinker_unregister(&p->shrinker);
	/* The work re-queues itself: cancel_delayed_work_sync() stops that. */
	cancel_delayed_work_sync(&p->eval_work);
	destroy_workqueue(p->wq);
	p->wq = NULL;
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
