#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check suite: patched QEMU against the real module, both kernels (owner: QEMU).
exec "$(dirname "${BASH_SOURCE[0]}")/../../../../qemu/tests/e2e-auto.sh"
