#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check-debug suite: the kselftests, with the fuzzer's long form, in a
# test VM booted with the debug kernel (run-selftests.sh).
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
info=$("$top/tools/testing/vm/debug-kernel.sh") || exit 1
eval "$info"
# shellcheck disable=SC2154 # set by the eval
exec "$top/tools/testing/vm/run-selftests.sh" --kernel "$release" \
	--timeout 7200 --env KAB_FUZZ_LONG=1 --env KAB_TEST_TIMEOUT=3600
