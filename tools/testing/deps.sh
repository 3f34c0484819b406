#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, with apt, every Debian package that `make check` needs
# (--no-install-recommends; nothing goes into the machine's own kernel).
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
	# the libvirt suite (libvirtd and virsh, run in the test VM only)
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
)

# The test kernels' headers are not here: tools/testing/vm/get-kernel.sh
# unpacks them under build/ (installing linux-headers-6.12.* would also
# install that kernel's image onto this machine).

if [ "${1:-}" = "--list" ]; then
	printf '%s\n' "${KAB_DEPS[@]}"
	exit 0
fi

kab_install "${KAB_DEPS[@]}"
