#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end with a real nested guest (see e2e_guest.py):
#   qemu/tests/e2e-guest.sh [6.1|6.12 ...]
exec "$(dirname "${BASH_SOURCE[0]}")/e2e-auto.sh" --guest "$@"
