// SPDX-License-Identifier: GPL-2.0
/*
 * Loading and unloading kvm_autoballoon.
 *
 * While a VM is registered (or just the device is open) the module must not
 * go away: delete_module() is refused, with EWOULDBLOCK (the module
 * refcount) or EBUSY. Once every fd is closed it unloads cleanly, its sysfs
 * tree and device node vanish, and it loads again from $KAB_MODULE (the
 * path of the .ko the harness loaded) and works.
 *
 * Needs root. Run this program last: it unloads and reloads the module.
 * It always leaves the module loaded when it found it loaded and
 * $KAB_MODULE is set.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

/* The module's refusal: its refcount (EWOULDBLOCK) or its own EBUSY. */
static bool unload_refused(int ret)
{
	return ret == -EWOULDBLOCK || ret == -EBUSY;
}

/* Reload after an unload that should not have happened, so later tests run. */
static void reload_if_gone(struct __test_metadata *_metadata)
{
	const char *path = getenv("KAB_MODULE");

	if (kab_module_loaded())
		return;
	if (path && kab_module_load(path) == 0)
		TH_LOG("reloaded %s", path);
	else
		TH_LOG("the module is gone and could not be reloaded");
}

static int wait_path(const char *path, bool present, int timeout_ms)
{
	uint64_t deadline = kab_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	while ((access(path, F_OK) == 0) != present) {
		if (kab_now_ns() > deadline)
			return -ETIMEDOUT;
		kab_sleep_ms(10);
	}
	return 0;
}

/* A module unloaded by a failed test is put back, so that later ones run. */
FIXTURE(load) {
	int unused;
};

FIXTURE_SETUP(load)
{
}

FIXTURE_TEARDOWN(load)
{
	reload_if_gone(_metadata);
}

#define REQUIRE_ROOT_AND_MODULE() do {					\
	KAB_REQUIRE_MODULE();						\
	if (geteuid())							\
		SKIP(return, "%s: needs root", _metadata->name);	\
} while (0)

#define REQUIRE_KAB_MODULE(path) do {					\
	(path) = getenv("KAB_MODULE");					\
	if (!(path) || !*(path))					\
		SKIP(return, "%s: KAB_MODULE (path of the loaded .ko) not set", \
		     _metadata->name);					\
	if (access((path), R_OK))					\
		SKIP(return, "%s: KAB_MODULE=%s not readable",		\
		     _metadata->name, (path));				\
} while (0)

TEST_F(load, unload_refused_while_vm_open)
{
	struct kab_test_vm vm;
	struct kab_target t;
	uint64_t ref0, ref;
	int dev, ret;
	char buf[64];

	REQUIRE_ROOT_AND_MODULE();
	ASSERT_EQ(0, kab_module_refcnt(&ref0));

	dev = kab_dev_open();
	KAB_ASSERT_OK(dev, "open " KAB_DEV_PATH);
	/* The open device alone pins the module. */
	ret = kab_module_unload();
	if (!unload_refused(ret))
		TH_LOG("delete_module with the device open: expected EWOULDBLOCK or EBUSY, got %s",
		       kab_ret_name(ret, buf, sizeof(buf)));
	EXPECT_TRUE(unload_refused(ret));
	reload_if_gone(_metadata);
	ASSERT_TRUE(kab_module_loaded());

	KAB_ASSERT_OK(kab_vm_create(dev, &vm, NULL, KAB_VM_PRESSURE_FDS),
		      "create");
	close(dev);
	/* The per-VM fd alone pins it too. */
	ASSERT_EQ(0, kab_module_refcnt(&ref));
	EXPECT_LT(ref0, ref) TH_LOG("a registered VM holds no module reference");
	ret = kab_module_unload();
	if (!unload_refused(ret))
		TH_LOG("delete_module with a VM registered: expected EWOULDBLOCK or EBUSY, got %s",
		       kab_ret_name(ret, buf, sizeof(buf)));
	EXPECT_TRUE(unload_refused(ret));
	reload_if_gone(_metadata);
	ASSERT_TRUE(kab_module_loaded());

	/* The refusal changed nothing. */
	EXPECT_EQ(0, kab_get_target(vm.fd, &t));
	EXPECT_EQ(1, t.seq);
	EXPECT_EQ(0, kab_inject(KAB_LEVEL_LOW, vm.id));

	kab_vm_destroy(&vm);
	ASSERT_EQ(0, kab_module_refcnt(&ref));
	EXPECT_EQ(ref0, ref) TH_LOG("module references leaked by a closed VM");
}

TEST_F_TIMEOUT(load, unload_and_reload, 120)
{
	struct kab_test_vm vm;
	uint64_t nr, max_vms;
	const char *path;
	int dev, ret;

	REQUIRE_ROOT_AND_MODULE();
	REQUIRE_KAB_MODULE(path);
	ASSERT_EQ(0, kab_nr_vms(&nr));
	if (nr)
		SKIP(return, "unload_and_reload: %" PRIu64 " VMs of others registered", nr);

	ret = kab_module_unload();
	KAB_ASSERT_OK(ret, "delete_module with no VM and no fd open");
	EXPECT_FALSE(kab_module_loaded());
	EXPECT_EQ(0, wait_path(KAB_SYSFS_ROOT, false, KAB_WAIT_MS))
		TH_LOG(KAB_SYSFS_ROOT " outlived the module");
	EXPECT_EQ(0, wait_path(KAB_DEV_PATH, false, KAB_WAIT_MS))
		TH_LOG(KAB_DEV_PATH " outlived the module");

	ret = kab_module_load(path);
	KAB_ASSERT_OK(ret, "finit_module($KAB_MODULE) with no parameters");
	EXPECT_EQ(0, wait_path(KAB_DEV_PATH, true, KAB_WAIT_MS));
	ASSERT_TRUE(kab_sysfs_exists("nr_vms"));
	EXPECT_EQ(0, kab_nr_vms(&nr));
	EXPECT_EQ(0, nr);
	EXPECT_EQ(0, kab_sysfs_read_u64("max_vms", &max_vms));
	EXPECT_EQ(1024, max_vms) TH_LOG("max_vms default after a fresh load");

	/* Loading it twice is refused by the module loader. */
	KAB_EXPECT_ERR(EEXIST, kab_module_load(path), "second finit_module");

	dev = kab_dev_open();
	KAB_ASSERT_OK(dev, "open " KAB_DEV_PATH " after reload");
	KAB_EXPECT_OK(kab_vm_create(dev, &vm, NULL, KAB_VM_PRESSURE_FDS),
		      "create after reload");
	kab_vm_destroy(&vm);
	close(dev);
}

/* Init and exit, again and again, with a VM's life in between. */
TEST_F_TIMEOUT(load, reload_cycles, 300)
{
	struct kab_test_vm vm;
	struct kab_target t;
	const char *path;
	unsigned int cycle;
	int dev;

	REQUIRE_ROOT_AND_MODULE();
	REQUIRE_KAB_MODULE(path);
	for (cycle = 0; cycle < 5; cycle++) {
		dev = kab_dev_open();
		KAB_ASSERT_OK(dev, "open");
		KAB_ASSERT_OK(kab_vm_create(dev, &vm, NULL, KAB_VM_PRESSURE_FDS),
			      "create");
		kab_eventfd_signal(vm.pressure_efd[0], 1);
		EXPECT_EQ(0, kab_inject(KAB_LEVEL_CRITICAL, vm.id));
		EXPECT_EQ(0, kab_wait_target_signal(&vm, 2, KAB_WAIT_MS, &t))
			TH_LOG("cycle %u", cycle);
		kab_vm_destroy(&vm);
		close(dev);

		KAB_ASSERT_OK(kab_module_unload(), "unload");
		KAB_ASSERT_OK(kab_module_load(path), "load");
		ASSERT_EQ(0, wait_path(KAB_DEV_PATH, true, KAB_WAIT_MS));
	}
}

KAB_TEST_MAIN
