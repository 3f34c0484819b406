#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Figures of the guest driver virtio_autoballoon, measured by the guest
# suites of tools/testing/vm/guest/run.sh in test VMs (Debian's QEMU 7.2,
# TCG):
#
#   bench        inflate and deflate speed against the stock virtio_balloon
#                in the same VM (2 GiB guest, 2 vCPUs), alternating the two
#                drivers (and which goes first) for VAB_BENCH_ROUNDS rounds
#                (default 5) of VAB_BENCH_MIB MiB (default 512); time from
#                the QMP balloon command until MemTotal shows the new size
#                (polled every 20 ms)
#   early        early warning: lead time from the first low/medium ring to
#                the first allocation stall or OOM kill, and the ring
#                sequence, of a hog allocating anonymous memory at
#                VAB_EARLY_MIB_S MiB/s (default 100) in a 1 GiB swapless
#                guest, VAB_EARLY_ROUNDS rounds (default 5)
#   reporting, noreporting
#                free page reporting: RSS of the QEMU process before, with
#                and after a 256 MiB hog, free-page-reporting on and off
#
#   bench/guest/run.sh [--kernel 6.1|6.12]...    (default: both)
#
# Writes bench/guest/results.md (figures per kernel) and the raw TAP to
# build/bench/guest.txt.

set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--kernel 6.1 --kernel 6.12)
export VAB_BENCH_ROUNDS=${VAB_BENCH_ROUNDS:-5}
export VAB_EARLY_ROUNDS=${VAB_EARLY_ROUNDS:-5}
raw=$top/build/bench/guest.txt
mkdir -p "$top/build/bench"

"$top/tools/testing/vm/guest/run.sh" "${args[@]}" bench early reporting \
	noreporting 2>&1 | tee "$raw"
rc=${PIPESTATUS[0]}

{
	echo "<!-- SPDX-License-Identifier: GPL-2.0 -->"
	echo "# Guest driver figures: balloon speed, early warning, free page reporting"
	echo
	echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by bench/guest/run.sh on a"
	echo "$(nproc)-CPU host (load average $(cut -d' ' -f1-3 /proc/loadavg) at the end),"
	echo "QEMU $(qemu-system-x86_64 --version | head -n1 | awk '{print $4}') TCG. Exit status of the"
	echo "suites: $rc (0: every assertion passed). Raw TAP: build/bench/guest.txt."
	echo
	echo "- bench: 2 GiB guest, ${VAB_BENCH_MIB:-512} MiB per step, ${VAB_BENCH_ROUNDS} rounds per"
	echo "  driver, drivers alternated in the same VM; MiB/s from the QMP command to"
	echo "  MemTotal."
	echo "- early: 1 GiB guest without swap, vab_testdev device, default parameters;"
	echo "  a hog of RAM + 256 MiB at ${VAB_EARLY_MIB_S:-100} MiB/s, ${VAB_EARLY_ROUNDS} rounds. Times in ms"
	echo "  since the hog started (polled every 10 ms); lead = first stall or OOM"
	echo "  kill minus first low/medium ring."
	echo "- reporting / noreporting: 1 GiB guest, Debian's QEMU with"
	echo "  free-page-reporting=on / off; VmRSS of that QEMU process."
	awk '
		/^# guest\/[a-z]+ on / { if ($2 != last) printf "\n## %s on %s\n\n", $2, $4; last = $2; next }
		/^not ok/ { print "- FAILED: " $0; next }
		/median/ { sub(/^# /, ""); print "- " $0; next }
		/^# early round/ { sub(/^# /, ""); print "- " $0; next }
		/^# (no)?reporting: / { sub(/^# /, ""); print "- " $0; next }
		/^# .* round [0-9]+:/ { sub(/^# /, ""); rounds = rounds "    " $0 "\n"; next }
		/^run-vm.sh: .*exit/ { if (rounds != "") printf "\nEvery round:\n\n%s", rounds; rounds = "" }
	' "$raw"
} >"$top/bench/guest/results.md"
echo "bench/guest: figures in bench/guest/results.md" >&2
exit "$rc"
