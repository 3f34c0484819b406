#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make bench: run every benchmark under bench/ (each bench/*/run.sh), in
# name order. Each writes its figures next to its script; large raw output
# goes to build/bench/. Exits non-zero if any benchmark failed.
set -u
cd "$(dirname "$0")/.." || exit 1

status=0
for script in bench/*/run.sh; do
	[ -x "$script" ] || continue
	echo "== $script"
	if ! "$script"; then
		echo "bench: $script failed" >&2
		status=1
	fi
done
exit $status
