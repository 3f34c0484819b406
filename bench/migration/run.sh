#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Live migration downtime with and without automatic=on (QMP query-migrate
# "downtime"), the same nested guest and balloon in both arms, in one test
# VM per kernel. See migration.py for the method.
#
#   bench/migration/run.sh [6.1] [6.12]      (default: both)
#
# Environment: KAB_MIG_ROUNDS (migrations per arm, 10), KAB_MIG_HOST_MEM
# (test VM MiB, 2048: both ends of a migration run at once).
#
# Writes bench/migration/results.md; raw output in build/bench/migration/.
# Prints figures and makes no timed assertion.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
series=("$@")
[ ${#series[@]} -gt 0 ] || series=(6.1 6.12)
export KAB_MIG_HOST_MEM=${KAB_MIG_HOST_MEM:-2048}
bench_run migration KAB_MIG_ 0 "${series[@]}"

BENCH_KEEP=1 bench_results migration <<-EOT
	<!-- SPDX-License-Identifier: GPL-2.0 -->
	# Live migration downtime: automatic=on against a plain balloon

	Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/migration/run.sh ${series[*]}\`
	on a $(nproc)-CPU machine shared with other VM runs (load average
	$(cut -d' ' -f1-3 /proc/loadavg) at the end): the test VM is TCG and its
	guests are nested KVM on top of it, so the figures are far above bare
	metal and noisy; what matters is the difference between the arms.
	Method: \`bench/migration/migration.py\`.
EOT
exit $bench_status
