#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The 2013 automatic-ballooning RFC experiment, scaled down: KAB_RFC_GUESTS
# (3) nested guests each run a build-like job on an overcommitted test VM
# with zram swap, under four arms: a fixed balloon, a fixed balloon with
# free page reporting, oVirt MOM's rules over QMP, and kvm_autoballoon. See
# rfc.py for the method.
#
#   bench/rfc/run.sh [6.1] [6.12]      (default: both)
#
# Runs each job of KAB_RFC_JOBS ("rfc hard" unless set: the RFC-like case,
# whose section ends with the goal line, and the hard one, whose section
# ends with the hard line; see rfc.py) on each kernel, one test VM each.
# Environment: KAB_RFC_HOST_MEM (test VM MiB, 1536), KAB_RFC_VM_TIMEOUT
# (the test VM's limit, s; default from the arms, rounds and phase timeout)
# and the KAB_RFC_* of rfc.py (KAB_RFC_ARMS, KAB_RFC_REPEAT, ...). Writes bench/rfc/results.md, keeping the sections of kernels not
# measured this time; raw output in build/bench/rfc/. Prints figures,
# asserts nothing about them: fails only if a build or the VM run failed,
# or an arm could not be measured.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
series=("$@")
[ ${#series[@]} -gt 0 ] || series=(6.1 6.12)
arms=${KAB_RFC_ARMS:-fixed,fixed-fpr,mom,auto}
IFS=', ' read -r -a arm_list <<<"$arms"
# The phases, and the unmeasured warm-up phase before them.
phases=$((${#arm_list[@]} * ${KAB_RFC_REPEAT:-3} + 1))
# Each phase: boots and shuts down (~1 min under TCG) around the job.
export KAB_RFC_VM_TIMEOUT=${KAB_RFC_VM_TIMEOUT:-$((phases * (${KAB_RFC_TIMEOUT:-240} + 60) + 300))}
read -r -a jobs <<<"${KAB_RFC_JOBS:-rfc hard}"
# Each job's sections are "RELEASE (JOB)".
for job in "${jobs[@]}"; do
	export KAB_RFC_JOB=$job
	BENCH_TAG=$job bench_run rfc KAB_RFC_ 1 "${series[@]}"
done

BENCH_KEEP=1 bench_results rfc <<-EOT
	<!-- SPDX-License-Identifier: GPL-2.0 -->
	# The 2013 automatic-ballooning RFC experiment, scaled down

	Generated $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/rfc/run.sh ${series[*]}\`
	(jobs measured: ${jobs[*]:-none, the page only rewritten from its sections and discussion.md})
	on a $(nproc)-CPU machine shared with other VM runs (load average
	$(cut -d' ' -f1-3 /proc/loadavg) at the end): expect noise. Each
	kernel's section says when it was measured and with which job and arms;
	sections of kernels not rerun are kept from the previous results.md.

	The 2013 automatic-ballooning RFC for QEMU's virtio-balloon ran several
	guests doing kernel builds on an overcommitted host with swap, with and without automatic
	ballooning, and reported host swap-out cut by about 99 % with no gain
	in build time. Here, scaled to what a TCG test VM can hold:

	- host: the test VM (${KAB_RFC_HOST_MEM:-1536} MiB, 1 vCPU, TCG) with a
	  ${KAB_RFC_SWAP:-1024} MiB zram swap device (modprobe zram, zramctl,
	  mkswap, swapon);
	- ${KAB_RFC_GUESTS:-3} guests of ${KAB_RFC_RAM:-640} MiB each under nested
	  KVM, more than the host's RAM in sum; every guest loads our driver
	  (virtio_autoballoon, from the initramfs of mkguest.sh) in every arm;
	- each guest runs a job of kab_guest, \`build MIB ROUNDS [CACHE SEED]\`,
	  all started at once: each round allocates a pseudo-random MIB/4..MIB
	  MiB (from SEED), writes every page four times and frees it; with CACHE
	  it first writes CACHE MiB of sources to a virtio-blk disk backed by
	  QEMU's null-co driver (writes discarded, reads zeroes: no host memory,
	  no host I/O), then each round reads the sources back before its
	  allocation and writes CACHE/2 MiB of objects after it, never synced:
	  page cache, as a kernel build has. Two jobs, a section each:
	  - **rfc**, the RFC's case: guests overcommitted in size whose working
	    sets fit together, \`build 160 10 64 SEED\`, guest i with seed i + 1
	    (their rounds differ and drift apart); its section ends with the
	    goal line;
	  - **hard**: \`build 400 10\`, anonymous memory only, the same seed in
	    every guest, so that all peak together, beyond what the host holds;
	    its section ends with the hard line, against the oracle's minimum
	    (the swap-out a policy knowing every working set would still cause;
	    how rfc.py computes it is in its docstring and each section);
	- **fixed**: plain \`virtio-balloon-pci\`, balloon held at a fixed
	  size (guest size ${KAB_RFC_FIXED:-${KAB_RFC_RAM:-640}} MiB: no balloon);
	- **fixed-fpr**: the same with \`free-page-reporting=on\`;
	- **mom**: plain \`virtio-balloon-pci\` driven over QMP by
	  \`bench/reaction/baseline.py mom ${KAB_RFC_MOM_FLOOR:-160}\` (oVirt MOM's
	  balloon rules, a ${KAB_MOM_TICK:-10} s tick, guest statistics polled
	  every 2 s), started once the guests are up;
	- **auto**: \`virtio-balloon-pci,automatic=on,free-page-reporting=on\`,
	  kvm_autoballoon with its policy defaults;
	- KAB_RFC_REPEAT rounds (3 unless set; this invocation:
	  ${KAB_RFC_REPEAT:-3}) of the arms (KAB_RFC_ARMS, all four unless set;
	  this invocation: $arms), round n rotated by n - 1 places so that no
	  arm always goes first, each phase with freshly booted guests, after
	  one unmeasured warm-up phase of the first arm (the test VM's first
	  reclaim pushes its own boot memory to swap and is much slower for
	  it, which would handicap whichever arm went first); a
	  phase ends when every job is done or after \`KAB_RFC_TIMEOUT\`
	  (${KAB_RFC_TIMEOUT:-240} s), unfinished jobs then counting as the
	  phase's length.

	Figures: host pswpout/pswpin deltas over the phase (/proc/vmstat,
	pages), the most swap in use, each job's runtime (\`kabg: built ms=\`)
	and OOM restarts (the job restarts from scratch when the guest's OOM
	killer takes it), each guest's balloon when its job ended. The goal
	and hard lines are computed by rfc.py from the means over rounds:
	auto's host swap-out against each other arm (and the oracle's
	minimum), auto's mean job runtime against fixed's, auto's OOM restarts
	in total.

	Rerun: \`bench/rfc/run.sh [6.1] [6.12]\` (or \`make bench\`);
	samples every 0.5 s in build/bench/rfc/out-<release>/rfc-*.csv.
	EOT
exit $bench_status
