#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check suite: live migration between two QEMUs, savevm/loadvm and a
# guest reboot mid-inflation, with automatic=on and a real nested guest, on
# both kernels (qemu/tests/e2e_migrate.py); prints the migration downtime
# with and without automatic=on.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
mkdir -p "$top/build/qemu"
exec "$top/qemu/tests/e2e-migrate.sh"
