#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, with apt, every Debian package that `make check` needs.
# Idempotent: when everything is installed it only asks dpkg and returns in
# well under a second. `apt-get update` runs only when apt has no lists or
# when an install fails on stale ones, and at most once per run.
#
#   tools/testing/deps.sh            install what is missing
#   tools/testing/deps.sh --list     print the package list and exit
#
# To add a package, append it to KAB_DEPS below (one obvious place).

set -euo pipefail

# shellcheck source=vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/vm/lib.sh"

KAB_DEPS=(
	# kernel module builds, W=1 C=1, checkpatch
	build-essential bc flex bison libelf-dev libssl-dev dwarves kmod cpio
	sparse dkms linux-source-6.1 perl
	# test VM
	busybox-static qemu-system-x86 qemu-system-data seabios qemu-utils
	xz-utils zstd binutils
	# tests, benchmarks and their tools
	gnuplot-nox valgrind jq socat python3 shellcheck pyflakes3
)

# Kernel headers of both test kernels, through their meta packages. The
# concrete headers package is resolved from each meta package (newest
# candidate), so a new point release is picked up without an edit here.
KAB_HEADER_METAS=(linux-headers-amd64 linux-headers-6.12-amd64)

if [ "${1:-}" = "--list" ]; then
	printf '%s\n' "${KAB_DEPS[@]}" "${KAB_HEADER_METAS[@]}"
	exit 0
fi

kab_apt_has_lists || kab_apt_update
# One apt-cache call for all meta packages (each call costs about a second).
resolve_headers() {
	apt-cache depends "${KAB_HEADER_METAS[@]}" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-headers-[0-9][^ ]*\)$/\1/p'
}
mapfile -t headers < <(resolve_headers)
if [ ${#headers[@]} -ne ${#KAB_HEADER_METAS[@]} ]; then
	kab_apt_update
	mapfile -t headers < <(resolve_headers)
fi
[ ${#headers[@]} -eq ${#KAB_HEADER_METAS[@]} ] ||
	kab_die "cannot resolve ${KAB_HEADER_METAS[*]} to headers packages"
wanted=("${KAB_DEPS[@]}" "${headers[@]}")

# One dpkg-query for the whole list: fast when everything is there.
mapfile -t missing < <(kab_pkgs_missing "${wanted[@]}")

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	kab_die "missing packages and not root: ${missing[*]}"
fi

kab_log "installing: ${missing[*]}"
kab_apt_retry kab_apt install "${missing[@]}" >&2 ||
	kab_die "apt-get install failed"

for pkg in "${missing[@]}"; do
	kab_pkg_installed "$pkg" || kab_die "$pkg is still not installed"
done
