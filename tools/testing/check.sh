#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: install what is missing, build everything, run every test
# suite, and sum their TAP into one closing line.
#
#   tools/testing/check.sh [SUITE...]     (default: every suite)
#
# Suites, in order (names for the command line in brackets):
#   [userspace]      make -C tools/testing/autoballoon check (if present)
#   [lint]           tools/testing/vm/lint.sh: W=1 C=1 and dkms build per
#                    kernel, checkpatch --strict per kernel file
#   [selftests-6.1]  tools/testing/vm/run-selftests.sh --kernel 6.1
#   [selftests-6.12] tools/testing/vm/run-selftests.sh --kernel 6.12
#   [NAME]           every executable tools/testing/vm/suites.d/[NN-]NAME.sh,
#                    in file name order (NN- orders them: 10-qemu-e2e builds
#                    the patched QEMU that 20-guest-driver also uses)
#
# Registering a suite: add an executable tools/testing/vm/suites.d/NN-NAME.sh
# (usually a one-line `exec path/to/your/runner`). It runs from the top of
# the clone with no stdin and CI=true, must print TAP on stdout ("ok N",
# "not ok N", "ok N ... # SKIP reason" at the start of a line; indented
# lines are not counted), diagnostics on stderr, and exit 0 (all passed),
# 4 (all skipped) or anything else (a failure). It is killed after
# $KAB_SUITE_TIMEOUT seconds (default 2400). A suite that exits non-zero
# without a "not ok" line, or prints no result at all, counts as one more
# failure.
#
# Every suite's output is printed as it runs and kept in build/check/.
# The last line is "N passed, N failed" (", N skipped" when any), the sum
# over all suites. Exit status 0 when nothing failed.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=vm/lib.sh
. "$here/vm/lib.sh"

export CI=${CI:-true}
exec </dev/null
cd "$KAB_TOP" || exit 1

t0=$(date +%s)
logdir=$KAB_BUILD/check
mkdir -p "$logdir"
suite_timeout=${KAB_SUITE_TIMEOUT:-2400}

passed=0
failed=0
skipped=0
summary=()

# run_suite NAME CMD...: run one suite, print and count its TAP.
run_suite() {
	local name=$1 out=$logdir/$1.tap err=$logdir/$1.err rc s e
	shift
	echo "# ===== suite $name: $* ====="
	s=$(date +%s)
	timeout --kill-after=30 "$suite_timeout" "$@" \
		> >(tee "$out") 2> >(tee "$err" >&2)
	rc=$?
	wait	# for the tee processes
	e=$(date +%s)

	local p f k
	p=$(grep -cE '^ok ' "$out")
	k=$(grep -ciE '^ok .*# *skip' "$out")
	f=$(grep -cE '^not ok ' "$out")
	p=$((p - k))
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "not ok - suite $name killed after ${suite_timeout}s"
		f=$((f + 1))
	elif [ $((p + k + f)) -eq 0 ]; then
		echo "not ok - suite $name printed no TAP result (exit $rc)"
		f=$((f + 1))
	elif [ "$rc" != 0 ] && [ "$rc" != 4 ] && [ "$f" -eq 0 ]; then
		echo "not ok - suite $name exited $rc without reporting a failure"
		f=$((f + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + k))
	summary+=("$(printf '%-20s %4d passed %4d failed %4d skipped %5ds' \
		"$name" "$p" "$f" "$k" $((e - s)))")
}

want() {	# want NAME: true if NAME was asked for (or nothing was)
	[ ${#only[@]} -eq 0 ] && return 0
	local x
	for x in "${only[@]}"; do
		[ "$x" = "$1" ] && return 0
	done
	return 1
}
only=("$@")

echo "# make check: $(date -u '+%F %T UTC'), $(nproc) cores"
if ! "$KAB_TOP/tools/testing/deps.sh"; then
	echo "not ok - tools/testing/deps.sh could not install the dependencies"
	failed=$((failed + 1))
fi

if want userspace && [ -f "$KAB_TOP/tools/testing/autoballoon/Makefile" ]; then
	run_suite userspace make -s --no-print-directory \
		-C "$KAB_TOP/tools/testing/autoballoon" check
fi
want lint && run_suite lint "$here/vm/lint.sh"
want selftests-6.1 && run_suite selftests-6.1 "$here/vm/run-selftests.sh" --kernel 6.1
want selftests-6.12 && run_suite selftests-6.12 "$here/vm/run-selftests.sh" --kernel 6.12
for s in "$here"/vm/suites.d/*.sh; do
	[ -x "$s" ] || continue
	name=$(basename "$s" .sh)
	name=${name#[0-9][0-9]-}
	want "$name" && run_suite "$name" "$s"
done

t1=$(date +%s)
echo "# ===== summary ====="
printf '# %s\n' "${summary[@]}"
echo "# wall time: $(((t1 - t0) / 60))m$(((t1 - t0) % 60))s"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
