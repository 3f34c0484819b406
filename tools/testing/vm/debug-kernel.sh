#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the debug kernel of make check-debug from Debian's linux-source-6.1:
# x86_64_defconfig + kernel/configs/kvm_guest.config + debug-kernel/debug.config
# (KASAN, lockdep with PROVE_RCU, DEBUG_OBJECTS, DEBUG_ATOMIC_SLEEP,
# kmemleak; built in what the test VM boots with, off what it never uses).
#
#   tools/testing/vm/debug-kernel.sh [--jobs N]
#
# The build is cached under build/debug-kernel/<key>/, where the key hashes
# the source package's version, the config fragment, the recipe's number
# (\$recipe below) and the compiler: a rerun with nothing changed reuses it at once. The build runs
# with nice -n 19 (a test VM of somebody else's may be running) and -j2 by
# default; its log is build/debug-kernel/<key>/build.log and its wall time
# in seconds build/debug-kernel/<key>/build_seconds.
#
# The result is registered where run-vm.sh and build-modules.sh look for a
# kernel by release: build/vm/kernels/<release> (root/boot/vmlinuz-<release>,
# root/lib/modules, .done) and build/vm/headers/<release> (the kbuild tree), both symlinks
# into the cache. Prints shell-style assignments on stdout, as get-kernel.sh:
#   release=6.1.192-kab-debug
#   kernel=/.../bzImage
#   moddir=/.../root/lib/modules/6.1.192-kab-debug
#   kdir=/.../obj
#   build_seconds=N

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

jobs=2
while [ $# -gt 0 ]; do
	case $1 in
	--jobs) jobs=${2:?}; shift 2 ;;
	*) kab_die "usage: $0 [--jobs N]" ;;
	esac
done

fragment=$here/debug-kernel/debug.config
tarball=/usr/src/linux-source-6.1.tar.xz
pkg=linux-source-6.1

if [ ! -f "$tarball" ]; then
	kab_log "installing $pkg (the debug kernel's source)"
	kab_apt_retry kab_apt install "$pkg" >&2 || kab_die "cannot install $pkg"
fi
for tool in flex bison bc; do
	command -v "$tool" >/dev/null ||
		kab_die "$tool is missing (tools/testing/deps.sh installs it)"
done
[ -e /usr/include/libelf.h ] || kab_die "libelf-dev is missing (tools/testing/deps.sh installs it)"

# Bump when the recipe below changes what is built.
recipe=1
pkgver=$(dpkg-query -W -f '${Version}' "$pkg")
key=$( { echo "$pkgver $recipe"; cat "$fragment"; gcc --version | head -n1; } |
	sha256sum | cut -c1-12)
top=$KAB_BUILD/debug-kernel
dir=$top/$key
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9

src=$top/src-$pkgver
if [ ! -e "$src/.done" ]; then
	kab_log "unpacking $tarball into ${src#"$KAB_TOP"/}"
	rm -rf "$src"
	mkdir -p "$src"
	tar -xf "$tarball" -C "$src" --strip-components=1
	touch "$src/.done"
fi

obj=$dir/obj
root=$dir/root
if [ ! -e "$dir/.done" ]; then
	log=$dir/build.log
	# A build that was stopped goes on where it stopped: the key fixes the
	# config, and kbuild redoes whatever it did not finish. Its time then
	# counts from the restart (the file resumed says so).
	resumed=
	[ -e "$obj/.config" ] && resumed=" (resumed)" && touch "$dir/resumed"
	kab_log "building the debug kernel in ${dir#"$KAB_TOP"/}$resumed (-j$jobs, nice 19; log $log)"
	rm -rf "$root"
	mkdir -p "$obj"
	t0=$(date +%s)
	{
		kmake() { nice -n 19 make -C "$src" O="$obj" "$@"; }
		kmake x86_64_defconfig
		(cd "$obj" && "$src/scripts/kconfig/merge_config.sh" -m -O "$obj" \
			.config "$src/kernel/configs/kvm_guest.config" "$fragment")
		kmake olddefconfig
		kmake -j"$jobs" vmlinux bzImage modules
		kmake INSTALL_MOD_PATH="$root" INSTALL_MOD_STRIP=1 modules_install
	} >>"$log" 2>&1 || kab_die "the debug kernel's build failed, see $log"
	t1=$(date +%s)
	# merge_config.sh warns, not fails, when an option did not stick.
	missing=
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) ;;
		'# CONFIG_'*' is not set') continue ;;
		*) continue ;;
		esac
		grep -qxF "$line" "$obj/.config" || missing+=" $line"
	done <"$fragment"
	[ -z "$missing" ] || kab_log "warning: not in the final config:$missing"
	for need in CONFIG_KASAN=y CONFIG_PROVE_LOCKING=y CONFIG_PROVE_RCU=y \
		    CONFIG_DEBUG_OBJECTS=y CONFIG_DEBUG_ATOMIC_SLEEP=y \
		    CONFIG_DEBUG_KMEMLEAK=y CONFIG_PVH=y CONFIG_KPROBES=y; do
		grep -qx "$need" "$obj/.config" ||
			kab_die "the debug kernel's config lacks $need (see $obj/.config)"
	done
	echo $((t1 - t0)) >"$dir/build_seconds"
	cp "$obj/.config" "$dir/config"
	touch "$dir/.done"
	kab_log "debug kernel built in $(((t1 - t0) / 60))m$(((t1 - t0) % 60))s"
fi

release=$(cat "$obj/include/config/kernel.release")

# Register it by release, in the layout of get-kernel.sh and
# kab_kernel_headers.
# The bzImage, not the vmlinux: booted through its PVH entry, this
# vmlinux resets the VM before its first console line (seen with KASAN on
# QEMU 7.2), while the bzImage boots; run-vm.sh takes the vmlinuz when
# there is no vmlinux.
vm=$dir/vm
mkdir -p "$vm/root/lib/modules" "$vm/root/boot" "$dir/headers/root/usr/src"
rm -f "$vm/vmlinux"
ln -sfn "$obj/arch/x86/boot/bzImage" "$vm/root/boot/vmlinuz-$release"
ln -sfn "$root/lib/modules/$release" "$vm/root/lib/modules/$release"
ln -sfn "$obj" "$dir/headers/root/usr/src/linux-headers-$release"
# Its command line in the test VM (run-vm.sh reads it): QEMU's -cpu max
# offers 5-level paging, and with it this kernel once took a timer
# interrupt during identify_cpu() whose rcu_is_watching() KASAN reported as
# a wild access, before any test ran, switching lockdep off and silencing
# KASAN for the rest of the run. 4-level paging avoids that early path;
# kasan_multi_shot reports every bad access, not only the first.
echo "no5lvl kasan_multi_shot" >"$vm/cmdline"
touch "$vm/.done" "$dir/headers/.done"
mkdir -p "$KAB_BUILD/vm/kernels" "$KAB_BUILD/vm/headers"
ln -sfn "$vm" "$KAB_BUILD/vm/kernels/$release"
ln -sfn "$dir/headers" "$KAB_BUILD/vm/headers/$release"

echo "release=$release"
echo "kernel=$obj/arch/x86/boot/bzImage"
echo "moddir=$root/lib/modules/$release"
echo "kdir=$obj"
echo "build_seconds=$(cat "$dir/build_seconds")"
