#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check-debug suite: two real nested guests (qemu/tests/e2e_guest.py:
# host and guest pressure, SIGKILL mid-inflation and mid-deflation, rmmod
# refused, then unload) with the debug kernel in the test VM, Debian's
# stock 6.1 in the guests.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
info=$("$top/tools/testing/vm/debug-kernel.sh") || exit 1
eval "$info"
mkdir -p "$top/build/qemu"
# shellcheck disable=SC2154 # set by the eval
KAB_E2E_HOST_KERNEL=$release KAB_E2E_TIMEOUT=3 exec "$top/qemu/tests/e2e-guest.sh" 6.1
