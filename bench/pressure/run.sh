#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Figures of the host pressure sources, on each Debian kernel, in the test
# VM (tools/testing/vm/run-vm.sh): benchmarks, not assertions.
#
#   bench/pressure/run.sh [SERIES...]	SERIES: 6.1 6.12 (default both)
#
# Environment: RUNS (latency runs per source, default 5), SOURCE (only
# this latency source, see pressure_bench.c), OVERHEAD_RUNS (default 5; 0
# skips it), KAB_VM_TIMEOUT (default 1800 s per VM).
#
# Builds kvm_autoballoon.ko for the kernel into build/bench/pressure/<rel>/
# and the benchmark program (pressure_bench.c, which says what it measures)
# next to it, boots the kernel and prints:
#   latency <source> median S	hog start -> first host pressure decision
#   overhead kprobe hits median N/s, cpu/wall medians with and without
#   the module and their ratio
# The whole output also goes to build/bench/pressure/<release>.txt, and
# bench/pressure/report.py turns it into the kernel's section of
# bench/pressure/results.md (sections of kernels not rerun are kept).
# Exits non-zero when a kernel could not be measured.

set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../tools/testing/vm/lib.sh
. "$top/tools/testing/vm/lib.sh"
# shellcheck source=../lib.sh
. "$top/bench/lib.sh"

runs=${RUNS:-5}
overhead_runs=${OVERHEAD_RUNS:-5}
source=${SOURCE:-}
series_list=("$@")
[ ${#series_list[@]} -gt 0 ] || series_list=(6.1 6.12)
out=$KAB_BUILD/bench/pressure
selftests=$top/tools/testing/selftests/kvm_autoballoon
mkdir -p "$out"

# The program: the selftests' helpers, no kselftest harness.
gcc -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$top/include/uapi" \
	-I"$selftests" -o "$out/pressure_bench" \
	"$top/bench/pressure/pressure_bench.c" "$selftests/lib.c" ||
	kab_die "bench/pressure: the benchmark program did not build"

for series in "${series_list[@]}"; do
	if ! info=$("$top/tools/testing/vm/get-kernel.sh" "$series"); then
		echo "bench/pressure: cannot fetch kernel $series" >&2
		bench_status=1
		continue
	fi
	eval "$info"
	# shellcheck disable=SC2154 # set by get-kernel.sh
	build=$out/$release
	rm -rf "$build"
	mkdir -p "$build/kernel/virt" "$build/include"
	cp -r "$top/kernel/virt/autoballoon" "$build/kernel/virt/"
	cp -r "$top/include/uapi" "$build/include/"
	echo 'obj-m += kernel/virt/autoballoon/' >"$build/Kbuild"
	# shellcheck disable=SC2154
	if ! make -s -C "$kdir" M="$build" modules -j2 >&2; then
		bench_section "$release" "## $release"$'\n\nNot measured: the module did not build.\n'
		bench_status=1
		continue
	fi
	ko=$build/kernel/virt/autoballoon/kvm_autoballoon.ko

	kab_log "$release: latency ($runs runs per source), overhead ($overhead_runs runs)"
	txt=$out/$release${source:+-$source}.txt
	when=$(date -u '+%Y-%m-%d %H:%M UTC')
	start=$(date +%s)
	"$top/tools/testing/vm/run-vm.sh" --kernel "$series" --no-kvm \
		--timeout "${KAB_VM_TIMEOUT:-1800}" --module "$ko" -- \
		bash -c "echo kernel \$(uname -r); cat /sys/kernel/mm/lru_gen/enabled 2>/dev/null | sed 's/^/lru_gen /'; \
			'$out/pressure_bench' latency $runs '$ko' $source && \
			{ [ $overhead_runs = 0 ] || \
			  '$out/pressure_bench' overhead $overhead_runs '$ko'; }" |
		tee "$txt"
	rc=${PIPESTATUS[0]}
	[ "$rc" = 0 ] || bench_status=1
	body="## $release"$'\n\n'"Test VM: QEMU TCG (-cpu max), no swap; measured $when; "
	body+="run took $(($(date +%s) - start)) s (run-vm.sh exit $rc); "
	body+="$runs latency runs per source${source:+ (source $source only)}, "
	body+="$overhead_runs overhead runs with and without the module."$'\n\n'
	if report=$(python3 "$top/bench/pressure/report.py" "$txt"); then
		body+=$report$'\n'
	else
		body+=$report$'\n'
		bench_status=1
	fi
	bench_section "$release" "$body"
done

BENCH_KEEP=1 bench_results pressure <<-EOT
	<!-- SPDX-License-Identifier: GPL-2.0 -->
	# Host pressure sources: figures

	Generated $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/pressure/run.sh ${series_list[*]}\`
	(program \`pressure_bench.c\`, which says exactly what it measures;
	tables by \`bench/pressure/report.py\`) in the test VM, on a
	$(nproc)-CPU machine shared with other test VMs (load average
	$(cut -d' ' -f1-3 /proc/loadavg) at the end). Benchmarks, not
	assertions: TCG is slow and the machine is shared, so take the spread
	seriously. Each kernel's section says when it was measured; sections of
	kernels not rerun are kept from the previous results.md. Raw output:
	\`build/bench/pressure/<release>.txt\`.

	**Detection latency**: from the start of a workload to the first host
	pressure decision (the VM's target eventfd firing), policy timers set
	to 0.

	- vmpressure-memcg: a process thrashes 96 MiB of mapped page cache in a
	  cgroup with \`memory.max\` 32M; the VM is registered from that cgroup.
	- vmpressure-global: a hog allocates anonymous memory until 160 MiB are
	  available; made before, untimed, 768 MiB of page cache and ballast
	  until 256 MiB are free (filling the RAM under TCG takes tens of
	  seconds and would time memset, not the source).
	- psi-vm: the thrash, with a trigger \`some 50000 500000\` on the
	  cgroup's \`memory.pressure\` passed as the VM's \`psi_fd\` (VM in
	  the root cgroup).
	- psi-host: the global hog and, beside it in the root cgroup, a
	  thrash of 256 MiB of mapped page cache (the hog alone does not
	  stall: kswapd keeps up with TCG's memset), with the same trigger on
	  \`/proc/pressure/memory\` bound by \`KAB_BIND_HOST_PSI\`; the module
	  is loaded with \`vmpressure=0\` for it (and the next), so that the
	  decision timed is the trigger's.
	- psi-host-local: the thrash with that host-wide trigger. The
	  cgroup's stall shows in \`/proc/pressure/memory\`, but the host has
	  memory to spare (no deficit): the policy should decide nothing. The
	  run waits 30 s; its last column shows the events arrived.

	The last column counts the host events the VM received
	(\`vms/<id>/host_events_*\`) by the end of each run: an event the
	policy declined shows there without a decision.

	**kprobe overhead**: one process streams 1 GiB of the RAM disk through
	a cgroup with \`memory.max\` 64M, with the module loaded and a VM
	registered from that cgroup (its memcg watched: the handler's longest
	path), and as often without the module, alternating which goes first.

	Rerun: \`bench/pressure/run.sh [6.1] [6.12]\` (or \`make bench\`).
	EOT
exit "$bench_status"
