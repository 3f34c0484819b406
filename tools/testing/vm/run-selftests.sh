#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the kvm_autoballoon kselftests inside a test VM on one Debian kernel.
#
#   tools/testing/vm/run-selftests.sh --kernel 6.1|6.12|RELEASE [--timeout SEC]
#                                     [--env VAR=VALUE]...
#
# RELEASE: a kernel already under build/vm/kernels/ (the debug kernel that
# tools/testing/vm/debug-kernel.sh registers there, for make check-debug).
# --env exports VAR inside the test VM (e.g. KAB_FUZZ_LONG=1).
#
# 1. builds the host module and the guest driver against that kernel's
#    headers in build/<release>/src (build-modules.sh: a copy of the
#    sources, so the two kernels' builds never clash);
# 2. builds the selftests (make -C tools/testing/selftests/kvm_autoballoon,
#    output in build/selftests; userspace, the same for both kernels);
# 3. boots the kernel with run-vm.sh, loads kvm_amd/kvm_intel and
#    kvm_autoballoon.ko, and runs build/selftests/run_tests.sh, which runs
#    every program of the Makefile's TEST_GEN_PROGS.
#
# Prints the selftests' TAP, then one TAP document of its own for the
# harness steps (builds, a VM run free of panic/oops/WARN/hang, and the
# modules unloading after it: a refusal is a leaked reference).
# Exit 0 all passed, 1 something failed, 4 everything skipped.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

series=
timeout_s=${KAB_SELFTEST_TIMEOUT:-1500}
envs=()
usage="usage: $0 --kernel 6.1|6.12|RELEASE [--timeout SEC] [--env VAR=VALUE]..."
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) series=${2:?}; shift 2 ;;
	--timeout) timeout_s=${2:?}; shift 2 ;;
	--env) envs+=(--env "${2:?}"); shift 2 ;;
	*) kab_die "$usage" ;;
	esac
done
[ -n "$series" ] || kab_die "$usage"

results=()
failed=0
result() {	# ok|not ok, name, [comment lines]
	results+=("$1 $((${#results[@]} + 1)) $2")
	[ "$1" = ok ] || failed=1
	shift 2
	for c in "$@"; do
		results[-1]+=$'\n'"# $c"
	done
}
finish() {
	echo "TAP version 13"
	echo "1..${#results[@]}"
	printf '%s\n' "${results[@]}"
	exit "$1"
}

mkdir -p "$KAB_BUILD"
case $series in
6.1|6.12)
	if ! info=$("$here/get-kernel.sh" "$series" 2>"$KAB_BUILD/get-kernel-$series.log"); then
		result "not ok" "selftests $series: fetch the kernel" \
			"$(tail -n 3 "$KAB_BUILD/get-kernel-$series.log")"
		finish 1
	fi
	eval "$info"
	# shellcheck disable=SC2154 # release is set by the eval
	rel=$release
	;;
*)
	rel=$series
	if [ ! -e "$KAB_BUILD/vm/kernels/$rel/.done" ]; then
		result "not ok" "selftests $rel: find the kernel" \
			"no build/vm/kernels/$rel (tools/testing/vm/debug-kernel.sh registers the debug kernel there)"
		finish 1
	fi
	;;
esac
mkdir -p "$KAB_BUILD/$rel"

log=$KAB_BUILD/$rel/build-modules.log
if mods=$("$here/build-modules.sh" --kernel "$rel" 2>"$log"); then
	host_ko=$(sed -n 's/^host: //p' <<<"$mods")
	result ok "selftests $rel: build the modules"
else
	mapfile -t tail_lines < <(grep -E 'error|Error' "$log" | head -n 10)
	result "not ok" "selftests $rel: build the modules" \
		"build failed, see $log" "${tail_lines[@]}"
	finish 1
fi

stdir=$KAB_BUILD/selftests
log=$KAB_BUILD/selftests.log
if make -C "$KAB_TOP/tools/testing/selftests/kvm_autoballoon" -j2 \
	OUTPUT="$stdir" >"$log" 2>&1 && [ -x "$stdir/run_tests.sh" ]; then
	result ok "selftests $rel: build the selftests"
else
	mapfile -t tail_lines < <(tail -n 10 "$log")
	result "not ok" "selftests $rel: build the selftests" \
		"build failed, see $log" "${tail_lines[@]}"
	finish 1
fi

vmlog=$KAB_BUILD/$rel/run-vm.log
"$here/run-vm.sh" --kernel "$rel" --timeout "$timeout_s" \
	--module "$host_ko" --env KAB_MODULE="$host_ko" \
	"${envs[@]+"${envs[@]}"}" \
	-- "$stdir/run_tests.sh" 2>"$vmlog"
rc=$?
case $rc in
122)
	result ok "selftests $rel: VM run without panic/oops/WARN/hang" \
		"$(grep 'boot to command' "$vmlog" | sed 's/^run-vm.sh: //')"
	;;
124|125|126)
	mapfile -t lines < <(grep -v '^run-vm.sh: booting' "$vmlog" | head -n 60)
	result "not ok" "selftests $rel: VM run without panic/oops/WARN/hang" \
		"run-vm.sh exit $rc" "${lines[@]}"
	;;
*)
	result ok "selftests $rel: VM run without panic/oops/WARN/hang" \
		"$(grep 'boot to command' "$vmlog" | sed 's/^run-vm.sh: //')"
	;;
esac
# make check-debug (run-vm.sh --debug-checks): no kmemleak report after
# the rmmod, lockdep still on.
if [ "${KAB_VM_DEBUG_CHECKS:-0}" = 1 ]; then
	if grep -qE '^run-vm.sh: FAILURE: .*(debug checks|kmemleak)' "$vmlog"; then
		mapfile -t lines < <(grep -E -A40 'FAILURE: .*(debug checks|kmemleak)' "$vmlog" | head -n 60)
		result "not ok" "selftests $rel: no kmemleak report after rmmod, lockdep on to the end" \
			"${lines[@]}"
	else
		result ok "selftests $rel: no kmemleak report after rmmod, lockdep on to the end"
	fi
fi
# The modules must unload after the run: a refusal is a leaked reference.
if grep -q '^run-vm.sh: FAILURE: .*rmmod failed' "$vmlog"; then
	result "not ok" "selftests $rel: the modules unload after the run" \
		"$(grep -o 'rmmod failed at the end: .*' "$vmlog" | head -n 1)"
else
	result ok "selftests $rel: the modules unload after the run"
fi

if [ "$failed" = 1 ] || { [ "$rc" != 0 ] && [ "$rc" != 4 ]; }; then
	finish 1
fi
finish 0
