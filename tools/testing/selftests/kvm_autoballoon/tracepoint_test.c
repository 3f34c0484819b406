// SPDX-License-Identifier: GPL-2.0
/*
 * The module's tracepoints (kvm_autoballoon:kab_decision,
 * kab_guest_pressure, kab_host_pressure) exist and fire with the fields the
 * documentation names: injected host pressure and a guest-pressure signal
 * each leave their event and a decision in a private ftrace instance.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib.h"

#define TRACEFS		"/sys/kernel/tracing"
#define INSTANCE	TRACEFS "/instances/kab_selftest"

static const char * const events[] = {
	"kab_decision", "kab_guest_pressure", "kab_host_pressure",
};

static bool tracefs_ready(void)
{
	if (!access(TRACEFS "/events", F_OK))
		return true;
	mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	return !access(TRACEFS "/events", F_OK);
}

static int write_file(const char *path, const char *text)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

/* The instance's whole trace buffer, NUL-terminated; free() it. */
static char *read_trace(void)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	if (!buf)
		return NULL;
	fd = open(INSTANCE "/trace", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 4096) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* Is there a line with @event and every one of @words in it? */
static bool trace_has(const char *trace, const char *event,
		      const char * const *words, unsigned int nr)
{
	const char *line = trace, *end;
	char copy[512];
	unsigned int i;
	size_t len;

	for (; *line; line = *end ? end + 1 : end) {
		end = strchrnul(line, '\n');
		len = (size_t)(end - line);
		if (len >= sizeof(copy))
			len = sizeof(copy) - 1;
		memcpy(copy, line, len);
		copy[len] = '\0';
		if (!strstr(copy, event))
			continue;
		for (i = 0; i < nr; i++)
			if (!strstr(copy, words[i]))
				break;
		if (i == nr)
			return true;
	}
	return false;
}

FIXTURE(trace) {
	int dev;
	bool instance;
	struct kab_policy_snapshot policy;
	bool policy_saved;
};

FIXTURE_SETUP(trace)
{
	char path[256];
	unsigned int i;

	self->dev = -1;
	KAB_REQUIRE_MODULE();
	if (!tracefs_ready())
		SKIP(return, "%s: no tracefs at " TRACEFS, _metadata->name);
	for (i = 0; i < ARRAY_SIZE(events); i++) {
		snprintf(path, sizeof(path),
			 TRACEFS "/events/kvm_autoballoon/%s/enable", events[i]);
		EXPECT_EQ(0, access(path, F_OK))
			TH_LOG("tracepoint kvm_autoballoon:%s missing", events[i]);
	}
	if (mkdir(INSTANCE, 0700) && errno != EEXIST)
		SKIP(return, "%s: cannot make a trace instance: %s",
		     _metadata->name, strerror(errno));
	self->instance = true;
	self->dev = kab_dev_open();
	KAB_ASSERT_OK(self->dev, "open " KAB_DEV_PATH);
	KAB_SETUP_POLICY(self);
	KAB_ASSERT_OK(write_file(INSTANCE "/events/kvm_autoballoon/enable",
				 "1"), "enable kvm_autoballoon events");
	KAB_ASSERT_OK(write_file(INSTANCE "/trace", ""), "clear the buffer");
}

FIXTURE_TEARDOWN(trace)
{
	if (self->instance) {
		write_file(INSTANCE "/events/kvm_autoballoon/enable", "0");
		rmdir(INSTANCE);
	}
	if (self->policy_saved)
		EXPECT_EQ(0, kab_policy_restore(&self->policy));
	if (self->dev >= 0)
		close(self->dev);
}

TEST_F(trace, events_fire)
{
	char vm_word[32], seq2[16], seq3[16], level_word[16];
	struct kab_test_vm vm;
	struct kab_target t;
	char *trace;

	KAB_BAIL_IF_SKIPPED();
	KAB_ASSERT_OK(kab_vm_create(self->dev, &vm, NULL, KAB_VM_PRESSURE_FDS),
		      "create");
	KAB_ASSERT_OK(kab_inject(KAB_LEVEL_CRITICAL, vm.id), "inject");
	KAB_ASSERT_OK(kab_wait_target_signal(&vm, 2, KAB_WAIT_MS, &t),
		      "target after host pressure");
	KAB_ASSERT_OK(kab_eventfd_signal(vm.pressure_efd[KAB_LEVEL_MEDIUM - 1],
					 1), "signal guest pressure");
	KAB_ASSERT_OK(kab_wait_target_signal(&vm, 3, KAB_WAIT_MS, &t),
		      "target after guest pressure");

	trace = read_trace();
	ASSERT_NE(NULL, trace);
	snprintf(vm_word, sizeof(vm_word), "vm=%u ", vm.id);
	snprintf(seq2, sizeof(seq2), "seq=2");
	snprintf(seq3, sizeof(seq3), "seq=3");
	snprintf(level_word, sizeof(level_word), "level=%u", KAB_LEVEL_MEDIUM);
	{
		const char * const host[] = { vm_word, "level=3", "inject" };
		const char * const up[] = { vm_word, seq2 };
		const char * const guest[] = { vm_word, level_word };
		const char * const down[] = { vm_word, seq3 };

		EXPECT_TRUE(trace_has(trace, "kab_host_pressure:", host, 3))
			TH_LOG("no kab_host_pressure event for the injection");
		EXPECT_TRUE(trace_has(trace, "kab_decision:", up, 2))
			TH_LOG("no kab_decision event for seq 2");
		EXPECT_TRUE(trace_has(trace, "kab_guest_pressure:", guest, 2))
			TH_LOG("no kab_guest_pressure event at level 2");
		EXPECT_TRUE(trace_has(trace, "kab_decision:", down, 2))
			TH_LOG("no kab_decision event for seq 3");
	}
	if (!_metadata->passed)
		TH_LOG("trace buffer:\n%s", trace);
	free(trace);
	kab_vm_destroy(&vm);
}

KAB_TEST_MAIN
