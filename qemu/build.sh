#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build Debian's QEMU 7.2 (bookworm) with the kvm_autoballoon patches from
# qemu/patches/, and print the path of the built qemu-system-x86_64.
#
#   qemu/build.sh            build (or do nothing when up to date)
#   qemu/build.sh --force    rebuild our patches even if their hash is unchanged
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
base="$top/build/qemu"
apt_dir="$base/apt"
pkg_dir="$base/pkg"
src="$base/src"
gitdir="$base/git"
obj="$base/obj"
stamp="$base/patches.sha256"
jobs=${KAB_QEMU_JOBS:-2}
force=0
[ "${1:-}" = "--force" ] && force=1

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

install_deps() {
	local missing=() p
	for p in "${build_deps[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "${KAB_QEMU_NO_APT:-0}" = 1 ]; then
		die "missing packages: ${missing[*]}"
	fi
	log "installing build dependencies: ${missing[*]}"
	[ "$(id -u)" = 0 ] || die "need root to apt-get install ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		"${missing[@]}" >&2 ||
		{ apt-get update >&2 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y \
			--no-install-recommends "${missing[@]}" >&2; }
}

# apt-get with a configuration of its own: only our deb-src stanza is read.
private_apt() {
	apt-get -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$apt_dir" \
		-o Dir::State::Lists="$apt_dir/lists" \
		-o Dir::Cache="$apt_dir/cache" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
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
	log "fetching Debian's qemu source package"
	private_apt update >&2
	rm -rf "$pkg_dir"
	mkdir -p "$pkg_dir"
	# apt-get source runs dpkg-source -x, which applies debian/patches.
	(cd "$pkg_dir" && private_apt source qemu >&2)
	local d
	d=$(find "$pkg_dir" -mindepth 1 -maxdepth 1 -type d -name 'qemu-*' | head -n1)
	[ -n "$d" ] && [ -f "$d/VERSION" ] || die "no unpacked qemu source in $pkg_dir"
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
			die "patch $(basename "$p") does not apply"
		}
	done
	shopt -u nullglob
	echo "$want" >"$stamp.pending"
}

# Minimal, but with what the test VMs need: KVM and TCG, and virtio-9p
# (virtfs, which needs attr and cap-ng) because tools/testing/vm/run-vm.sh
# shares the host root with the guest over 9p.
configure_args=(
	--target-list=x86_64-softmmu
	--meson="$(command -v meson)"
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
