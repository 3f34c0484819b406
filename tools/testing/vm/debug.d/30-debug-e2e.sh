#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check-debug suite: the patched QEMU against the module (qtest
# driver, qemu/tests/e2e_auto.py) in a test VM booted with the debug kernel.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
info=$("$top/tools/testing/vm/debug-kernel.sh") || exit 1
eval "$info"
mkdir -p "$top/build/qemu"
# shellcheck disable=SC2154 # set by the eval
KAB_E2E_HOST_KERNEL=$release KAB_E2E_TIMEOUT=3 exec "$top/qemu/tests/e2e-auto.sh" 6.1
