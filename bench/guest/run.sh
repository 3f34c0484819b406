#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inflate and deflate speed of virtio_autoballoon against the stock
# virtio_balloon, in the same test VM (Debian's QEMU 7.2, TCG, 2 GiB guest),
# alternating the two drivers for VAB_BENCH_ROUNDS rounds (default 3) of
# VAB_BENCH_MIB MiB (default 512). Figures are printed as TAP comments
# ("# <driver> 512 MiB: inflate median ... MiB/s") and appended to
# build/bench/guest.txt.
#
#   bench/guest/run.sh [--kernel 6.1|6.12]...    (default: 6.1)

set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--kernel 6.1)
mkdir -p "$top/build/bench"
"$top/tools/testing/vm/guest/run.sh" "${args[@]}" bench |
	tee -a "$top/build/bench/guest.txt"
exit "${PIPESTATUS[0]}"
