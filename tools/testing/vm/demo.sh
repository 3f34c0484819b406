#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: kvm_autoballoon at work, end to end, in one command.
#
# Installs what it needs (apt), builds our QEMU (qemu/build.sh: about 7 to
# 20 minutes the first time, cached after), the host module and the guest
# driver for Debian's 6.1 kernel, then boots that kernel in a QEMU VM (the
# machine's own kernel is never touched) with the module loaded. Inside, two
# guests run with -device virtio-balloon-pci,automatic=on and our driver,
# and qemu/tests/e2e_guest.py takes them through host pressure (a memory
# hog), guest pressure (a guest's workload grows), renewed host pressure and
# a SIGKILLed QEMU, logging as it goes. At the end it plots each guest's
# target, actual, MemTotal and demand and the host's free memory to a PNG
# and prints where it is.
#
#   tools/testing/vm/demo.sh [--kernel 6.1|6.12] [--module-only]
#
# --module-only runs the older, quicker demo instead: kab_demo registers two
# VMs the way QEMU does and prints every decision the module makes as
# injected host pressure and guest doorbells come and go (no QEMU build, no
# guests; about a minute).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

series=6.1
module_only=
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) series=${2:?--kernel needs 6.1 or 6.12}; shift 2 ;;
	--module-only) module_only=1; shift ;;
	-h|--help) sed -n '4,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) kab_die "unknown argument $1 (see --help)" ;;
	esac
done

"$KAB_TOP/tools/testing/deps.sh" >&2 ||
	kab_die "could not install the packages the demo needs (see above)"
info=$("$here/get-kernel.sh" "$series") ||
	kab_die "cannot fetch Debian's $series kernel (see above)"
eval "$(grep -E '^(release|kernel|moddir)=' <<<"$info")"
# shellcheck disable=SC2154 # set by the eval
mods=$("$here/build-modules.sh" --kernel "$release") ||
	kab_die "building the modules for $release failed (see above)"
ko=$(echo "$mods" | sed -n 's/^host: //p')
drv=$(echo "$mods" | sed -n 's/^guest: \(.*virtio_autoballoon\.ko\)$/\1/p')
[ -f "$ko" ] || kab_die "host module was not built"
demo=$KAB_BUILD/demo
mkdir -p "$demo"

if [ -n "$module_only" ]; then
	cc -O2 -Wall -Wextra -Werror -I"$KAB_TOP/include/uapi" \
		-o "$demo/kab_demo" "$here/demo/kab_demo.c"
	kab_log "booting Debian $release in a VM and loading kvm_autoballoon"
	exec "$here/run-vm.sh" --kernel "$release" --no-kvm --timeout 300 \
		--module "$ko" -- "$demo/kab_demo"
fi

[ -f "$drv" ] || kab_die "guest driver was not built"
kab_log "building QEMU with our patches (first time: 3-20 min; log: build/qemu/build.log)"
mkdir -p "$KAB_BUILD/qemu"
qemu_t0=$(date +%s)
if ! qemu=$("$KAB_TOP/qemu/build.sh" 2>"$KAB_BUILD/qemu/build.log" | tail -n1) ||
   [ ! -x "$qemu" ]; then
	tail -n 15 "$KAB_BUILD/qemu/build.log" | sed 's/^/  | /' >&2
	kab_die "QEMU build failed; the last lines of build/qemu/build.log are above"
fi
kab_log "QEMU ready after $(($(date +%s) - qemu_t0)) s: $qemu"
# shellcheck disable=SC2154
"$KAB_TOP/qemu/tests/guest/mkguest.sh" "$moddir" "$drv" "$demo/guest.cpio"

out=$demo/out
rm -rf "$out"
mkdir -p "$out"
kab_log "booting Debian $release as the host, with kvm_autoballoon; two guests inside"
rc=0
# shellcheck disable=SC2154
"$here/run-vm.sh" --kernel "$release" --mem 1536 --smp 1 --timeout 1200 \
	--module "$ko" --no-rmmod --out "$out" --env KAB_E2E_LIVE=2 \
	-- python3 "$KAB_TOP/qemu/tests/e2e_guest.py" host "$qemu" "$kernel" \
	"$demo/guest.cpio" "none:not part of the demo (make check runs it)" || rc=$?
png=$demo/autoballoon-demo.png
kab_log "samples: $out/e2e-samples.csv; guest consoles: $out/e2e-guest-*.log"
# The plot is the last line, as the README promises.
if "$KAB_TOP/qemu/tests/plot-e2e.sh" "$out/e2e-samples.csv" "$png" \
	"kvm_autoballoon: two guests on Debian $release" >/dev/null; then
	kab_log "plot: $png"
else
	kab_log "error: no plot: qemu/tests/plot-e2e.sh failed on $out/e2e-samples.csv"
	[ "$rc" != 0 ] || rc=1
fi
exit $rc
