// SPDX-License-Identifier: GPL-2.0
/*
 * kab_demo: show kvm_autoballoon deciding, step by step.
 *
 * Runs inside the test VM with the module loaded. Registers two VMs the way
 * QEMU does (target eventfd, one guest-pressure eventfd per level), then
 * raises host pressure through inject_host_pressure and guest pressure by
 * signalling the guest-pressure eventfds, and after each step prints what
 * the module decided: the target each "VMM" was handed through its target
 * eventfd, the sequence number and the reason.
 *
 * Exit status: 0 when every step behaved as the design says (inflate on host
 * pressure, never past the floor, deflate on guest pressure, never past the
 * ceiling, the VM gone after close), 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm_autoballoon.h>

#define SYSFS		"/sys/kernel/kvm_autoballoon"
#define MIB_PAGES	(1024 * 1024 / KAB_PAGE_SIZE)

static const char * const reasons[] = {
	"none", "initial", "host_pressure", "guest_pressure", "clamp",
	"stall", "relax", "restore", "headroom",
};

struct demo_vm {
	const char *name;
	int fd;
	int target_efd;
	int pressure_efd[KAB_NR_LEVELS];
	unsigned int id;
	struct kab_create_vm req;
	uint64_t applied_seq;
	uint64_t applied_target;
};

static int failures;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("  !! unexpected: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	failures++;
}

static int sysfs_write(const char *file, const char *val)
{
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), SYSFS "/%s", file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static long long sysfs_read_u64(const char *file)
{
	char path[256], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SYSFS "/%s", file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtoll(buf, NULL, 0);
}

/*
 * What QEMU does: wait for the target eventfd, read the new target, apply
 * it if its seq is new and report the balloon as having reached it.
 */
static bool vmm_poll(struct demo_vm *vm, int timeout_ms)
{
	struct pollfd pfd = { .fd = vm->target_efd, .events = POLLIN };
	struct kab_target t = { .size = sizeof(t) };
	struct kab_actual a = { .size = sizeof(a) };
	uint64_t cnt;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return false;
	if (read(vm->target_efd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return false;
	if (ioctl(vm->fd, KAB_VM_GET_TARGET, &t)) {
		fail("%s: KAB_VM_GET_TARGET: %s", vm->name, strerror(errno));
		return false;
	}
	if (t.seq <= vm->applied_seq)
		return false;
	vm->applied_seq = t.seq;
	vm->applied_target = t.target_pages;
	a.actual_pages = t.target_pages;
	if (ioctl(vm->fd, KAB_VM_SET_ACTUAL, &a))
		fail("%s: KAB_VM_SET_ACTUAL: %s", vm->name, strerror(errno));
	printf("  %-6s target eventfd fired: balloon %5" PRIu64 " MiB, guest keeps %5" PRIu64
	       " MiB  (seq %" PRIu64 ", %s)\n", vm->name,
	       (uint64_t)t.target_pages / MIB_PAGES,
	       (uint64_t)(vm->req.total_pages - t.target_pages) / MIB_PAGES,
	       (uint64_t)t.seq,
	       t.reason < sizeof(reasons) / sizeof(reasons[0]) ?
	       reasons[t.reason] : "?");
	return true;
}

static void drain(struct demo_vm *vms, int nr)
{
	bool any;
	int i;

	do {
		any = false;
		for (i = 0; i < nr; i++)
			any |= vmm_poll(&vms[i], 300);
	} while (any);
}

static int register_vm(int dev, struct demo_vm *vm, uint64_t total_mib,
		       uint64_t floor_mib, uint32_t weight)
{
	struct kab_vm_stats st = { .size = sizeof(st) };
	int i;

	vm->target_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	for (i = 0; i < KAB_NR_LEVELS; i++)
		vm->pressure_efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->req = (struct kab_create_vm) {
		.size = sizeof(vm->req),
		.total_pages = total_mib * MIB_PAGES,
		.floor_pages = floor_mib * MIB_PAGES,
		.ceiling_pages = total_mib * MIB_PAGES,
		.weight = weight,
		.target_fd = vm->target_efd,
		.pressure_fd = { vm->pressure_efd[0], vm->pressure_efd[1],
				 vm->pressure_efd[2] },
		.kvm_vm_fd = KAB_NO_FD,
		.psi_fd = KAB_NO_FD,
	};
	vm->fd = ioctl(dev, KAB_CREATE_VM, &vm->req);
	if (vm->fd < 0) {
		printf("KAB_CREATE_VM: %s\n", strerror(errno));
		return -1;
	}
	if (ioctl(vm->fd, KAB_VM_GET_STATS, &st)) {
		printf("KAB_VM_GET_STATS: %s\n", strerror(errno));
		return -1;
	}
	vm->id = st.vm_id;
	printf("  %-6s registered as vms/%u: %" PRIu64 " MiB, floor %" PRIu64
	       " MiB, weight %u\n", vm->name, vm->id, total_mib, floor_mib,
	       weight);
	return 0;
}

static void guest_rings(struct demo_vm *vm, unsigned int level)
{
	uint64_t one = 1;

	printf("\n> %s's guest rings its pressure doorbell, level %u\n",
	       vm->name, level);
	if (write(vm->pressure_efd[level - 1], &one, sizeof(one)) != sizeof(one))
		fail("eventfd write: %s", strerror(errno));
}

int main(void)
{
	struct demo_vm vms[2] = { { .name = "web" }, { .name = "batch" } };
	uint64_t before[2], max_target;
	char path[128];
	int dev, i, step;

	setvbuf(stdout, NULL, _IOLBF, 0);
	dev = open("/dev/kvm_autoballoon", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		printf("open /dev/kvm_autoballoon: %s (is the module loaded?)\n",
		       strerror(errno));
		return 1;
	}
	printf("kvm_autoballoon API version %d\n",
	       ioctl(dev, KAB_GET_API_VERSION, 0));
	/*
	 * One inflation per event in the demo, without waiting, and host
	 * pressure that is forgotten after 2 s instead of 30 s.
	 */
	sysfs_write("policy/cooldown_ms", "0");
	sysfs_write("policy/host_hold_ms", "2000");

	printf("\n> two VMMs register their VMs\n");
	if (register_vm(dev, &vms[0], 1024, 256, 100) ||
	    register_vm(dev, &vms[1], 2048, 512, 300))
		return 1;
	drain(vms, 2);

	for (step = 1; step <= 3; step++) {
		printf("\n> the host is under medium memory pressure (%d)\n",
		       step);
		for (i = 0; i < 2; i++)
			before[i] = vms[i].applied_target;
		if (sysfs_write("inject_host_pressure", "medium"))
			fail("inject_host_pressure: %s", strerror(errno));
		drain(vms, 2);
		for (i = 0; i < 2; i++)
			if (vms[i].applied_target < before[i])
				fail("%s deflated on host pressure", vms[i].name);
	}

	printf("\n> the host is critical, repeatedly: balloons stop at the floors\n");
	for (step = 0; step < 200; step++) {
		before[0] = vms[0].applied_seq;
		before[1] = vms[1].applied_seq;
		sysfs_write("inject_host_pressure", "critical");
		drain(vms, 2);
		if (vms[0].applied_seq == before[0] &&
		    vms[1].applied_seq == before[1])
			break;
	}
	printf("  (no further change after %d critical events)\n", step + 1);
	for (i = 0; i < 2; i++) {
		max_target = vms[i].req.total_pages - vms[i].req.floor_pages;
		if (vms[i].applied_target > max_target)
			fail("%s crossed its floor", vms[i].name);
	}

	before[0] = vms[0].applied_target;
	before[1] = vms[1].applied_target;
	guest_rings(&vms[0], KAB_LEVEL_CRITICAL);
	drain(vms, 2);
	printf("  the host is critical itself: the rule table says hold\n");
	if (vms[0].applied_target != before[0])
		fail("web moved while the host was critical");

	printf("\n> host pressure is over (host_hold_ms later)\n");
	usleep((sysfs_read_u64("policy/host_hold_ms") + 200) * 1000);
	guest_rings(&vms[0], KAB_LEVEL_CRITICAL);
	drain(vms, 2);
	if (vms[0].applied_target >= before[0])
		fail("web did not deflate on critical guest pressure");
	if (vms[1].applied_target != before[1])
		fail("batch moved although only web's guest rang");

	printf("\n> a guest floods its doorbell: 100000 rings\n");
	for (step = 0; step < 100000; step++) {
		uint64_t one = 1;

		if (write(vms[1].pressure_efd[KAB_LEVEL_LOW - 1], &one,
			  sizeof(one)) != sizeof(one))
			break;
	}
	drain(vms, 2);
	snprintf(path, sizeof(path), "vms/%u/guest_events_low", vms[1].id);
	printf("  batch: %lld rings counted, ", sysfs_read_u64(path));
	snprintf(path, sizeof(path), "vms/%u/deflations", vms[1].id);
	printf("%lld deflations: hints are rate limited\n",
	       sysfs_read_u64(path));

	printf("\n> what the module knows about web (sysfs vms/%u/)\n",
	       vms[0].id);
	static const char * const files[] = {
		"target_pages", "target_seq", "actual_pages", "inflations",
		"deflations", "guest_events_medium", "guest_events_critical",
		"host_events_medium", "host_events_critical",
	};
	for (i = 0; i < (int)(sizeof(files) / sizeof(files[0])); i++) {
		snprintf(path, sizeof(path), "vms/%u/%s", vms[0].id, files[i]);
		printf("  %-22s %lld\n", files[i], sysfs_read_u64(path));
	}

	printf("\n> the VMMs exit\n");
	for (i = 0; i < 2; i++)
		close(vms[i].fd);
	printf("  registered VMs now: %lld\n", sysfs_read_u64("nr_vms"));
	if (sysfs_read_u64("nr_vms") != 0)
		fail("VMs still registered after close");

	printf("\n%s\n", failures ? "demo: something unexpected happened" :
	       "demo: every step behaved as designed");
	return failures ? 1 : 0;
}
