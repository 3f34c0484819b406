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
# failure; so does every TAP document (from a "TAP version" line to the
# next) whose plan "1..N" is missing, repeated, or does not match the
# number of results it printed: a runner that died before its plan (a
# traceback inside a test VM) does not pass by what it printed before.
#
# An unknown SUITE on the command line, or a file in suites.d/ that is not
# executable, is an error (exit 2), before anything runs.
#
# For tests of this script itself (tools/testing/setup_test.sh):
# KAB_SUITES_D replaces tools/testing/vm/suites.d, KAB_CHECK_NO_DEPS=1
# skips deps.sh.
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
	# stdout through a pipeline, not a process substitution: bash waits
	# for every member of a pipeline, while `wait` does not wait for a
	# >(tee) (bash 5.2), so counting could read a half-written file.
	timeout --kill-after=30 "$suite_timeout" "$@" \
		2> >(tee "$err" >&2) | tee "$out"
	rc=${PIPESTATUS[0]}
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
	local plan_errors
	plan_errors=$(tap_plan_errors "$out")
	if [ -n "$plan_errors" ]; then
		echo "$plan_errors" | sed "s/^/not ok - suite $name: /"
		f=$((f + $(echo "$plan_errors" | wc -l)))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + k))
	summary+=("$(printf '%-20s %4d passed %4d failed %4d skipped %5ds' \
		"$name" "$p" "$f" "$k" $((e - s)))")
}

# tap_plan_errors FILE: one line per TAP document of FILE whose plan is
# missing, repeated or wrong. A document starts at "TAP version" (or at the
# top of the file); results and plans count only at the start of a line.
tap_plan_errors() {
	awk '
	function close_doc() {
		if (nres == 0 && plan == "")
			return
		if (plan == "")
			printf "TAP document at line %d: %d results and no plan\n", start, nres
		else if (plan != nres)
			printf "TAP document at line %d: plan 1..%d, %d results\n", start, plan, nres
	}
	BEGIN { start = 1; plan = ""; nres = 0 }
	/^TAP version/ {
		close_doc()
		start = NR; plan = ""; nres = 0
		next
	}
	/^1\.\.[0-9]+/ {
		if (plan != "")
			printf "TAP document at line %d: a second plan at line %d\n", start, NR
		plan = substr($1, 4) + 0
		next
	}
	/^(not )?ok / { nres++ }
	END { close_doc() }
	' "$1"
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

# Every suite, by name, in order; suites.d/ entries with their file.
known=(userspace lint selftests-6.1 selftests-6.12)
declare -A suite_file=()
bad_setup=0
suites_d=${KAB_SUITES_D:-$here/vm/suites.d}
for s in "$suites_d"/*; do
	[ -e "$s" ] || continue
	case $s in
	*.sh) ;;
	*) echo "check.sh: error: $s is not a suite (suites.d/ holds NN-NAME.sh files only)" >&2
	   bad_setup=1; continue ;;
	esac
	if [ ! -x "$s" ]; then
		echo "check.sh: error: $s is not executable (chmod +x it)" >&2
		bad_setup=1
		continue
	fi
	name=$(basename "$s" .sh)
	name=${name#[0-9][0-9]-}
	known+=("$name")
	suite_file[$name]=$s
done
for x in "${only[@]}"; do
	case " ${known[*]} " in
	*" $x "*) ;;
	*) echo "check.sh: error: unknown suite '$x' (known: ${known[*]})" >&2
	   bad_setup=1 ;;
	esac
done
[ "$bad_setup" = 0 ] || exit 2

echo "# make check: $(date -u '+%F %T UTC'), $(nproc) cores"
if [ "${KAB_CHECK_NO_DEPS:-0}" != 1 ] && ! "$KAB_TOP/tools/testing/deps.sh"; then
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
for name in "${known[@]:4}"; do
	want "$name" && run_suite "$name" "${suite_file[$name]}"
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
