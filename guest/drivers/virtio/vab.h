/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio_autoballoon: internal interfaces between the balloon (balloon.c)
 * and the guest pressure detector and doorbell (pressure.c).
 */
#ifndef _VAB_H
#define _VAB_H

#include <linux/balloon_compaction.h>
#include <linux/device.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/page_reporting.h>
#include <linux/spinlock.h>
#include <linux/vmstat.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "virtio_autoballoon.h"

/* 4 KiB device units per guest page. */
#define VAB_UNITS_PER_PAGE	(1U << (PAGE_SHIFT - VAB_UNIT_SHIFT))
/*
 * Most 4 KiB units one inflate or deflate request carries: 16 MiB, eight
 * pageblocks of x86-64, so that one request takes free blocks whole (see
 * vab_inflate()) and a balloon moves in few requests: each costs a kick,
 * an interrupt and a write of actual, exits that a nested guest pays dearly
 * (bench/motion on 6.12, a run with 512-unit requests against one with
 * these: inflation 73 -> 117 MiB/s, deflation 271 -> 1080 MiB/s). The
 * buffer, 16 KiB, is allocated on its own.
 */
#define VAB_BATCH_UNITS		4096

enum vab_level_index {
	VAB_LOW,
	VAB_MEDIUM,
	VAB_CRITICAL,
};

/**
 * struct vab_pressure - guest pressure detector and doorbell state
 * @shrinker:	registered only to learn that reclaim is running; it never
 *		frees anything.
 * @reclaim_seen: set by the shrinker, cleared by the next evaluation.
 * @eval_work:	the detector, deferrable, every pressure_period_ms; it
 *		re-queues itself until vab_pressure_exit().
 * @wq:		freezable WQ_MEM_RECLAIM workqueue for @eval_work: evaluation
 *		must make progress when the guest cannot allocate a worker.
 * @events:	vm event counters read by the last evaluation.
 * @now:	scratch copy of the counters for the current evaluation.
 * @has_sample:	@avail, @balloon, @refaults and @sampled hold the last
 *		evaluation's figures (false after an idle period).
 * @avail:	available memory at the last evaluation, pages.
 * @balloon:	pages in the balloon at the last evaluation.
 * @refaults:	WORKINGSET_REFAULT_FILE at the last evaluation.
 * @sampled:	jiffies of the last evaluation.
 * @decline:	smoothed rate at which available memory fell, pages/s,
 *		what the balloon itself moved left out.
 * @report_lock: serialises reports (rate limit state and doorbell writes);
 *		a mutex because virtio config writes may sleep.
 * @last_write:	jiffies of the last report that passed the rate limit, per
 *		level; valid once @reported[level] is nonzero.
 * @doorbell:	VAB_F_PRESSURE_DOORBELL was negotiated.
 * @debugfs:	per-device debugfs directory (inject_pressure, stats).
 *
 * The sample fields are used only by @eval_work, which never runs twice
 * at once (one work item on an ordered queue).
 *
 * Counters (u64, written under @report_lock or by @eval_work only, read
 * locklessly by sysfs):
 * @detected:	levels the detector (or an injection) produced.
 * @reported:	of those, how many passed the rate limit.
 * @written:	of those, how many were written to the doorbell (0 without
 *		the feature).
 * @ratelimited: detected but dropped by the rate limit.
 * @evaluations: evaluations run (periods in which the detector was active).
 */
struct vab_pressure {
	struct vab_shrinker shrinker;
	bool reclaim_seen;
	struct delayed_work eval_work;
	struct workqueue_struct *wq;
	unsigned long events[NR_VM_EVENT_ITEMS];
	unsigned long now[NR_VM_EVENT_ITEMS];
	bool has_sample;
	unsigned long avail;
	unsigned long balloon;
	unsigned long refaults;
	unsigned long sampled;
	u64 decline;
	struct mutex report_lock;	/* see @report_lock above */
	unsigned long last_write[VAB_NR_PRESSURE_LEVELS];
	bool doorbell;
	struct dentry *debugfs;

	u64 detected[VAB_NR_PRESSURE_LEVELS];
	u64 reported[VAB_NR_PRESSURE_LEVELS];
	u64 written[VAB_NR_PRESSURE_LEVELS];
	u64 ratelimited[VAB_NR_PRESSURE_LEVELS];
	u64 evaluations;
};

/**
 * struct vab_balloon - one virtio balloon device
 * @vdev:	the device.
 * @inflate_vq, @deflate_vq, @stats_vq, @reporting_vq: virtqueues;
 *		@stats_vq is NULL without VAB_F_STATS_VQ, @reporting_vq
 *		without VAB_F_REPORTING.
 * @resize_work: follows config num_pages; delayed so that an allocation
 *		failure retries later instead of spinning.
 * @stats_work:	answers the device's request for fresh statistics.
 * @stop_lock:	protects @stopping against the config-change and stats
 *		callbacks, which queue work from interrupt context.
 * @stopping:	set at removal: no work is queued any more.
 * @started:	vab_start() succeeded and vab_stop() has not run since; a
 *		failed resume leaves it false, so removal stops nothing twice.
 * @lock:	serialises inflate, deflate and page migration; protects
 *		@pfns, @nr_pfns and @units.
 * @units:	balloon size in 4 KiB units (what @actual reports).
 * @pfns:	request buffer for the inflate and deflate queues.
 * @acked:	woken when the device returns a request buffer.
 * @pages:	balloon page list (balloon_compaction); makes balloon pages
 *		movable by compaction.
 * @oom_nb:	OOM notifier: reports critical pressure, and deflates with
 *		VAB_F_DEFLATE_ON_OOM.
 * @stat_events: vm event counters for the stats buffer.
 * @stats:	stats buffer, owned by the device while queued.
 * @pressure:	guest pressure detection and doorbell.
 * @reporting:	free page reporting, registered with VAB_F_REPORTING.
 *
 * Counters for sysfs (u64, written under @lock):
 * @inflated, @deflated: 4 KiB units moved into / out of the balloon.
 * @inflated_blocks: free blocks of 2^vab_block_order() pages inflation
 *		took whole (their units count in @inflated too).
 * @oom_deflated: 4 KiB units given back by the OOM notifier.
 * @oom_notifications: calls of the OOM notifier (global OOM only).
 * @migrated:	balloon pages moved by compaction.
 * @unreachable: pages the allocator offered for inflation above the
 *		device's 32-bit frame numbers, given back unused.
 * @reported:	4 KiB units of free memory reported to the device (written
 *		by the page reporting worker only, one report at a time).
 */
struct vab_balloon {
	struct virtio_device *vdev;
	struct virtqueue *inflate_vq;
	struct virtqueue *deflate_vq;
	struct virtqueue *stats_vq;
	struct virtqueue *reporting_vq;

	struct delayed_work resize_work;
	struct work_struct stats_work;
	spinlock_t stop_lock;		/* see @stop_lock above */
	bool stopping;
	bool started;

	struct mutex lock;		/* see @lock above */
	unsigned int units;
	unsigned int nr_pfns;
	__virtio32 *pfns;		/* VAB_BATCH_UNITS of them */
	wait_queue_head_t acked;
	struct balloon_dev_info pages;
	struct notifier_block oom_nb;

	unsigned long stat_events[NR_VM_EVENT_ITEMS];
	struct vab_stat stats[VAB_NR_STATS];

	struct vab_pressure pressure;
	struct page_reporting_dev_info reporting;

	u64 inflated;
	u64 inflated_blocks;
	u64 deflated;
	u64 oom_deflated;
	u64 oom_notifications;
	u64 migrated;
	u64 unreachable;
	u64 reported;
};

/* A read-only sysfs file showing the u64 at @offset in struct vab_balloon. */
struct vab_attr {
	struct device_attribute attr;
	size_t offset;
};

ssize_t vab_u64_show(struct device *dev, struct device_attribute *a,
		     char *buf);

#define VAB_U64_ATTR(_name, _field)					\
	struct vab_attr vab_attr_##_name = {				\
		.attr = __ATTR(_name, 0444, vab_u64_show, NULL),	\
		.offset = offsetof(struct vab_balloon, _field),		\
	}

extern struct dentry *vab_debugfs_root;

int vab_pressure_init(struct vab_balloon *vb);
void vab_pressure_exit(struct vab_balloon *vb);
void vab_pressure_report(struct vab_balloon *vb, enum vab_level_index level);

extern const struct attribute_group vab_pressure_group;
extern const struct attribute_group vab_balloon_group;

#endif /* _VAB_H */
