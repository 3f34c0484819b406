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
# The whole output also goes to build/bench/pressure/<release>.txt.

set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../tools/testing/vm/lib.sh
. "$top/tools/testing/vm/lib.sh"

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
	"$top/bench/pressure/pressure_bench.c" "$selftests/lib.c"

for series in "${series_list[@]}"; do
	info=$("$top/tools/testing/vm/get-kernel.sh" "$series") ||
		{ echo "bench/pressure: cannot fetch kernel $series" >&2; exit 1; }
	eval "$info"
	# shellcheck disable=SC2154 # set by get-kernel.sh
	build=$out/$release
	rm -rf "$build"
	mkdir -p "$build/kernel/virt" "$build/include"
	cp -r "$top/kernel/virt/autoballoon" "$build/kernel/virt/"
	cp -r "$top/include/uapi" "$build/include/"
	echo 'obj-m += kernel/virt/autoballoon/' >"$build/Kbuild"
	# shellcheck disable=SC2154
	make -s -C "$kdir" M="$build" modules -j2 >&2
	ko=$build/kernel/virt/autoballoon/kvm_autoballoon.ko

	kab_log "$release: latency ($runs runs per source), overhead ($overhead_runs runs)"
	"$top/tools/testing/vm/run-vm.sh" --kernel "$series" --no-kvm \
		--timeout "${KAB_VM_TIMEOUT:-1800}" --module "$ko" -- \
		bash -c "echo kernel \$(uname -r); cat /sys/kernel/mm/lru_gen/enabled 2>/dev/null | sed 's/^/lru_gen /'; \
			'$out/pressure_bench' latency $runs $source && \
			{ [ $overhead_runs = 0 ] || \
			  '$out/pressure_bench' overhead $overhead_runs '$ko'; }" |
		tee "$out/$release${source:+-$source}.txt"
done
