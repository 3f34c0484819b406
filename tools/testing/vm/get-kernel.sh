#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch a stock Debian 12 kernel for the test VM, without installing it.
#
#   tools/testing/vm/get-kernel.sh 6.1|6.12
#
# Resolves the newest release of the series from its meta package
# (linux-image-amd64 for 6.1, linux-image-6.12-amd64 for 6.12), downloads
# that linux-image .deb with `apt-get download` into
# build/vm/kernels/<release>/ (kept as a cache inside the clone), unpacks it
# with dpkg-deb -x, runs depmod on the unpacked modules, and extracts the
# uncompressed vmlinux from the vmlinuz: QEMU boots an ELF vmlinux through
# its PVH entry point, skipping the decompressor, which is slow under TCG.
# When the kernel has no PVH note the bzImage is used instead. It also
# unpacks the same release's headers under build/vm/headers/ (lib.sh's
# kab_kernel_headers; nothing is installed), so that modules built against
# them have the same vermagic.
#
# Prints shell-style assignments on stdout, e.g.
#   release=6.1.0-56-amd64
#   kernel=/.../build/vm/kernels/6.1.0-56-amd64/vmlinux
#   boot=pvh                   (or bzimage)
#   moddir=/.../build/vm/kernels/6.1.0-56-amd64/root/lib/modules/6.1.0-56-amd64
#   kdir=/.../build/vm/headers/6.1.0-56-amd64/root/usr/src/linux-headers-6.1.0-56-amd64
# so callers can `eval "$(get-kernel.sh 6.1)"`.

set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 1 ] || kab_die "usage: $0 6.1|6.12"
series=$1
kab_series_meta "$series" image >/dev/null

set_release() {
	release=$(kab_series_release "$series")
	dir="$KAB_BUILD/vm/kernels/$release"
	root="$dir/root"
	moddir="$root/lib/modules/$release"
	stamp="$dir/.done"
	mkdir -p "$dir"
	exec 9>"$dir/.lock"
	flock 9
}
set_release

# True if FILE is an ELF image with a PVH entry note (Xen note type 18,
# XEN_ELFNOTE_PHYS32_ENTRY), which QEMU needs to boot a vmlinux directly.
has_pvh_note() {
	readelf -n "$1" 2>/dev/null | awk '
		$1 == "Xen" && /\(0x00000012\)|PHYS32_ENTRY/ { f = 1 }
		END { exit !f }'
}

# Extract the compressed payload from a bzImage: look for each compression
# format's magic and try to decompress from there until an ELF comes out.
extract_vmlinux() {
	local in=$1 out=$2 magic tool off
	for fmt in 'xz:\xfd7zXZ\x00:xz -dc --single-stream' 'zstd:\x28\xb5\x2f\xfd:zstd -dcq' \
		   'gzip:\x1f\x8b\x08:gzip -dc'; do
		magic=${fmt#*:}
		tool=${magic#*:}
		magic=${magic%%:*}
		command -v "${tool%% *}" >/dev/null || continue
		for off in $(LC_ALL=C grep -obUaP "$magic" "$in" | cut -d: -f1); do
			tail -c "+$((off + 1))" "$in" | $tool >"$out.tmp" 2>/dev/null || true
			if [ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' ')" = \
			     7f454c46 ]; then
				mv "$out.tmp" "$out"
				return 0
			fi
		done
	done
	rm -f "$out.tmp"
	return 1
}

if [ ! -e "$stamp" ]; then
	kab_log "fetching linux-image-$release"
	rm -rf "$root" "$dir/vmlinux"
	download() {
		(cd "$dir" && apt-get -q -o APT::Sandbox::User=root \
			download "linux-image-$release") >&2
	}
	if ! compgen -G "$dir/linux-image-*.deb" >/dev/null && ! download; then
		# Stale lists name a release the archive no longer has: update,
		# resolve again, and retry once.
		[ "${KAB_APT_UPDATED:-0}" = 1 ] &&
			kab_die "apt-get download linux-image-$release failed"
		kab_apt_update
		rmdir "$dir" 2>/dev/null || true
		set_release
		if [ ! -e "$stamp" ]; then
			rm -rf "$root" "$dir/vmlinux"
			download || kab_die "apt-get download linux-image-$release failed"
		fi
	fi
	deb=$(ls "$dir"/linux-image-*.deb)
	dpkg-deb -x "$deb" "$root"
	[ -d "$moddir" ] || kab_die "$deb has no lib/modules/$release"
	# The package ships no modules.dep: its postinst runs depmod.
	depmod -b "$root" "$release"
	vmlinuz="$root/boot/vmlinuz-$release"
	[ -f "$vmlinuz" ] || kab_die "$deb has no boot/vmlinuz-$release"
	if extract_vmlinux "$vmlinuz" "$dir/vmlinux.elf" &&
	   has_pvh_note "$dir/vmlinux.elf"; then
		mv "$dir/vmlinux.elf" "$dir/vmlinux"
	else
		kab_log "no PVH-bootable vmlinux in $vmlinuz; booting the bzImage"
		rm -f "$dir/vmlinux.elf"
	fi
	touch "$stamp"
fi

if [ -f "$dir/vmlinux" ]; then
	kernel="$dir/vmlinux"
	boot=pvh
else
	kernel="$root/boot/vmlinuz-$release"
	boot=bzimage
fi

# Same release's headers, so our modules' vermagic matches this kernel.
kdir=$(kab_kernel_headers "$release") ||
	kab_die "no headers for $release (see above)"

printf 'release=%q\nkernel=%q\nboot=%q\nmoddir=%q\nkdir=%q\n' \
	"$release" "$kernel" "$boot" "$moddir" "$kdir"
