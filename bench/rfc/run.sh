#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The 2013 automatic-ballooning RFC experiment, scaled down: KAB_RFC_GUESTS
# (3) nested guests each run a build-like job on an overcommitted test VM
# with zram swap, with automatic ballooning (kvm_autoballoon) and without
# (a plain balloon at a fixed size). See rfc.py for the method.
#
#   bench/rfc/run.sh [6.1] [6.12]      (default: 6.1)
#
# Environment: KAB_RFC_HOST_MEM (test VM MiB, 1536) and the KAB_RFC_* of
# rfc.py. Writes bench/rfc/results.md; raw output in build/bench/rfc/.
# Prints figures, asserts nothing about them: fails only if a build or the
# VM run failed, or a phase could not be measured.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
series=("$@")
[ ${#series[@]} -gt 0 ] || series=(6.1)
bench_run rfc KAB_RFC_ 1 "${series[@]}"

bench_results rfc <<-EOT
	<!-- SPDX-License-Identifier: GPL-2.0 -->
	# The 2013 automatic-ballooning RFC experiment, scaled down

	Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/rfc/run.sh ${series[*]}\`
	on a $(nproc)-CPU machine shared with other VM runs (load average
	$(cut -d' ' -f1-3 /proc/loadavg) at the end): expect noise.

	The 2013 automatic-ballooning RFC for QEMU's virtio-balloon ran several
	guests doing kernel builds on an overcommitted host with swap, with and without automatic
	ballooning, and reported host swap-out cut by about 99 % with no gain
	in build time. Here, scaled to what a TCG test VM can hold:

	- host: the test VM (${KAB_RFC_HOST_MEM:-1536} MiB, 1 vCPU, TCG) with a
	  ${KAB_RFC_SWAP:-1024} MiB zram swap device (modprobe zram, zramctl,
	  mkswap, swapon);
	- ${KAB_RFC_GUESTS:-3} guests of ${KAB_RFC_RAM:-640} MiB each under nested
	  KVM, more than the host's RAM in sum;
	- each guest runs \`build ${KAB_RFC_MIB:-400} ${KAB_RFC_ROUNDS:-10}\` of
	  kab_guest (a build-like job: each round allocates a pseudo-random
	  ${KAB_RFC_MIB:-400}/4..${KAB_RFC_MIB:-400} MiB, writes every page four
	  times and frees it; seeded, the same in every guest and run), all
	  started at once;
	- **auto**: \`virtio-balloon-pci,automatic=on\`, kvm_autoballoon with its
	  policy defaults (vmpressure host source, guest pressure doorbell);
	- **fixed**: plain \`virtio-balloon-pci\`, balloon held at a fixed
	  size (guest size ${KAB_RFC_FIXED:-${KAB_RFC_RAM:-640}} MiB: no balloon);
	- ${KAB_RFC_REPEAT:-2} rounds of two phases, auto first in odd rounds,
	  fixed first in even ones, each phase with freshly booted guests.

	Figures: host pswpout/pswpin deltas over the phase (/proc/vmstat,
	pages), the most swap in use, each job's runtime (\`kabg: built ms=\`)
	and OOM restarts (the job restarts from scratch when the guest's OOM
	killer takes it), each guest's balloon when its job ended.

	Rerun: \`bench/rfc/run.sh [6.1] [6.12]\` (or \`make bench\`);
	samples every 0.5 s in build/bench/rfc/out-<release>/rfc-*.csv.
	EOT
exit $bench_status
