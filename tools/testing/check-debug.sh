#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-debug: the kselftests (with the fuzzer's long form) and the
# QEMU end to end, under a debug build of Debian's linux-source-6.1 (KASAN,
# lockdep with PROVE_RCU, DEBUG_OBJECTS, DEBUG_ATOMIC_SLEEP, kmemleak; see
# tools/testing/vm/debug-kernel.sh, which builds it once and caches it
# under build/debug-kernel/).
#
#   tools/testing/check-debug.sh [SUITE...]    (default: every suite)
#
# Suites (tools/testing/vm/debug.d/, run by check.sh, whose TAP counting,
# logs in build/check/ and closing line they share):
#   [debug-kernel]      build (or find) the debug kernel
#   [debug-kmemleak-control]  the kmemleak check's positive control: a
#                       run that loads kab_leak.ko (leaks on purpose) must
#                       fail with the leak in kmemleak's report
#   [debug-selftests]   run-selftests.sh under it, KAB_FUZZ_LONG=1
#   [debug-e2e]         qemu/tests/e2e-auto.sh 6.1 with the test VM on it
#   [debug-e2e-guests]  qemu/tests/e2e-guest.sh 6.1 likewise (the nested
#                       guests keep Debian's stock 6.1)
#
# Every test VM runs with run-vm.sh --debug-checks: a splat on its console
# (KASAN, lockdep, RCU, DEBUG_OBJECTS, sleeping in atomic context, WARN,
# BUG) fails the run as in make check, and so do a kmemleak report after
# the module's rmmod and lockdep switched off by a splat. Not part of make
# check: the kernel takes tens of minutes to build on 2 cores, the run
# about an hour (README, "make check-debug").

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export KAB_VM_DEBUG_CHECKS=1
export KAB_SUITES_D=$here/vm/debug.d
export KAB_SUITE_TIMEOUT=${KAB_SUITE_TIMEOUT:-10800}
[ $# -gt 0 ] || set -- debug-kernel debug-kmemleak-control debug-selftests \
	debug-e2e debug-e2e-guests
exec "$here/check.sh" "$@"
