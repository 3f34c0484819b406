// SPDX-License-Identifier: GPL-2.0
/*
 * vab_hog: anonymous memory hog for the guest pressure tests.
 *
 *   vab_hog MIB [HOLD_S]
 *
 * Allocates and touches MIB MiB, one MiB at a time, then holds it for
 * HOLD_S seconds (default 0) and exits 0. Exits 1 on bad arguments. The OOM
 * killer may end it first; that is what the critical-pressure test wants.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB (1024UL * 1024)

static int parse(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end;
}

int main(int argc, char **argv)
{
	unsigned long mib, hold = 0, i;

	if (argc < 2 || argc > 3 || parse(argv[1], &mib) ||
	    (argc == 3 && parse(argv[2], &hold))) {
		fprintf(stderr, "usage: %s MIB [HOLD_S]\n", argv[0]);
		return 1;
	}
	for (i = 0; i < mib; i++) {
		char *p = mmap(NULL, MIB, PROT_READ | PROT_WRITE,
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
