// SPDX-License-Identifier: GPL-2.0
/*
 * The positive control of make check-debug's kmemleak check: a module
 * that allocates one object at load and forgets it. run-vm.sh
 * --debug-checks must fail the run that loads it.
 */
#include <linux/module.h>
#include <linux/slab.h>

static int __init kab_leak_init(void)
{
	void *p = kmalloc(1024, GFP_KERNEL);

	/* No reference to it is kept: the report shows 1024 bytes, insmod. */
	if (!p)
		return -ENOMEM;
	pr_info("kab_leak: one object of 1024 bytes leaked on purpose\n");
	return 0;
}

static void __exit kab_leak_exit(void)
{
}

module_init(kab_leak_init);
module_exit(kab_leak_exit);
MODULE_DESCRIPTION("kmemleak positive control for make check-debug");
MODULE_LICENSE("GPL");
