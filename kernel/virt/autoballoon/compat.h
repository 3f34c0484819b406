/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels kvm_autoballoon builds against (Debian 12:
 * 6.1 and 6.12). The KAB_* feature macros come from the feature tests in
 * Kbuild; nothing else in the module tests kernel versions.
 */
#ifndef _KAB_COMPAT_H
#define _KAB_COMPAT_H

#include <linux/eventfd.h>

/* 6.8 dropped the count argument of eventfd_signal(); it always adds 1. */
static inline void kab_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef KAB_EVENTFD_SIGNAL_NO_COUNT
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

#endif /* _KAB_COMPAT_H */
