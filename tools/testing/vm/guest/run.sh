#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests (and the benchmark) of the guest driver virtio_autoballoon, each in a
# test VM booted by tools/testing/vm/run-vm.sh with a stock Debian kernel.
#
#   tools/testing/vm/guest/run.sh [--kernel 6.1|6.12]... [SUITE]...
#
# SUITE is doorbell, early, balloon, oom, reporting, noreporting,
# qemudoorbell (default: these seven) or bench; --kernel is repeatable
# (default: 6.1 and 6.12).
#   doorbell  the pressure doorbell against vab_testdev, a software virtio
#             balloon device that offers the feature (no VMM device at all)
#   early     against vab_testdev in a 1 GiB guest without swap: a hog
#             allocating anonymous memory at VAB_EARLY_MIB_S (100) MiB/s
#             hears low or medium before its first allocation stall and
#             before any OOM kill, VAB_EARLY_ROUNDS (3) times; lead times
#             and ring sequences as TAP comments. Also: a memcg-local OOM
#             kill rings no critical; a page cache thrashing on a 192 MiB
#             file (written under build/guest/run-<pid>/, read over the 9p
#             root) is detected by the refault rules alone
#   balloon   the balloon under Debian's unpatched QEMU with
#             -device virtio-balloon-pci: QMP balloon, query-balloon,
#             guest-stats, idle and hog pressure detection
#   oom       DEFLATE_ON_OOM under Debian's QEMU (deflate-on-oom=on): balloon
#             pages stay in MemTotal, the OOM notifier gives some back
#   reporting free page reporting under Debian's QEMU
#             (free-page-reporting=on): 256 MiB allocated, touched and
#             freed in the guest comes off this QEMU's RSS within 10 s
#   noreporting the same with free-page-reporting=off: the RSS stays
#   qemudoorbell  the doorbell end to end through virtio-pci into our
#             patched QEMU (qemu/build.sh) with x-pressure-doorbell=on,
#             which offers the feature and counts the writes per level;
#             skipped when build/qemu/obj/qemu-system-x86_64 is not built,
#             or built without virtio-9p-pci, which run-vm.sh needs
#   bench     inflate/deflate speed of 512 MiB, ours against the stock
#             virtio_balloon in the same VM (figures as TAP comments);
#             bench/run.sh runs it
#
# The driver and vab_testdev are built for each kernel from copies of their
# sources under build/guest/run-<pid>/<release>/, so the build never touches
# the source tree that the top-level make uses, nor another run's modules.
# Output is TAP, one block per suite and kernel; a VM that hangs or shows
# kernel trouble adds a "not ok". Exit 0 all passed, 1 something failed,
# 4 everything skipped.
#
# Environment: VAB_IDLE_S (idle test, default 60), VAB_BENCH_MIB (512),
# VAB_BENCH_ROUNDS (3), VAB_EARLY_ROUNDS (3), VAB_EARLY_MIB_S (100),
# VAB_DOORBELL_QEMU (the patched QEMU binary for
# qemudoorbell, default build/qemu/obj/qemu-system-x86_64).

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

kernels=()
suites=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernels+=("$2"); shift 2 ;;
	doorbell|early|balloon|qemudoorbell|oom|reporting|noreporting|bench)
		suites+=("$1"); shift ;;
	-h|--help) sed -n '4,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) kab_die "unknown argument $1 (see --help)" ;;
	esac
done
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)
[ ${#suites[@]} -gt 0 ] ||
	suites=(doorbell early balloon oom reporting noreporting qemudoorbell)

passed=0
failed=0
skipped=0

# Print one TAP block of a single result, for failures outside a suite.
tap_one() {
	local verdict=$1 name=$2 why=${3:-}
	printf 'TAP version 13\n1..1\n%s 1 %s\n' "$verdict" "$name"
	[ -z "$why" ] || printf '# %s\n' "$why"
}

# Tally a suite's exit status the way kselftest does.
tally() {
	case $1 in
	0) passed=$((passed + 1)) ;;
	4) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
}

if ! command -v qemu-system-x86_64 >/dev/null; then
	printf 'TAP version 13\n1..1\nok 1 guest driver tests # SKIP qemu-system-x86_64 not installed\n'
	exit 4
fi

python=/usr/bin/python3
our_qemu=${VAB_DOORBELL_QEMU:-$KAB_BUILD/qemu/obj/qemu-system-x86_64}
# Each invocation works in its own directory, so that concurrent runs
# (make check and a benchmark, say) never rebuild each other's modules.
# It is removed when everything passed, kept for a look otherwise.
work=$KAB_BUILD/guest/run-$$
rm -rf "$work"
mkdir -p "$work"
hog=$work/vab_hog
cc -O2 -Wall -Wextra -Werror -o "$hog" "$here/vab_hog.c" ||
	kab_die "cannot build vab_hog"

# build_modules RELEASE KDIR: build the driver and vab_testdev for RELEASE.
build_modules() {
	local rel=$1 kdir=$2 dir=$work/$1
	rm -rf "$dir"
	mkdir -p "$dir"
	# Sources only: an in-tree build may have left objects of another kernel.
	mkdir -p "$dir/driver" "$dir/testdev"
	cp "$KAB_TOP"/guest/drivers/virtio/{Kbuild,*.c,*.h} "$dir/driver/"
	cp "$here"/vab_testdev/{Kbuild,*.c} "$dir/testdev/"
	make -s -C "$kdir" M="$dir/driver" modules >"$dir/build.log" 2>&1 &&
	make -s -C "$kdir" M="$dir/testdev" VAB_DRIVER_DIR="$dir/driver" \
		modules >>"$dir/build.log" 2>&1 &&
	[ -f "$dir/driver/virtio_autoballoon.ko" ] &&
	[ -f "$dir/testdev/vab_testdev.ko" ]
}

# run_suite SERIES RELEASE SUITE: one VM run of tests.py SUITE.
run_suite() {
	local series=$1 rel=$2 suite=$3 dir=$work/$2
	local share=$dir/share-$suite sock=$dir/qmp-$suite.sock
	local mem=1024 relay='' rc device=virtio-balloon-pci,id=balloon0
	local args=(--kernel "$series" --no-kvm --smp 1 --timeout 900
		    --out "$share"
		    --env VAB_DRIVER="$dir/driver/virtio_autoballoon.ko"
		    --env VAB_TESTDEV="$dir/testdev/vab_testdev.ko"
		    --env VAB_HOG="$hog"
		    --env VAB_QMP_DIR="$share"
		    --env VAB_IDLE_S="${VAB_IDLE_S:-60}"
		    --env VAB_BENCH_MIB="${VAB_BENCH_MIB:-512}"
		    --env VAB_BENCH_ROUNDS="${VAB_BENCH_ROUNDS:-3}"
		    --env VAB_EARLY_ROUNDS="${VAB_EARLY_ROUNDS:-3}"
		    --env VAB_EARLY_MIB_S="${VAB_EARLY_MIB_S:-100}")
	[ "$suite" = doorbell ] && mem=512
	if [ "$suite" = early ]; then
		# A file for the page cache to thrash on, read in the VM over
		# the 9p root (cache=loose); the writable shares do not cache.
		[ -f "$work/refault.dat" ] ||
			head -c $((192 << 20)) /dev/zero >"$work/refault.dat"
		args+=(--env VAB_REFAULT_FILE="$work/refault.dat")
	fi
	[ "$suite" = oom ] && device+=,deflate-on-oom=on
	[ "$suite" = reporting ] && device+=,free-page-reporting=on
	[ "$suite" = noreporting ] && device+=,free-page-reporting=off
	if [ "$suite" = bench ]; then
		mem=2048
		args+=(--smp 2)
	fi
	if [ "$suite" = qemudoorbell ]; then
		if [ ! -x "$our_qemu" ]; then
			tap_one ok "guest/qemudoorbell on $rel # SKIP patched QEMU not built (qemu/build.sh)"
			tally 4
			return
		fi
		# run-vm.sh shares the root over virtio-9p.
		if ! "$our_qemu" -device help 2>/dev/null | grep -q '"virtio-9p-pci"'; then
			tap_one ok "guest/qemudoorbell on $rel # SKIP $our_qemu has no virtio-9p-pci (configure --enable-virtfs)"
			tally 4
			return
		fi
		device+=,x-pressure-doorbell=on
		args+=(--qemu "$our_qemu" --qemu-arg -L --qemu-arg /usr/share/qemu
		       --qemu-arg -L --qemu-arg /usr/share/seabios)
	fi
	args+=(--mem "$mem" --env VAB_RAM_MIB="$mem")
	# A unix socket path has at most 107 bytes; a deep clone gets /tmp.
	[ ${#sock} -lt 100 ] || sock=$(mktemp -u /tmp/vab-qmp.XXXXXX)
	rm -rf "$share" "$sock"
	mkdir -p "$share"
	if [ "$suite" != doorbell ] && [ "$suite" != early ]; then
		args+=(--qemu-arg -device --qemu-arg "$device"
		       --qemu-arg -qmp --qemu-arg "unix:$sock,server=on,wait=off")
		"$python" "$here/qmp_relay.py" "$sock" "$share" &
		relay=$!
	fi
	echo "# guest/$suite on $rel" >&2
	"$here/../run-vm.sh" "${args[@]}" -- "$python" "$here/tests.py" "$suite"
	rc=$?
	if [ -n "$relay" ]; then
		kill "$relay" 2>/dev/null
		wait "$relay" 2>/dev/null
	fi
	rm -f "$sock"
	case $rc in
	0|1|4) ;;
	*) tap_one "not ok" "guest/$suite on $rel: VM run failed" \
		"run-vm.sh exit $rc (124 hang, 125 kernel trouble, 126 insmod)" ;;
	esac
	tally "$rc"
}

for series in "${kernels[@]}"; do
	if ! info=$("$here/../get-kernel.sh" "$series"); then
		tap_one "not ok" "guest driver tests on $series: fetch the kernel" \
			"tools/testing/vm/get-kernel.sh $series failed (see stderr)"
		failed=$((failed + 1))
		continue
	fi
	eval "$info"
	# shellcheck disable=SC2154 # set by get-kernel.sh
	if ! build_modules "$release" "$kdir"; then
		tap_one "not ok" "guest modules build for $release" \
			"see $work/$release/build.log"
		failed=$((failed + 1))
		continue
	fi
	for suite in "${suites[@]}"; do
		run_suite "$series" "$release" "$suite"
	done
done

echo "# guest suites: $passed passed, $failed failed, $skipped skipped" >&2
if [ "$failed" != 0 ]; then
	echo "# modules, logs and shares kept in $work" >&2
	exit 1
fi
rm -rf "$work"
[ "$passed" = 0 ] && [ "$skipped" -gt 0 ] && exit 4
exit 0
