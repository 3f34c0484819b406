#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check-debug suite: the positive control of the kmemleak check. A
# test VM with the debug kernel loads kab_leak.ko, which leaks one object
# on purpose; run-vm.sh --debug-checks must fail that run (exit 122) and
# name the leak, or "no kmemleak report" in the other suites proves
# nothing.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
info=$("$top/tools/testing/vm/debug-kernel.sh") || exit 1
eval "$info"
echo "TAP version 13"
echo "1..2"
dir=$top/build/debug-kmemleak-control
rm -rf "$dir"
mkdir -p "$dir"
cp "$top"/tools/testing/vm/debug-kernel/kab_leak/{kab_leak.c,Kbuild} "$dir/"
# shellcheck disable=SC2154 # set by the eval
if ! make -C "$kdir" M="$dir" modules >"$dir/build.log" 2>&1; then
	echo "# $(tail -n 3 "$dir/build.log" | tr '\n' ' ')"
	echo "not ok 1 kmemleak control: build kab_leak.ko"
	echo "not ok 2 kmemleak control: run-vm.sh --debug-checks fails the run that leaked"
	exit 1
fi
echo "ok 1 kmemleak control: build kab_leak.ko"
# shellcheck disable=SC2154 # set by the eval
out=$("$top/tools/testing/vm/run-vm.sh" --kernel "$release" --debug-checks \
	--no-kvm --smp 1 --timeout 900 --module "$dir/kab_leak.ko" -- true 2>&1)
rc=$?
sed 's/^/# /' <<<"$out" | grep -E 'kmemleak|FAILURE|exit|kab_leak|unreferenced|comm ' | head -n 20
# The leak must be in the report: 1024 bytes allocated by insmod (the
# module is gone by the scan, so its init function is only an address).
if [ "$rc" = 122 ] && grep -q 'kmemleak: [1-9][0-9]* suspected leaks' <<<"$out" &&
   grep -q '^unreferenced object 0x[0-9a-f]* (size 1024):' <<<"$out" &&
   grep -q 'comm "insmod"' <<<"$out"; then
	echo "ok 2 kmemleak control: run-vm.sh --debug-checks fails the run that leaked (exit 122, its 1024 bytes from insmod in the report)"
	exit 0
fi
echo "# run-vm.sh exit $rc (122 expected)"
echo "not ok 2 kmemleak control: run-vm.sh --debug-checks fails the run that leaked"
exit 1
