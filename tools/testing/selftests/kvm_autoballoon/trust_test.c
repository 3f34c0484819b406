// SPDX-License-Identifier: GPL-2.0
/*
 * What an unprivileged holder of /dev/kvm_autoballoon may see and do.
 *
 * The device is root's (mode 0600) unless the administrator gives it to a
 * group; these tests open it as root and hand the fd to a child that gave
 * up root (kab_run_unprivileged()), which is what a VMM in that group has.
 *
 *   sysfs	every file of vms/<id>/ is root only (0400).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

FIXTURE(trust) {
	int dev;
};

FIXTURE_SETUP(trust)
{
	self->dev = -1;
	KAB_REQUIRE_MODULE();
	if (geteuid())
		SKIP(return, "%s: needs root to drop it", _metadata->name);
	self->dev = kab_dev_open();
	KAB_ASSERT_OK(self->dev, "open " KAB_DEV_PATH);
}

FIXTURE_TEARDOWN(trust)
{
	if (self->dev >= 0)
		close(self->dev);
}

/* ---- sysfs ---- */

struct vm_dir {
	char path[128];
};

/* In the child: how many files of the VM's directory it could open. */
static int open_vm_files(void *arg)
{
	const struct vm_dir *d = arg;
	char path[400];
	struct dirent *de;
	int opened = 0, fd;
	DIR *dir;

	dir = opendir(d->path);
	if (!dir)
		return 201;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", d->path, de->d_name);
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			opened++;
			close(fd);
		} else if (errno != EACCES) {
			opened++;	/* any other answer is wrong too */
		}
	}
	closedir(dir);
	return opened > 200 ? 200 : opened;
}

TEST_F(trust, vm_sysfs_root_only)
{
	char path[400];
	struct kab_test_vm vm;
	struct vm_dir d;
	struct dirent *de;
	struct stat st;
	unsigned int files = 0;
	DIR *dir;
	int ret;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, 0), "create");
	snprintf(d.path, sizeof(d.path), KAB_SYSFS_ROOT "/vms/%u", vm.id);
	dir = opendir(d.path);
	ASSERT_NE(NULL, dir) TH_LOG("no %s", d.path);
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", d.path, de->d_name);
		ASSERT_EQ(0, stat(path, &st));
		EXPECT_EQ(0400, st.st_mode & 07777)
			TH_LOG("%s has mode %04o", path, st.st_mode & 07777);
		files++;
	}
	closedir(dir);
	EXPECT_LT(20, files) TH_LOG("only %u files in %s", files, d.path);
	/* owner_pid and memcg name a tenant: nobody reads any of it. */
	ret = kab_run_unprivileged(KAB_NOBODY, open_vm_files, &d);
	EXPECT_EQ(0, ret)
		TH_LOG("uid %d opened %d files of %s (201: not even the directory)",
		       KAB_NOBODY, ret, d.path);
	kab_vm_destroy(&vm);
}

KAB_TEST_MAIN
