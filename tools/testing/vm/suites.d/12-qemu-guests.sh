#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check suite: the end to end with two real nested guests (our QEMU,
# module and guest driver) on both kernels: host pressure, guest pressure,
# re-inflation, SIGKILL, unload (qemu/tests/e2e_guest.py).
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
mkdir -p "$top/build/qemu"
exec "$top/qemu/tests/e2e-guest.sh"
