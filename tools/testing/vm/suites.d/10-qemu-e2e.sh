#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check suite: patched QEMU against the real module, both kernels (owner: QEMU).
# e2e-auto.sh logs the QEMU build into build/qemu/, which a fresh clone lacks.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
mkdir -p "$top/build/qemu"
exec "$top/qemu/tests/e2e-auto.sh"
