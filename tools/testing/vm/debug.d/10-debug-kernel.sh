#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check-debug suite: build (or find in build/debug-kernel/) the debug
# kernel; its build time is printed (tools/testing/vm/debug-kernel.sh).
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
echo "TAP version 13"
echo "1..1"
t0=$(date +%s)
if info=$("$top/tools/testing/vm/debug-kernel.sh"); then
	eval "$info"
	resumed=
	# shellcheck disable=SC2154 # kdir, release, build_seconds: the eval
	[ -e "$(dirname "$kdir")/resumed" ] && resumed=", resumed after a stop"
	# shellcheck disable=SC2154
	echo "ok 1 debug kernel $release (built in ${build_seconds}s$resumed; this run $(($(date +%s) - t0))s)"
	exit 0
fi
echo "not ok 1 debug kernel: tools/testing/vm/debug-kernel.sh failed (see above)"
exit 1
