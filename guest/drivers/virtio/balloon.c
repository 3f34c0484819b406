// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_autoballoon: a virtio balloon driver that also tells the device
 * when the guest is under memory pressure.
 *
 * The balloon follows the device's num_pages: pages are taken from the page
 * allocator and their 4 KiB frame numbers sent on the inflate queue, or sent
 * on the deflate queue and handed back. The device always hears of a page
 * before the guest reuses it, which honours VIRTIO_BALLOON_F_MUST_TELL_HOST
 * whether or not it is negotiated. Balloon pages sit on a balloon_compaction
 * list so compaction can move them (vab_migratepage()). Without
 * DEFLATE_ON_OOM, ballooned pages leave the guest's managed page count, so
 * MemTotal shrinks by the balloon size; with it, they stay counted and the
 * OOM notifier gives some back before the OOM killer runs.
 *
 * Work items: resize_work follows num_pages, stats_work answers the stats
 * queue; both run on system_freezable_wq and are queued only while
 * !stopping. With VIRTIO_BALLOON_F_REPORTING the kernel's page reporting
 * worker hands free blocks to vab_report_free_pages(), which passes them on
 * the reporting queue. Pressure detection and the doorbell live in
 * pressure.c.
 */

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/oom.h>
#include <linux/page_reporting.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "vab.h"

/*
 * oom_pages - pages the OOM notifier takes out of the balloon per call when
 * VAB_F_DEFLATE_ON_OOM is negotiated. Unit: guest pages.
 * Default 256 (1 MiB with 4 KiB pages), range 1..65536.
 */
static unsigned int oom_pages = 256;

static int oom_pages_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, 65536);
}

static const struct kernel_param_ops oom_pages_ops = {
	.set = oom_pages_set,
	.get = param_get_uint,
};

module_param_cb(oom_pages, &oom_pages_ops, &oom_pages, 0644);
MODULE_PARM_DESC(oom_pages,
		 "Pages given back per OOM notification with DEFLATE_ON_OOM (1..65536, default 256)");

/* Wait before retrying an inflation that could not allocate. */
#define VAB_RETRY_MS	200
/*
 * Pages above the device's 32-bit frame numbers that one inflation batch
 * sets aside before it gives up (see vab_inflate()).
 */
#define VAB_UNREACHABLE_TRIES	(2 * VAB_BATCH_UNITS)
/*
 * OOM notifier priority: the same as upstream virtio_balloon's, so that
 * with both kinds of balloon in one kernel (or other notifiers that free
 * memory, at lower priorities) the order is the one upstream chose.
 */
#define VAB_OOM_NOTIFY_PRIORITY	80

static bool vab_has(struct vab_balloon *vb, unsigned int fbit)
{
	return virtio_has_feature(vb->vdev, fbit);
}

static void vab_request_done(struct virtqueue *vq)
{
	struct vab_balloon *vb = vq->vdev->priv;

	wake_up(&vb->acked);
}

/* Send vb->pfns on @vq and wait until the device has consumed them. */
static void vab_tell_device(struct vab_balloon *vb, struct virtqueue *vq)
{
	struct scatterlist sg;
	unsigned int len;
	int ret;

	lockdep_assert_held(&vb->lock);
	if (!vb->nr_pfns)
		return;
	sg_init_one(&sg, vb->pfns, sizeof(vb->pfns[0]) * vb->nr_pfns);
	vb->nr_pfns = 0;
	/*
	 * One buffer in flight per queue under vb->lock: there is room. A
	 * broken queue (-EIO: the device is going away, as at a reboot in
	 * the middle of an inflation) is no bug; its pages stay listed and
	 * go back to the guest when the driver is removed.
	 */
	ret = virtqueue_add_outbuf(vq, &sg, 1, vb, GFP_KERNEL);
	if (ret) {
		WARN_ON_ONCE(ret != -EIO);
		return;
	}
	virtqueue_kick(vq);
	wait_event(vb->acked, virtqueue_get_buf(vq, &len));
}

/* Balloon frame numbers count 4 KiB units and are 32 bits wide. */
static bool vab_page_addressable(struct page *page)
{
	u64 first = (u64)page_to_pfn(page) << (PAGE_SHIFT - VAB_UNIT_SHIFT);

	return first + VAB_UNITS_PER_PAGE - 1 <= U32_MAX;
}

static void vab_add_page(struct vab_balloon *vb, struct page *page)
{
	u32 first = page_to_pfn(page) << (PAGE_SHIFT - VAB_UNIT_SHIFT);
	unsigned int i;

	for (i = 0; i < VAB_UNITS_PER_PAGE; i++)
		vb->pfns[vb->nr_pfns++] = cpu_to_virtio32(vb->vdev, first + i);
}

static void vab_update_actual(struct vab_balloon *vb)
{
	u32 actual;

	/* Under the lock, so that writes reach the device in size order. */
	mutex_lock(&vb->lock);
	actual = vb->units;
	virtio_cwrite_le(vb->vdev, struct vab_config, actual, &actual);
	mutex_unlock(&vb->lock);
}

/* Units the balloon should grow by (> 0) or shrink by (< 0). */
static s64 vab_towards_target(struct vab_balloon *vb)
{
	u64 target;
	u32 num_pages;

	virtio_cread_le(vb->vdev, struct vab_config, num_pages, &num_pages);
	/* Whole guest pages, and no more than @units can count. */
	target = min_t(u64, ALIGN((u64)num_pages, VAB_UNITS_PER_PAGE),
		       rounddown(U32_MAX, VAB_UNITS_PER_PAGE));
	return (s64)target - READ_ONCE(vb->units);
}

/* Why an inflation batch ended. */
enum vab_fill {
	VAB_FILL_DONE,		/* got what it asked for */
	VAB_FILL_STARVED,	/* the page allocator ran dry: retry later */
	VAB_FILL_UNREACHABLE,	/* only pages the device cannot address */
};

/*
 * The order of the free blocks inflation takes whole: a pageblock (2 MiB on
 * x86-64), or less where a pageblock is more than one request carries.
 */
static unsigned int vab_block_order(void)
{
	unsigned int order = pageblock_order;

	while (order && (VAB_UNITS_PER_PAGE << order) > VAB_BATCH_UNITS)
		order--;
	return order;
}

/*
 * A free block of 2^@order pages, split into single pages for the balloon,
 * or NULL when the allocator has none free: no reclaim, no compaction and
 * no kswapd for it, that is what the single pages are for.
 */
static struct page *vab_alloc_block(unsigned int order)
{
	gfp_t gfp = (balloon_mapping_gfp_mask() | __GFP_NOMEMALLOC |
		     __GFP_NORETRY | __GFP_NOWARN) & ~__GFP_RECLAIM;
	struct page *page = alloc_pages(gfp, order);

	if (page)
		split_page(page, order);
	return page;
}

/*
 * Move up to @units 4 KiB units into the balloon. Returns the units moved;
 * *@end says why the batch ended.
 *
 * While the allocator has whole free blocks (vab_block_order()), the
 * balloon takes them whole, and single pages only after that. A balloon
 * taken page by page cuts the guest's free blocks apart: its huge pages
 * (the guest's transparent huge pages, the host's that back it, whose 4 KiB
 * discards split them) and free page reporting, which reports whole blocks
 * only, then lose them for as long as the balloon holds the pages.
 *
 * Balloon frame numbers are 32 bits wide (16 TiB of 4 KiB units). A page
 * above that limit is set aside rather than put back at once, where the
 * allocator would hand out the same page again, and the batch goes on with
 * the next one; the pages set aside return to the allocator when the batch
 * is done. After VAB_UNREACHABLE_TRIES of them in one batch the allocator
 * is taken to have nothing addressable left. A block above the limit ends
 * the taking of blocks for the batch.
 */
static unsigned int vab_inflate(struct vab_balloon *vb, unsigned int units,
				enum vab_fill *end)
{
	unsigned int nr = min(units, VAB_BATCH_UNITS) / VAB_UNITS_PER_PAGE;
	bool keep_count = vab_has(vb, VAB_F_DEFLATE_ON_OOM);
	unsigned int order = vab_block_order(), block = 1U << order;
	unsigned int got = 0, skipped = 0, blocks = 0, i;
	struct page *page, *next;
	bool whole = order > 0;
	LIST_HEAD(unreachable);
	LIST_HEAD(batch);

	*end = VAB_FILL_DONE;
	while (got < nr) {
		if (whole && nr - got >= block) {
			page = vab_alloc_block(order);
			if (page && vab_page_addressable(page + block - 1)) {
				for (i = 0; i < block; i++)
					balloon_page_push(&batch, page + i);
				got += block;
				blocks++;
				continue;
			}
			if (page)
				for (i = 0; i < block; i++)
					__free_page(page + i);
			whole = false;
		}
		page = balloon_page_alloc();
		if (!page) {
			*end = VAB_FILL_STARVED;
			break;
		}
		if (!vab_page_addressable(page)) {
			list_add(&page->lru, &unreachable);
			if (++skipped >= VAB_UNREACHABLE_TRIES) {
				*end = VAB_FILL_UNREACHABLE;
				break;
			}
			continue;
		}
		balloon_page_push(&batch, page);
		got++;
	}
	list_for_each_entry_safe(page, next, &unreachable, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
	if (skipped) {
		mutex_lock(&vb->lock);
		vb->unreachable += skipped;
		mutex_unlock(&vb->lock);
	}
	if (!got)
		return 0;

	mutex_lock(&vb->lock);
	list_for_each_entry_safe(page, next, &batch, lru) {
		vab_add_page(vb, page);
		if (!keep_count)
			adjust_managed_page_count(page, -1);
	}
	balloon_page_list_enqueue(&vb->pages, &batch);
	vab_tell_device(vb, vb->inflate_vq);
	vb->units += got * VAB_UNITS_PER_PAGE;
	vb->inflated += got * VAB_UNITS_PER_PAGE;
	vb->inflated_blocks += blocks;
	mutex_unlock(&vb->lock);
	return got * VAB_UNITS_PER_PAGE;
}

/* Give up to @units 4 KiB units back to the guest. Returns units freed. */
static unsigned int vab_deflate(struct vab_balloon *vb, unsigned int units)
{
	unsigned int nr = min(units, VAB_BATCH_UNITS) / VAB_UNITS_PER_PAGE;
	bool keep_count = vab_has(vb, VAB_F_DEFLATE_ON_OOM);
	struct page *page, *next;
	LIST_HEAD(batch);
	size_t got;

	mutex_lock(&vb->lock);
	got = balloon_page_list_dequeue(&vb->pages, &batch, nr);
	list_for_each_entry(page, &batch, lru)
		vab_add_page(vb, page);
	/* The device hears of every page before the guest reuses it. */
	vab_tell_device(vb, vb->deflate_vq);
	vb->units -= got * VAB_UNITS_PER_PAGE;
	vb->deflated += got * VAB_UNITS_PER_PAGE;
	mutex_unlock(&vb->lock);

	list_for_each_entry_safe(page, next, &batch, lru) {
		list_del(&page->lru);
		if (!keep_count)
			adjust_managed_page_count(page, 1);
		put_page(page);
	}
	return got * VAB_UNITS_PER_PAGE;
}

static void vab_resize_work(struct work_struct *work)
{
	struct vab_balloon *vb = container_of(to_delayed_work(work),
					      struct vab_balloon, resize_work);
	enum vab_fill end = VAB_FILL_DONE;
	unsigned long delay = 0;
	unsigned int moved;
	s64 diff;

	diff = vab_towards_target(vb);
	if (!diff)
		return;
	if (diff > 0) {
		moved = vab_inflate(vb, min_t(s64, diff, U32_MAX), &end);
		diff -= moved;
		if (end == VAB_FILL_STARVED)
			delay = msecs_to_jiffies(VAB_RETRY_MS);
		/*
		 * Nothing the device can address is left to take: waiting
		 * will not change that, a new target (config change) may.
		 */
		if (end == VAB_FILL_UNREACHABLE && !moved) {
			dev_warn_once(&vb->vdev->dev,
				      "no free page below the 32-bit frame limit: balloon stays at %u units\n",
				      READ_ONCE(vb->units));
			diff = 0;
		}
	} else {
		moved = vab_deflate(vb, min_t(s64, -diff, U32_MAX));
		diff += moved;
		/* Pages isolated by compaction come back shortly. */
		if (!moved)
			delay = 1;
	}
	vab_update_actual(vb);

	if (diff) {
		spin_lock_irq(&vb->stop_lock);
		if (!vb->stopping)
			queue_delayed_work(system_freezable_wq,
					   &vb->resize_work, delay);
		spin_unlock_irq(&vb->stop_lock);
	}
}

static void vab_config_changed(struct virtio_device *vdev)
{
	struct vab_balloon *vb = vdev->priv;
	unsigned long flags;

	spin_lock_irqsave(&vb->stop_lock, flags);
	if (!vb->stopping)
		mod_delayed_work(system_freezable_wq, &vb->resize_work, 0);
	spin_unlock_irqrestore(&vb->stop_lock, flags);
}

/*
 * Compaction moves a balloon page: @newpage enters the balloon, @page
 * leaves it. Called with both pages locked and @page isolated.
 */
static int vab_migratepage(struct balloon_dev_info *info, struct page *newpage,
			   struct page *page, enum migrate_mode mode)
{
	struct vab_balloon *vb = container_of(info, struct vab_balloon, pages);
	unsigned long flags;

	if (!vab_page_addressable(newpage))
		return -EBUSY;
	/* Inflate or deflate in progress: compaction tries again later. */
	if (!mutex_trylock(&vb->lock))
		return -EAGAIN;

	get_page(newpage);	/* the balloon's reference */
	if (!vab_has(vb, VAB_F_DEFLATE_ON_OOM) &&
	    page_zone(page) != page_zone(newpage)) {
		adjust_managed_page_count(page, 1);
		adjust_managed_page_count(newpage, -1);
	}

	spin_lock_irqsave(&info->pages_lock, flags);
	balloon_page_insert(info, newpage);
	info->isolated_pages--;
	__count_vm_event(BALLOON_MIGRATE);
	spin_unlock_irqrestore(&info->pages_lock, flags);

	vab_add_page(vb, newpage);
	vab_tell_device(vb, vb->inflate_vq);
	vab_add_page(vb, page);
	vab_tell_device(vb, vb->deflate_vq);
	vb->migrated++;
	mutex_unlock(&vb->lock);

	balloon_page_finalize(page);
	put_page(page);		/* drop the balloon's reference */
	return MIGRATEPAGE_SUCCESS;
}

static void vab_set_stat(struct vab_balloon *vb, struct vab_stat *out,
			 unsigned int *n, enum vab_stat_tag tag, u64 val)
{
	out[*n].tag = cpu_to_virtio16(vb->vdev, tag);
	out[*n].val = cpu_to_virtio64(vb->vdev, val);
	(*n)++;
}

static u64 vab_bytes(unsigned long pages)
{
	return (u64)pages << PAGE_SHIFT;
}

/*
 * Fill @out (VAB_NR_STATS entries) with fresh figures, every standard tag
 * in the specification's unit (see vab_stat_tag); @ev is scratch space for
 * NR_VM_EVENT_ITEMS counters. Returns the number of entries.
 */
static unsigned int vab_fill_stats(struct vab_balloon *vb,
				   struct vab_stat *out, unsigned long *ev)
{
	unsigned long stalls = 0;
	unsigned int n = 0;
	struct sysinfo si;
	int zid;

	all_vm_events(ev);
	si_meminfo(&si);
	for (zid = 0; zid < MAX_NR_ZONES; zid++)
		stalls += ev[ALLOCSTALL_NORMAL - ZONE_NORMAL + zid];

	vab_set_stat(vb, out, &n, VAB_STAT_SWAP_IN, vab_bytes(ev[PSWPIN]));
	vab_set_stat(vb, out, &n, VAB_STAT_SWAP_OUT, vab_bytes(ev[PSWPOUT]));
	vab_set_stat(vb, out, &n, VAB_STAT_MAJFLT, ev[PGMAJFAULT]);
	vab_set_stat(vb, out, &n, VAB_STAT_MINFLT, ev[PGFAULT]);
	vab_set_stat(vb, out, &n, VAB_STAT_MEMFREE, vab_bytes(si.freeram));
	vab_set_stat(vb, out, &n, VAB_STAT_MEMTOT, vab_bytes(si.totalram));
	vab_set_stat(vb, out, &n, VAB_STAT_AVAIL,
		     vab_bytes(si_mem_available()));
	vab_set_stat(vb, out, &n, VAB_STAT_CACHES,
		     vab_bytes(global_node_page_state(NR_FILE_PAGES)));
#ifdef CONFIG_HUGETLB_PAGE
	vab_set_stat(vb, out, &n, VAB_STAT_HTLB_PGALLOC,
		     ev[HTLB_BUDDY_PGALLOC]);
	vab_set_stat(vb, out, &n, VAB_STAT_HTLB_PGFAIL,
		     ev[HTLB_BUDDY_PGALLOC_FAIL]);
#endif
	vab_set_stat(vb, out, &n, VAB_STAT_OOM_KILL, ev[OOM_KILL]);
	vab_set_stat(vb, out, &n, VAB_STAT_ALLOC_STALL, stalls);
	vab_set_stat(vb, out, &n, VAB_STAT_ASYNC_SCAN,
		     vab_bytes(ev[PGSCAN_KSWAPD]));
	vab_set_stat(vb, out, &n, VAB_STAT_DIRECT_SCAN,
		     vab_bytes(ev[PGSCAN_DIRECT]));
	vab_set_stat(vb, out, &n, VAB_STAT_ASYNC_RECLAIM,
		     vab_bytes(ev[PGSTEAL_KSWAPD]));
	vab_set_stat(vb, out, &n, VAB_STAT_DIRECT_RECLAIM,
		     vab_bytes(ev[PGSTEAL_DIRECT]));
	vab_set_stat(vb, out, &n, VAB_STAT_COMMITTED,
		     vab_bytes(vm_memory_committed()));
	return n;
}

/* Hand the stats buffer to the device; it returns it to ask for more. */
static void vab_queue_stats(struct vab_balloon *vb)
{
	struct scatterlist sg;
	unsigned int n;

	n = vab_fill_stats(vb, vb->stats, vb->stat_events);
	sg_init_one(&sg, vb->stats, sizeof(vb->stats[0]) * n);
	if (WARN_ON_ONCE(virtqueue_add_outbuf(vb->stats_vq, &sg, 1, vb,
					      GFP_KERNEL)))
		return;
	virtqueue_kick(vb->stats_vq);
}

static void vab_stats_work(struct work_struct *work)
{
	struct vab_balloon *vb = container_of(work, struct vab_balloon,
					      stats_work);
	unsigned int len;

	if (!virtqueue_get_buf(vb->stats_vq, &len))
		return;
	vab_queue_stats(vb);
}

/*
 * debugfs stats (root, read-only): a fresh fill of the stats buffer, one
 * "tag value" line per entry in host byte order, the way the device would
 * read it now. For tests of the tags the device (QEMU 7.2) does not show.
 */
static int vab_stats_show(struct seq_file *m, void *unused)
{
	struct vab_balloon *vb = m->private;
	struct vab_stat *out;
	unsigned long *ev;
	unsigned int i, n;

	out = kcalloc(VAB_NR_STATS, sizeof(*out), GFP_KERNEL);
	ev = kcalloc(NR_VM_EVENT_ITEMS, sizeof(*ev), GFP_KERNEL);
	if (!out || !ev) {
		kfree(out);
		kfree(ev);
		return -ENOMEM;
	}
	n = vab_fill_stats(vb, out, ev);
	for (i = 0; i < n; i++)
		seq_printf(m, "%u %llu\n", virtio16_to_cpu(vb->vdev, out[i].tag),
			   virtio64_to_cpu(vb->vdev, out[i].val));
	kfree(out);
	kfree(ev);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vab_stats);

static void vab_stats_request(struct virtqueue *vq)
{
	struct vab_balloon *vb = vq->vdev->priv;
	unsigned long flags;

	spin_lock_irqsave(&vb->stop_lock, flags);
	if (!vb->stopping)
		queue_work(system_freezable_wq, &vb->stats_work);
	spin_unlock_irqrestore(&vb->stop_lock, flags);
}

static int vab_oom_notify(struct notifier_block *nb, unsigned long unused,
			  void *arg)
{
	struct vab_balloon *vb = container_of(nb, struct vab_balloon, oom_nb);
	unsigned long *freed = arg;
	unsigned int want, units, moved;

	vab_pressure_report(vb, VAB_CRITICAL);
	mutex_lock(&vb->lock);
	vb->oom_notifications++;
	mutex_unlock(&vb->lock);
	if (!vab_has(vb, VAB_F_DEFLATE_ON_OOM))
		return NOTIFY_OK;

	/* vab_deflate() moves at most one batch per call. */
	want = READ_ONCE(oom_pages) * VAB_UNITS_PER_PAGE;
	for (units = 0; units < want; units += moved) {
		moved = vab_deflate(vb, want - units);
		if (!moved)
			break;
	}
	*freed += units / VAB_UNITS_PER_PAGE;
	mutex_lock(&vb->lock);
	vb->oom_deflated += units;
	mutex_unlock(&vb->lock);
	vab_update_actual(vb);
	return NOTIFY_OK;
}

/*
 * Queues whose feature is not negotiated get no name: the transport then
 * skips them and gives the next queue the next index, which is how the
 * device numbers them too.
 */
static int vab_init_vqs(struct vab_balloon *vb)
{
	vq_callback_t *callbacks[VAB_NR_VQS] = {
		[VAB_VQ_INFLATE] = vab_request_done,
		[VAB_VQ_DEFLATE] = vab_request_done,
		[VAB_VQ_STATS] = vab_stats_request,
		[VAB_VQ_REPORTING] = vab_request_done,
	};
	const char *names[VAB_NR_VQS] = {
		[VAB_VQ_INFLATE] = "inflate",
		[VAB_VQ_DEFLATE] = "deflate",
	};
	struct virtqueue *vqs[VAB_NR_VQS] = {};
	int err;

	if (vab_has(vb, VAB_F_STATS_VQ))
		names[VAB_VQ_STATS] = "stats";
	if (vab_has(vb, VAB_F_REPORTING))
		names[VAB_VQ_REPORTING] = "reporting";
	err = vab_find_vqs(vb->vdev, VAB_NR_VQS, vqs, callbacks, names);
	if (err)
		return err;
	vb->inflate_vq = vqs[VAB_VQ_INFLATE];
	vb->deflate_vq = vqs[VAB_VQ_DEFLATE];
	vb->stats_vq = vqs[VAB_VQ_STATS];
	vb->reporting_vq = vqs[VAB_VQ_REPORTING];
	return 0;
}

/*
 * Free page reporting: @sg lists free pages of at least the reporting
 * order that the page allocator holds back while we run. The device drops
 * their backing (QEMU discards the host pages), and the guest's next touch
 * of such a page faults in a zeroed one on the host side.
 */
static int vab_report_free_pages(struct page_reporting_dev_info *pr,
				 struct scatterlist *sg, unsigned int nents)
{
	struct vab_balloon *vb = container_of(pr, struct vab_balloon,
					      reporting);
	struct virtqueue *vq = vb->reporting_vq;
	struct scatterlist *s;
	unsigned int len, i;
	u64 bytes = 0;
	int err;

	/* One report in flight at a time: the queue is empty here. */
	err = virtqueue_add_inbuf(vq, sg, nents, vb, GFP_NOWAIT | __GFP_NOWARN);
	if (WARN_ON_ONCE(err))
		return err;
	virtqueue_kick(vq);
	wait_event(vb->acked, virtqueue_get_buf(vq, &len));

	for_each_sg(sg, s, nents, i)
		bytes += s->length;
	WRITE_ONCE(vb->reported, vb->reported + (bytes >> VAB_UNIT_SHIFT));
	return 0;
}

static int vab_validate(struct virtio_device *vdev)
{
	/*
	 * A device that drops reported pages hands them back zeroed. A guest
	 * that poisons free pages, or initialises them when they are freed,
	 * expects them to keep that pattern; upstream then reports only to a
	 * device that was told the pattern (VIRTIO_BALLOON_F_PAGE_POISON).
	 * This driver does not negotiate that feature, so it reports only
	 * when free pages carry no pattern at all.
	 */
	if (want_init_on_free() || page_poisoning_enabled_static())
		__virtio_clear_bit(vdev, VAB_F_REPORTING);
	/*
	 * Balloon frame numbers are guest-physical, never DMA addresses: an
	 * IOMMU between driver and device would make them meaningless.
	 */
	__virtio_clear_bit(vdev, VIRTIO_F_ACCESS_PLATFORM);
	/*
	 * A KVM ioeventfd can only match the doorbell as one 32-bit write;
	 * the legacy interface writes config space a byte at a time.
	 */
	if (!virtio_has_feature(vdev, VIRTIO_F_VERSION_1))
		__virtio_clear_bit(vdev, VAB_F_PRESSURE_DOORBELL);
	return 0;
}

static void vab_stop_work(struct vab_balloon *vb)
{
	spin_lock_irq(&vb->stop_lock);
	vb->stopping = true;
	spin_unlock_irq(&vb->stop_lock);
	cancel_delayed_work_sync(&vb->resize_work);
	cancel_work_sync(&vb->stats_work);
}

/* Bring the device up: queues, DRIVER_OK, then the pressure sources. */
static int vab_start(struct vab_balloon *vb)
{
	struct virtio_device *vdev = vb->vdev;
	int err;

	err = vab_init_vqs(vb);
	if (err)
		return err;

	vb->stopping = false;
	virtio_device_ready(vdev);
	if (vb->stats_vq)
		vab_queue_stats(vb);

	/* Pressure reports may write config: only after DRIVER_OK. */
	err = vab_pressure_init(vb);
	if (err)
		goto err_reset;

	debugfs_create_file("stats", 0400, vb->pressure.debugfs, vb,
			    &vab_stats_fops);

	vb->oom_nb.notifier_call = vab_oom_notify;
	vb->oom_nb.priority = VAB_OOM_NOTIFY_PRIORITY;
	err = register_oom_notifier(&vb->oom_nb);
	if (err)
		goto err_pressure;

	if (vb->reporting_vq) {
		/* Order 0: the page allocator's default, pageblock_order. */
		vb->reporting.report = vab_report_free_pages;
		vb->reporting.order = 0;
		/* -EBUSY: another device (one per kernel) reports already. */
		err = page_reporting_register(&vb->reporting);
		if (err)
			goto err_oom;
	}

	if (vab_towards_target(vb))
		queue_delayed_work(system_freezable_wq, &vb->resize_work, 0);
	vb->started = true;
	return 0;

err_oom:
	unregister_oom_notifier(&vb->oom_nb);
err_pressure:
	vab_pressure_exit(vb);
err_reset:
	virtio_reset_device(vdev);
	vab_stop_work(vb);
	vdev->config->del_vqs(vdev);
	return err;
}

/*
 * The reverse of vab_start(), giving every ballooned page back first. A
 * device whose vab_start() failed (at resume) has nothing left to stop.
 */
static void vab_stop(struct vab_balloon *vb)
{
	if (!vb->started)
		return;
	vb->started = false;
	/* Waits for a report in flight, which the device still answers. */
	if (vb->reporting_vq)
		page_reporting_unregister(&vb->reporting);
	unregister_oom_notifier(&vb->oom_nb);
	vab_pressure_exit(vb);
	vab_stop_work(vb);

	while (READ_ONCE(vb->units)) {
		if (!vab_deflate(vb, READ_ONCE(vb->units)))
			msleep(20);	/* pages isolated by compaction */
	}
	vab_update_actual(vb);

	virtio_reset_device(vb->vdev);
	vb->vdev->config->del_vqs(vb->vdev);
}

static int vab_probe(struct virtio_device *vdev)
{
	struct vab_balloon *vb;
	int err;

	if (!vdev->config->get) {
		dev_err(&vdev->dev, "device has no config space\n");
		return -EINVAL;
	}

	vb = kzalloc(sizeof(*vb), GFP_KERNEL);
	if (!vb)
		return -ENOMEM;
	vb->pfns = kmalloc_array(VAB_BATCH_UNITS, sizeof(*vb->pfns),
				 GFP_KERNEL);
	if (!vb->pfns) {
		kfree(vb);
		return -ENOMEM;
	}
	vdev->priv = vb;
	vb->vdev = vdev;
	INIT_DELAYED_WORK(&vb->resize_work, vab_resize_work);
	INIT_WORK(&vb->stats_work, vab_stats_work);
	spin_lock_init(&vb->stop_lock);
	mutex_init(&vb->lock);
	init_waitqueue_head(&vb->acked);
	balloon_devinfo_init(&vb->pages);
	if (IS_ENABLED(CONFIG_BALLOON_COMPACTION))
		vb->pages.migratepage = vab_migratepage;

	err = vab_start(vb);
	if (err) {
		kfree(vb->pfns);
		kfree(vb);
	}
	return err;
}

static void vab_remove(struct virtio_device *vdev)
{
	struct vab_balloon *vb = vdev->priv;

	vab_stop(vb);
	kfree(vb->pfns);
	kfree(vb);
}

/*
 * Suspend: like removal, the balloon is emptied and the device reset; on
 * resume the device asks again for the size it wants.
 */
static int __maybe_unused vab_freeze(struct virtio_device *vdev)
{
	vab_stop(vdev->priv);
	return 0;
}

static int __maybe_unused vab_restore(struct virtio_device *vdev)
{
	return vab_start(vdev->priv);
}

/* sysfs: /sys/bus/virtio/devices/virtioN/balloon/ */
ssize_t vab_u64_show(struct device *dev, struct device_attribute *a, char *buf)
{
	struct vab_balloon *vb = dev_to_virtio(dev)->priv;
	const struct vab_attr *va = container_of(a, struct vab_attr, attr);

	return sysfs_emit(buf, "%llu\n",
			  READ_ONCE(*(u64 *)((char *)vb + va->offset)));
}

static ssize_t units_show(struct device *dev, struct device_attribute *a,
			  char *buf)
{
	struct vab_balloon *vb = dev_to_virtio(dev)->priv;

	return sysfs_emit(buf, "%u\n", READ_ONCE(vb->units));
}
static DEVICE_ATTR_RO(units);

static VAB_U64_ATTR(inflated, inflated);
static VAB_U64_ATTR(inflated_blocks, inflated_blocks);
static VAB_U64_ATTR(deflated, deflated);
static VAB_U64_ATTR(oom_deflated, oom_deflated);
static VAB_U64_ATTR(oom_notifications, oom_notifications);
static VAB_U64_ATTR(migrated, migrated);
static VAB_U64_ATTR(unreachable, unreachable);
static VAB_U64_ATTR(reported, reported);

static struct attribute *vab_balloon_attrs[] = {
	&dev_attr_units.attr,
	&vab_attr_inflated.attr.attr,
	&vab_attr_inflated_blocks.attr.attr,
	&vab_attr_deflated.attr.attr,
	&vab_attr_oom_deflated.attr.attr,
	&vab_attr_oom_notifications.attr.attr,
	&vab_attr_migrated.attr.attr,
	&vab_attr_unreachable.attr.attr,
	&vab_attr_reported.attr.attr,
	NULL
};

const struct attribute_group vab_balloon_group = {
	.name = "balloon",
	.attrs = vab_balloon_attrs,
};

static const struct attribute_group *vab_groups[] = {
	&vab_balloon_group,
	&vab_pressure_group,
	NULL
};

static const struct virtio_device_id vab_id_table[] = {
	{ VIRTIO_ID_BALLOON, VIRTIO_DEV_ANY_ID },
	{ 0 },
};
MODULE_DEVICE_TABLE(virtio, vab_id_table);

static unsigned int vab_features[] = {
	VAB_F_MUST_TELL_HOST,
	VAB_F_STATS_VQ,
	VAB_F_DEFLATE_ON_OOM,
	VAB_F_REPORTING,
	VAB_F_PRESSURE_DOORBELL,
};

static struct virtio_driver vab_driver = {
	.driver.name = KBUILD_MODNAME,
	.driver.owner = THIS_MODULE,
	.driver.dev_groups = vab_groups,
	.id_table = vab_id_table,
	.feature_table = vab_features,
	.feature_table_size = ARRAY_SIZE(vab_features),
	.validate = vab_validate,
	.probe = vab_probe,
	.remove = vab_remove,
	.config_changed = vab_config_changed,
#ifdef CONFIG_PM_SLEEP
	.freeze = vab_freeze,
	.restore = vab_restore,
#endif
};

struct dentry *vab_debugfs_root;

static int __init vab_init(void)
{
	int err;

	vab_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	err = register_virtio_driver(&vab_driver);
	if (err)
		debugfs_remove(vab_debugfs_root);
	return err;
}
module_init(vab_init);

static void __exit vab_exit(void)
{
	unregister_virtio_driver(&vab_driver);
	debugfs_remove(vab_debugfs_root);
}
module_exit(vab_exit);

MODULE_DESCRIPTION("Virtio balloon driver with a guest pressure doorbell");
MODULE_LICENSE("GPL");
