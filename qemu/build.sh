#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build Debian's QEMU 7.2 (bookworm) with the kvm_autoballoon patches from
# qemu/patches/, and print the path of the built qemu-system-x86_64.
#
#   qemu/build.sh            build (or do nothing when up to date)
#   qemu/build.sh --force    rebuild our patches even if their hash is unchanged
#   qemu/build.sh --deps     only the pre-flight: install (apt) and check the
#                            build dependencies, then exit
#
# The patches are made for one Debian source version, qemu_version below
# (KAB_QEMU_VERSION overrides it). That exact version is fetched. When the
# archive no longer has it (Debian keeps only the newest bookworm and
# bookworm-security uploads), the newest is fetched instead with a warning
# naming both versions; if a patch then does not apply, the build stops
# with both versions in the message: refresh qemu/patches/ on the new
# source and bump qemu_version. The download is about 12 MiB (the .orig
# tarball and Debian's patches); the build tree takes about 1 GiB.
#
# Everything lives under build/qemu/ of this clone:
#   apt/       private apt configuration and lists (the system's apt sources
#              are never read nor written)
#   pkg/       the downloaded source package, unpacked by dpkg-source with
#              Debian's own patches applied
#   src/       working tree: Debian's patched source plus our patches
#   git/       git repository for src/ (kept outside src/ so that QEMU's
#              configure does not think it is building a git checkout)
#   obj/       meson/ninja build directory
#   patches.sha256   hash of the patch series last applied
#
# The source tree is a git work tree whose first commit ("debian") is the
# package as Debian ships it. Our patches are applied on top with git am.
# When the series changes, the tree is moved back to "debian" and the new
# series applied: git rewrites only the files the patches touch, so ninja
# rebuilds only those. Unchanged patches and an existing binary mean no work.
#
# Run the result with: -L /usr/share/qemu -L /usr/share/seabios
# (packages qemu-system-data and seabios; Debian's source ships no firmware).
#
# Environment: KAB_QEMU_JOBS (default 2), KAB_QEMU_NO_APT=1 skips the apt
# install of build dependencies (when they are known to be present).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source=../tools/testing/vm/lib.sh
. "$top/tools/testing/vm/lib.sh"

# The Debian source version qemu/patches/ were made for.
qemu_version=${KAB_QEMU_VERSION:-1:7.2+dfsg-7+deb12u18}
base="$top/build/qemu"
apt_dir="$base/apt"
pkg_dir="$base/pkg"
src="$base/src"
gitdir="$base/git"
obj="$base/obj"
stamp="$base/patches.sha256"
jobs=${KAB_QEMU_JOBS:-2}
force=0
deps_only=0
case ${1:-} in
--force) force=1 ;;
--deps) deps_only=1 ;;
"") ;;
*) echo "usage: $0 [--force|--deps]" >&2; exit 2 ;;
esac

log() { echo "qemu/build.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

gitq() {
	git --git-dir="$gitdir" --work-tree="$src" \
	    -c user.name="kvm_autoballoon build" \
	    -c user.email="build@kvm-autoballoon.invalid" \
	    -c core.autocrlf=false -c advice.detachedHead=false "$@"
}

build_deps=(dpkg-dev git python3 python3-venv meson ninja-build pkg-config
	    gcc make libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev
	    libcap-ng-dev libattr1-dev qemu-system-data seabios)

# Every failure here names what is missing and how to install it by hand.
install_deps() {
	if [ "${KAB_QEMU_NO_APT:-0}" = 1 ]; then
		local out
		out=$(kab_pkgs_missing "${build_deps[@]}") ||
			die "cannot ask dpkg which packages are installed"
		[ -z "$out" ] ||
			die "missing packages (KAB_QEMU_NO_APT=1): apt-get install $(echo "$out" | tr '\n' ' ')"
	else
		kab_install "${build_deps[@]}"
	fi
	local tool
	for tool in meson ninja git dpkg-source; do
		command -v "$tool" >/dev/null ||
			die "$tool is not on PATH after installing ${build_deps[*]}"
	done
}

# apt-get with a configuration of its own: only our deb-src stanza is read.
private_apt() {
	apt-get -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$apt_dir" \
		-o Dir::State::Lists="$apt_dir/lists" \
		-o Dir::Cache="$apt_dir/cache" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}

private_apt_cache() {
	apt-cache -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$apt_dir" \
		-o Dir::State::Lists="$apt_dir/lists" \
		-o Dir::Cache="$apt_dir/cache" "$@"
}

fetch_source() {
	[ -f "$base/source.done" ] && return 0
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
	cat >"$apt_dir/x.sources" <<-EOF
	Types: deb-src
	URIs: http://deb.debian.org/debian
	Suites: bookworm bookworm-updates
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

	Types: deb-src
	URIs: http://deb.debian.org/debian-security
	Suites: bookworm-security
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	log "fetching Debian's qemu source package $qemu_version"
	private_apt update >&2 || die "apt-get update of the deb-src lists failed"
	rm -rf "$pkg_dir"
	mkdir -p "$pkg_dir"
	local have
	# Empty when apt-cache fails: then the fallback below says so.
	have=$(private_apt_cache showsrc qemu 2>/dev/null |
		sed -n 's/^Version: //p' | sort -u | tr '\n' ' ') || have=
	have=${have% }
	# apt-get source runs dpkg-source -x, which applies debian/patches.
	if grep -qwF -- "$qemu_version" <<<"$have"; then
		(cd "$pkg_dir" && private_apt source "qemu=$qemu_version" >&2) ||
			die "apt-get source qemu=$qemu_version failed"
	else
		log "warning: the archive no longer has qemu $qemu_version (it has: ${have:-nothing}); fetching the newest; qemu/patches/ were made for $qemu_version"
		(cd "$pkg_dir" && private_apt source qemu >&2) ||
			die "apt-get source qemu failed"
	fi
	local d
	d=$(find "$pkg_dir" -mindepth 1 -maxdepth 1 -type d -name 'qemu-*' | head -n1)
	[ -n "$d" ] && [ -f "$d/VERSION" ] || die "no unpacked qemu source in $pkg_dir"
	sed -n 's/^Version: //p' "$pkg_dir"/qemu_*.dsc | head -n1 >"$base/debian-version"
	rm -rf "$src" "$gitdir" "$obj"
	mv "$d" "$src"
	gitq init -q
	gitq add -A -f .
	gitq commit -q -m "debian: qemu $(cat "$src/VERSION") as unpacked by dpkg-source"
	gitq tag debian
	touch "$base/source.done"
}

uapi="$top/include/uapi/linux/kvm_autoballoon.h"

# The series and the module ABI header both go into the build.
patch_hash() {
	local p
	shopt -s nullglob
	{
		for p in "$here"/patches/*.patch; do
			echo "$(basename "$p") $(sha256sum <"$p")"
		done
		echo "uapi $(sha256sum <"$uapi")"
	} | sha256sum | cut -d' ' -f1
	shopt -u nullglob
}

# QEMU takes Linux headers from linux-headers/ (as update-linux-headers.sh
# imports them); the module's header is installed there, never copied into
# a patch, so that this clone's include/uapi stays the only definition.
install_uapi() {
	local dst="$src/linux-headers/linux/kvm_autoballoon.h"

	cmp -s "$uapi" "$dst" || install -m 0644 "$uapi" "$dst"
}

apply_patches() {
	local want have
	want=$(patch_hash)
	have=$(cat "$stamp" 2>/dev/null || true)
	if [ "$force" = 0 ] && [ "$want" = "$have" ]; then
		return 0
	fi
	log "applying qemu/patches onto Debian's source"
	rm -f "$stamp"
	gitq am --abort >/dev/null 2>&1 || true
	gitq checkout -q -f --detach debian
	gitq clean -q -f -d
	local p
	shopt -s nullglob
	for p in "$here"/patches/*.patch; do
		gitq am -q --keep-cr "$p" || {
			gitq am --abort >/dev/null 2>&1 || true
			die "patch $(basename "$p") does not apply to Debian's qemu $(cat "$base/debian-version" 2>/dev/null) (the patches were made for $qemu_version; refresh them, or remove build/qemu/ to fetch again)"
		}
	done
	shopt -u nullglob
	echo "$want" >"$stamp.pending"
}

# Minimal, but with what the test VMs need: KVM and TCG, and virtio-9p
# (virtfs, which needs attr and cap-ng) because tools/testing/vm/run-vm.sh
# shares the host root with the guest over 9p.
# No argument may depend on the state of the machine (such as where meson
# was when this script started): their hash decides whether to reconfigure,
# and configure resolves "meson" on PATH itself.
configure_args=(
	--target-list=x86_64-softmmu
	--meson=meson
	--with-git-submodules=ignore
	--enable-werror
	--without-default-features
	--enable-kvm --enable-tcg --enable-fdt=system
	--enable-virtfs --enable-attr --enable-cap-ng
	--disable-docs --disable-tools --disable-guest-agent
	--disable-debug-info
	--disable-install-blobs
)

configure() {
	local want
	want=$(printf '%s\n' "${configure_args[@]}" | sha256sum | cut -d' ' -f1)
	if [ -f "$obj/build.ninja" ] &&
	   [ "$(cat "$base/configure.sha256" 2>/dev/null)" = "$want" ]; then
		return 0
	fi
	log "configuring a minimal x86_64-softmmu build"
	rm -rf "$obj" "$base/configure.sha256"
	mkdir -p "$obj"
	(cd "$obj" && "$src/configure" "${configure_args[@]}" >&2) ||
		die "configure failed (log: $obj/meson-logs/meson-log.txt)"
	echo "$want" >"$base/configure.sha256"
}

main() {
	mkdir -p "$base"
	install_deps
	[ "$deps_only" = 1 ] && return 0
	fetch_source
	apply_patches
	install_uapi
	configure
	local bin="$obj/qemu-system-x86_64"
	if [ -f "$stamp.pending" ] || [ ! -x "$bin" ] || [ "$force" = 1 ]; then
		log "building with -j$jobs"
		ninja -C "$obj" -j"$jobs" qemu-system-x86_64 >&2 ||
			die "build failed"
		[ -f "$stamp.pending" ] && mv "$stamp.pending" "$stamp"
	fi
	[ -x "$bin" ] || die "no binary at $bin"
	echo "$bin"
}

main "$@"
