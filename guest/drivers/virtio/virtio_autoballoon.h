/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio balloon device as virtio_autoballoon drives it: feature bits,
 * the device configuration layout and the statistics tags. Everything here
 * is device ABI, shared with the device (QEMU) and the specification text in
 * Documentation/virt/kvm/autoballoon.rst, section "Guest pressure doorbell".
 *
 * Balloon sizes and frame numbers are in 4 KiB units, whatever the guest's
 * page size; sizes in the statistics are in bytes, and free page reports
 * carry guest-physical addresses and lengths in bytes. Configuration fields
 * are little-endian (the balloon device is little-endian even through the
 * legacy interface).
 */
#ifndef _VIRTIO_AUTOBALLOON_H
#define _VIRTIO_AUTOBALLOON_H

#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/types.h>
#include <linux/virtio_types.h>

/* The device's unit of memory. */
#define VAB_UNIT_SHIFT		12

/* Feature bits of the balloon device that this driver negotiates. */
#define VAB_F_MUST_TELL_HOST	0	/* tell before reusing deflated pages */
#define VAB_F_STATS_VQ		1	/* memory statistics virtqueue */
#define VAB_F_DEFLATE_ON_OOM	2	/* give pages back when the guest OOMs */
#define VAB_F_REPORTING		5	/* free page reporting virtqueue */
/*
 * Guest pressure doorbell: the driver writes a pressure level to
 * struct vab_config.pressure_level. Bit 23 is the last bit of the
 * device-specific range 0..23 that every virtio implementation honours
 * (bits 24..49 belong to the transport and queue negotiation). Bits 0..5 are
 * standard; the Google working-set proposal and crosvm took 6, 7 and 8, and
 * StratoVirt 16. Further upstream allocations grow upwards from 6, so the top
 * of the range is the least likely to collide.
 */
#define VAB_F_PRESSURE_DOORBELL	23

/**
 * struct vab_config - device configuration space
 * @num_pages:		device to driver: requested balloon size, 4 KiB units.
 * @actual:		driver to device: current balloon size, 4 KiB units.
 * @hint_cmd_id:	free page hinting command (VIRTIO_BALLOON_F_FREE_PAGE_HINT,
 *			feature 3); not used by this driver.
 * @poison_val:		page poison value (feature 4); not used by this driver.
 * @working_set:	not ours: crosvm's working-set reporting (its feature
 *			8) and the 2023 working-set RFC keep a field here. It
 *			reads 0 on our device and the driver never writes it.
 * @pressure_level:	driver to device, with VAB_F_PRESSURE_DOORBELL only: a
 *			guest memory pressure notification, one of
 *			VAB_PRESSURE_LOW..VAB_PRESSURE_CRITICAL. Every write is
 *			one notification; the value reads back as unspecified.
 *
 * The layout is fixed: @pressure_level sits at offset 20 whether or not the
 * features that own the fields before it are negotiated (see the virtio
 * spec text in Documentation/virt/kvm/autoballoon.rst for why not 16).
 */
struct vab_config {
	__le32 num_pages;
	__le32 actual;
	__le32 hint_cmd_id;
	__le32 poison_val;
	__le32 working_set;
	__le32 pressure_level;
};

#define VAB_CONFIG_PRESSURE_OFFSET	20
static_assert(offsetof(struct vab_config, pressure_level) ==
	      VAB_CONFIG_PRESSURE_OFFSET);

/* Values of vab_config.pressure_level, the levels of vmpressure. */
#define VAB_PRESSURE_LOW	1	/* reclaiming, available memory low */
#define VAB_PRESSURE_MEDIUM	2	/* allocations stall in direct reclaim */
#define VAB_PRESSURE_CRITICAL	3	/* about to OOM, or OOM-killing */
#define VAB_NR_PRESSURE_LEVELS	3

/*
 * Virtqueues, in the order of the specification. A queue exists only with
 * its feature, and, as Linux transports and QEMU number them, an absent
 * queue takes no index: with VAB_F_STATS_VQ and VAB_F_REPORTING but
 * without free page hinting (feature 3, which this driver does not use),
 * the reporting queue has index 3.
 */
#define VAB_VQ_INFLATE		0
#define VAB_VQ_DEFLATE		1
#define VAB_VQ_STATS		2	/* with VAB_F_STATS_VQ */
#define VAB_VQ_REPORTING	3	/* with VAB_F_REPORTING */
#define VAB_NR_VQS		4

/*
 * Tags of the statistics the driver reports on the stats virtqueue, with
 * the specification's unit for each: sizes in bytes, events as counts.
 * Tags 0..15 are the standard ones (virtio 1.3, and Linux's
 * VIRTIO_BALLOON_S_*; 6.1 knows 0..9, 6.12 all 16).
 */
enum vab_stat_tag {
	VAB_STAT_SWAP_IN = 0,		/* bytes swapped in */
	VAB_STAT_SWAP_OUT = 1,		/* bytes swapped out */
	VAB_STAT_MAJFLT = 2,		/* major page faults, count */
	VAB_STAT_MINFLT = 3,		/* minor page faults, count */
	VAB_STAT_MEMFREE = 4,		/* free memory, bytes */
	VAB_STAT_MEMTOT = 5,		/* total memory, bytes */
	VAB_STAT_AVAIL = 6,		/* available memory estimate, bytes */
	VAB_STAT_CACHES = 7,		/* file-backed page cache, bytes */
	VAB_STAT_HTLB_PGALLOC = 8,	/* hugetlb page allocations, count */
	VAB_STAT_HTLB_PGFAIL = 9,	/* hugetlb allocation failures, count */
	VAB_STAT_OOM_KILL = 10,		/* OOM kills, count */
	VAB_STAT_ALLOC_STALL = 11,	/* allocations that entered direct
					 * reclaim, count
					 */
	VAB_STAT_ASYNC_SCAN = 12,	/* bytes scanned by kswapd */
	VAB_STAT_DIRECT_SCAN = 13,	/* bytes scanned by direct reclaim */
	VAB_STAT_ASYNC_RECLAIM = 14,	/* bytes reclaimed by kswapd */
	VAB_STAT_DIRECT_RECLAIM = 15,	/* bytes reclaimed by direct reclaim */
	VAB_NR_STD_STATS,
	/*
	 * Committed memory (Committed_AS in /proc/meminfo: what every
	 * process's private writable mappings could grow to), bytes. Our
	 * own tag, far above the standard ones so that future standard tags
	 * (allocated upwards from 16) do not meet it. The specification
	 * requires a device to ignore entries with a tag it does not
	 * recognise (Debian's QEMU 7.2 keeps only tags below its
	 * VIRTIO_BALLOON_S_NR), so a device that does not know it loses
	 * nothing.
	 */
	VAB_STAT_COMMITTED = 0x8000,
};

/* Entries in one stats buffer: the standard tags and VAB_STAT_COMMITTED. */
#define VAB_NR_STATS		(VAB_NR_STD_STATS + 1)

/**
 * struct vab_stat - one entry of the stats buffer
 * @tag:	enum vab_stat_tag.
 * @val:	its value.
 *
 * Entries are packed back to back, 10 bytes each, in the byte order of the
 * virtio transport (little-endian for virtio 1.0 devices).
 */
struct vab_stat {
	__virtio16 tag;
	__virtio64 val;
} __packed;

static_assert(sizeof(struct vab_stat) == 10);

#endif /* _VIRTIO_AUTOBALLOON_H */
