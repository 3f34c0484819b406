#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the kvm_autoballoon selftests and print their TAP output. The output
# format and the environment are described at the top of the Makefile.
#
#   run_tests.sh [BINDIR]	BINDIR defaults to this script's directory
#
# "make" installs this script next to the programs, with the list below
# replaced by the Makefile's TEST_GEN_PROGS.

KAB_TEST_PROGS="abi_test bad_input_test host_pressure_test guest_pressure_test close_race_test kvm_ioeventfd_test tracepoint_test pressure_vmpressure_test pressure_psi_test trust_test fuzz_test module_load_test"

bindir=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
timeout_s=${KAB_TEST_TIMEOUT:-900}
passed=0
failed=0
skipped=0

log=$(mktemp "${TMPDIR:-/tmp}/kab-selftest.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT

for prog in $KAB_TEST_PROGS; do
	echo "# selftests: kvm_autoballoon: $prog"
	if [ ! -x "$bindir/$prog" ]; then
		echo "not ok 1 selftests: kvm_autoballoon: $prog # not built: $bindir/$prog is missing"
		failed=$((failed + 1))
		continue
	fi

	# The harness logs failures on stderr; keep them next to the result.
	(cd "$bindir" && timeout --kill-after=10 "$timeout_s" "./$prog") \
		2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}

	p=$(grep -cE '^ok [0-9]+' "$log")
	s=$(grep -cE '^ok [0-9]+.*# SKIP' "$log")
	f=$(grep -cE '^not ok [0-9]+' "$log")
	passed=$((passed + p - s))
	skipped=$((skipped + s))
	failed=$((failed + f))

	case $rc in
	0|4) ;;
	1)
		if [ "$f" -eq 0 ]; then
			echo "not ok $((p + 1)) selftests: kvm_autoballoon: $prog # failed without a result line"
			failed=$((failed + 1))
		fi
		;;
	124|137)
		echo "not ok $((p + f + 1)) selftests: kvm_autoballoon: $prog # timed out after ${timeout_s}s"
		failed=$((failed + 1))
		;;
	*)
		echo "not ok $((p + f + 1)) selftests: kvm_autoballoon: $prog # exited with status $rc"
		failed=$((failed + 1))
		;;
	esac
done

echo "# kvm_autoballoon: $passed passed, $failed failed, $skipped skipped"
if [ "$failed" -gt 0 ]; then
	exit 1
elif [ "$passed" -eq 0 ] && [ "$skipped" -gt 0 ]; then
	exit 4
fi
exit 0
