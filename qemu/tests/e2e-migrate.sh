#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Live migration, savevm/loadvm and guest reset with automatic=on, with a
# real nested guest (see e2e_migrate.py):
#   qemu/tests/e2e-migrate.sh [6.1|6.12 ...]
exec "$(dirname "${BASH_SOURCE[0]}")/e2e-auto.sh" --migrate "$@"
