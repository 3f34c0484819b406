#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The patched QEMU's automatic mode without the host module: realize errors,
# QMP/HMP state, the doorbell through virtio-pci (qemu/tests/balloon_auto.py;
# reuses the QEMU that 10-qemu-e2e.sh built).
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
exec python3 "$top/qemu/tests/balloon_auto.py"
