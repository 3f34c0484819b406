#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reaction latency to host memory pressure: kvm_autoballoon (the module
# decides, QEMU automatic=on) against a MOM-style 10 s poller and a PSI
# trigger daemon (both userspace, plain QEMU, QMP balloon), in one test VM
# per kernel, with nested guests under nested KVM. See reaction.py for the
# method.
#
#   bench/reaction/run.sh [6.1] [6.12]      (default: both)
#
# Environment: KAB_BENCH_TRIALS (5 per mode), KAB_BENCH_HOST_MEM (test VM
# MiB, 1536), and the KAB_BENCH_* of reaction.py.
#
# Writes bench/reaction/results.md; raw output in build/bench/reaction/.
# Prints figures and makes no timed assertion: fails only if a build or
# the VM run failed, or a mode could not be measured at all.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
series=("$@")
[ ${#series[@]} -gt 0 ] || series=(6.1 6.12)
bench_run reaction KAB_BENCH_ 0 "${series[@]}"

BENCH_KEEP=1 bench_results reaction <<-EOT
	<!-- SPDX-License-Identifier: GPL-2.0 -->
	# Reaction latency: kvm_autoballoon vs userspace balloon daemons

	Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/reaction/run.sh ${series[*]}\`
	on a $(nproc)-CPU machine shared with other VM runs (load average
	$(cut -d' ' -f1-3 /proc/loadavg) at the end): expect noise, the test VM is
	TCG and its guests are nested KVM on top of it.

	Method (details in \`bench/reaction/reaction.py\`): in one test VM, three
	modes, ${KAB_BENCH_TRIALS:-5} trials each, ${KAB_BENCH_GUESTS:-2} guests of
	${KAB_BENCH_RAM:-512} MiB (floor ${KAB_BENCH_FLOOR:-160} MiB) that touched
	${KAB_BENCH_WARM:-320} MiB and freed it before each trial. A host hog then
	grows to MemAvailable + ${KAB_BENCH_EXTRA:-160} MiB at
	${KAB_BENCH_RATE:-32} MiB/s (random 0..10 s start, so the poller's
	tick phase varies). All times on CLOCK_MONOTONIC in the test VM, from
	**onset** = the first rise of pgscan_* in /proc/vmstat (polled every
	~10 ms) to **target** (kab: QEMU's query-balloon target dropped;
	baselines: the daemon's first QMP \`balloon\` for that guest returned)
	and **actual** (query-balloon actual reached that first target).

	- **kab**: \`virtio-balloon-pci,automatic=on\`, module policy defaults
	  (vmpressure source) except \`relax_after_ms=3000\`,
	  \`relax_step_percent=10\` so that balloons empty between trials.
	- **mom**: plain QEMU + \`baseline.py mom\`: 10 s tick, MOM's balloon
	  rules (host MemFree+Cached < 20 % -> shrink each guest by up to 5 %
	  down to used + a free share; <= 5 % forced; else grow 5 %; ignore
	  < 0.25 % changes), guest free memory from the balloon statistics.
	- **psi**: plain QEMU + \`baseline.py psi\`: trigger "some 150000
	  1000000" on /proc/pressure/memory, each event shrinks every guest by
	  32 MiB.

	Each row of the tables is one guest in one trial (p99 = max, the
	samples are far fewer than 100). "no target": the mode never changed
	that guest's target within 30 s of onset (or before the hog ended);
	"target not reached": the balloon did not get there in that window.
	The hog has oom_score_adj 1000: an OOM kill of it means host memory
	ran out before ballooning gave enough back. The test VM has no swap.

	Rerun: \`bench/reaction/run.sh [6.1] [6.12]\` (or \`make bench\`); raw
	CSV and logs in build/bench/reaction/out-<release>/.
	EOT
exit $bench_status
