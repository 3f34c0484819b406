#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the initramfs of the end-to-end test's nested guests.
#
#   qemu/tests/guest/mkguest.sh MODDIR DRIVER_KO OUT_CPIO
#
# MODDIR is the guest kernel's /lib/modules/<release> (from get-kernel.sh),
# DRIVER_KO our virtio_autoballoon.ko built for it, or the kernel's own
# virtio_balloon.ko (compressed .ko.xz/.ko.zst is unpacked: the guest's
# /init loads modules with finit_module() and no flags). The archive holds
# /init (kab_guest.c, static), the virtio PCI transport modules when that
# kernel has them as modules (Debian's 6.1 does, 6.12 builds them in), the
# virtio_blk module when it is one, the driver, and /modules listing them
# in load order.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 3 ] || { sed -n '4,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2; }
moddir=$1 driver=$2 out=$3

dir=$(mktemp -d "${out%/*}/initramfs.XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir"/{proc,sys,dev,lib}
cc -static -O2 -Wall -Wextra -Werror -o "$dir/init" "$here/kab_guest.c"

# virtio_pci's dependencies, deepest first (modules.dep lists them after it).
: >"$dir/modules"
dep=$(grep -E '^kernel/drivers/virtio/virtio_pci\.ko:' "$moddir/modules.dep" || true)
if [ -n "$dep" ]; then
	read -r -a mods <<<"${dep#*:}"
	for ((i = ${#mods[@]} - 1; i >= 0; i--)); do
		cp "$moddir/${mods[i]}" "$dir/lib/"
		echo "/lib/${mods[i]##*/}" >>"$dir/modules"
	done
	cp "$moddir/kernel/drivers/virtio/virtio_pci.ko" "$dir/lib/"
	echo /lib/virtio_pci.ko >>"$dir/modules"
fi
# A module of MODDIR (path relative to it, maybe .ko.xz or .ko.zst) into
# /lib, uncompressed, and onto /modules unless it is there already.
add_module() {
	local name=${1##*/}

	case $name in
	*.ko.xz) name=${name%.xz}; xz -dc "$moddir/$1" >"$dir/lib/$name" ;;
	*.ko.zst) name=${name%.zst}; zstd -qdc "$moddir/$1" >"$dir/lib/$name" ;;
	*) cp "$moddir/$1" "$dir/lib/$name" ;;
	esac
	grep -qx "/lib/$name" "$dir/modules" || echo "/lib/$name" >>"$dir/modules"
}

# virtio_blk, for the page-cache build job's disk, when it is a module;
# its dependencies go first.
dep=$(grep -E '^kernel/drivers/block/virtio_blk\.ko(\.xz|\.zst)?:' "$moddir/modules.dep" || true)
if [ -n "$dep" ]; then
	read -r -a mods <<<"${dep#*:}"
	for ((i = ${#mods[@]} - 1; i >= 0; i--)); do
		add_module "${mods[i]}"
	done
	add_module "${dep%%:*}"
fi
name=${driver##*/}
case $name in
*.ko.xz) name=${name%.xz}; xz -dc "$driver" >"$dir/lib/$name" ;;
*.ko.zst) name=${name%.zst}; zstd -qdc "$driver" >"$dir/lib/$name" ;;
*) cp "$driver" "$dir/lib/$name" ;;
esac
echo "/lib/$name" >>"$dir/modules"
(cd "$dir" && find . | cpio -o -H newc --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
