#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inflate and deflate speed of virtio_autoballoon against the stock
# virtio_balloon, in the same test VM (Debian's QEMU 7.2, TCG, 2 GiB guest,
# 2 vCPUs), alternating the two drivers (and which goes first) for
# VAB_BENCH_ROUNDS rounds (default 5) of VAB_BENCH_MIB MiB (default 512).
# Time runs from the QMP balloon command until the guest's MemTotal shows
# the new size (polled every 20 ms).
#
#   bench/guest/run.sh [--kernel 6.1|6.12]...    (default: both)
#
# Writes bench/guest/results.md (figures per kernel: medians and every
# round) and the raw TAP to build/bench/guest.txt.

set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--kernel 6.1 --kernel 6.12)
export VAB_BENCH_ROUNDS=${VAB_BENCH_ROUNDS:-5}
raw=$top/build/bench/guest.txt
mkdir -p "$top/build/bench"

"$top/tools/testing/vm/guest/run.sh" "${args[@]}" bench 2>&1 | tee "$raw"
rc=${PIPESTATUS[0]}

{
	echo "# Guest balloon: inflate/deflate speed, virtio_autoballoon vs virtio_balloon"
	echo
	echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by bench/guest/run.sh on a"
	echo "$(nproc)-CPU host (load average $(cut -d' ' -f1-3 /proc/loadavg) at the end),"
	echo "QEMU $(qemu-system-x86_64 --version | head -n1 | awk '{print $4}') TCG, 2 GiB guest,"
	echo "${VAB_BENCH_MIB:-512} MiB per step, ${VAB_BENCH_ROUNDS} rounds per driver,"
	echo "drivers alternated in the same VM. MiB/s from the QMP command to MemTotal."
	echo
	awk '
		/^# guest\/bench on / { printf "\n## %s\n\n", $4; next }
		/median/ { sub(/^# /, ""); print "- " $0; next }
		/ round [0-9]+:/ { sub(/^# /, ""); rounds = rounds "    " $0 "\n"; next }
		/^run-vm.sh: .*exit/ { if (rounds != "") printf "\nEvery round:\n\n%s", rounds; rounds = "" }
	' "$raw"
} >"$top/bench/guest/results.md"
echo "bench/guest: figures in bench/guest/results.md" >&2
exit "$rc"
