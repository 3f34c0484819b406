#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What moving a balloon costs a nested guest: QEMU discarding every 4 KiB
# page on its own (x-page-runs=off) against consecutive pages as one range
# (patch 0007, the default), in one test VM per kernel. See motion.py.
#
#   bench/motion/run.sh [6.1] [6.12]      (default: both)
#
# Environment: KAB_MOTION_ROUNDS (phases per arm, 3), KAB_MOTION_RAM (the
# guest's MiB, 768), KAB_MOTION_MIB (MiB moved, 256).
#
# Writes bench/motion/results.md; raw output in build/bench/motion/.
# Prints figures and makes no timed assertion.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
series=("$@")
[ ${#series[@]} -gt 0 ] || series=(6.1 6.12)
bench_run motion KAB_MOTION_ 1 "${series[@]}"

BENCH_KEEP=1 bench_results motion <<-EOT
	<!-- SPDX-License-Identifier: GPL-2.0 -->
	# Balloon motion in a nested guest: page by page against page runs

	Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/motion/run.sh ${series[*]}\`
	on a $(nproc)-CPU machine (load average $(cut -d' ' -f1-3 /proc/loadavg)
	at the end). The test VM is TCG and the guest nested KVM on top of it:
	every page the host discards is a zap of nested KVM's mapping, far
	dearer than on bare metal. Method: \`bench/motion/motion.py\`.
EOT
exit $bench_status
