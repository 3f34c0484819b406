#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reaction latency to host memory pressure: kvm_autoballoon (the module
# decides, QEMU automatic=on) against a MOM-style 10 s poller and a PSI
# trigger daemon (both userspace, plain QEMU, QMP balloon), in one test VM
# per kernel, with nested guests under nested KVM. See reaction.py for the
# method.
#
#   bench/reaction/run.sh [6.1] [6.12]      (default: 6.1)
#
# Environment: KAB_BENCH_TRIALS (5 per mode), KAB_BENCH_HOST_MEM (test VM
# MiB, 1536), and the KAB_BENCH_* of reaction.py.
#
# Writes bench/reaction/results.md; raw output in build/bench/reaction/.
# Prints figures and makes no timed assertion: fails only if a build or
# the VM run failed, or a mode could not be measured at all.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
top=$bench_top
series=("$@")
[ ${#series[@]} -gt 0 ] || series=(6.1)
work=$top/build/bench/reaction
mkdir -p "$work"
results=$here/results.md
status=0
body=
envs=()
for v in $(compgen -v KAB_BENCH_); do
	envs+=(--env "$v=${!v}")
done

for s in "${series[@]}"; do
	if ! bench_prepare "$s" "$work"; then
		status=1
		body+=$'\n'"## $s"$'\n\nNot measured: the build failed.\n'
		continue
	fi
	out=$work/out-$bench_release
	rm -rf "$out"
	mkdir -p "$out"
	echo "== bench/reaction on $bench_release" >&2
	start=$(date +%s)
	timeout 1700 "$top/tools/testing/vm/run-vm.sh" --kernel "$s" \
		--mem "${KAB_BENCH_HOST_MEM:-1536}" --smp 1 --timeout 1600 \
		--module "$bench_ko" --out "$out" \
		"${envs[@]}" \
		-- python3 "$here/reaction.py" "$bench_qemu" "$bench_kernel" \
		"$bench_cpio" 2>&1 | tee "$out/run.log"
	rc=${PIPESTATUS[0]}
	secs=$(($(date +%s) - start))
	# The measurement's own verdict; run-vm.sh's exit status alone can be
	# wrong (a concurrent run pruning this run's directory).
	verdict=$(cat "$out/reaction.status" 2>/dev/null) || verdict=1
	[ "$verdict" = 0 ] || status=1
	body+=$'\n'"## $bench_release"$'\n\n'
	body+="Test VM: ${KAB_BENCH_HOST_MEM:-1536} MiB, 1 vCPU, TCG; run took ${secs} s"
	body+=" (run-vm.sh exit $rc, measurement status $verdict)."$'\n\n'
	if [ -s "$out/reaction.md" ]; then
		body+=$(cat "$out/reaction.md")$'\n'
	else
		body+=$'No figures: see build/bench/reaction/out-'"$bench_release"$'/run.log.\n'
	fi
done

{
	cat <<-EOT
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
	echo "$body"
	if [ -f "$here/discussion.md" ]; then
		echo
		grep -v '^<!-- SPDX' "$here/discussion.md"
	fi
} >"$results"
echo "bench/reaction: figures in bench/reaction/results.md" >&2
exit $status
