// SPDX-License-Identifier: GPL-2.0
/*
 * vab_hog: anonymous memory hog for the guest pressure tests.
 *
 *   vab_hog MIB [HOLD_S [MIB_PER_S]]
 *
 * Allocates and touches MIB MiB, one MiB at a time, then holds it for
 * HOLD_S seconds (default 0) and exits 0. With MIB_PER_S (> 0) the hog is
 * paced: MiB number i is touched no earlier than i / MIB_PER_S seconds
 * after the start (without, it goes as fast as it can). Exits 1 on bad
 * arguments. The OOM killer may end it first; that is what the
 * critical-pressure test wants.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024)
#define NSEC_PER_SEC 1000000000ULL

static int parse(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end;
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* Sleep until @start + @i / @rate seconds. */
static void pace(unsigned long long start, unsigned long i, unsigned long rate)
{
	unsigned long long due = start + i * NSEC_PER_SEC / rate, t = now_ns();
	struct timespec ts;

	if (t >= due)
		return;
	ts.tv_sec = (due - t) / NSEC_PER_SEC;
	ts.tv_nsec = (due - t) % NSEC_PER_SEC;
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	unsigned long mib, hold = 0, rate = 0, i;
	unsigned long long start;

	if (argc < 2 || argc > 4 || parse(argv[1], &mib) ||
	    (argc >= 3 && parse(argv[2], &hold)) ||
	    (argc == 4 && parse(argv[3], &rate))) {
		fprintf(stderr, "usage: %s MIB [HOLD_S [MIB_PER_S]]\n",
			argv[0]);
		return 1;
	}
	start = now_ns();
	for (i = 0; i < mib; i++) {
		char *p;

		if (rate)
			pace(start, i, rate);
		p = mmap(NULL, MIB, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 2;
		}
		memset(p, 0x5a, MIB);
	}
	sleep(hold);
	return 0;
}
