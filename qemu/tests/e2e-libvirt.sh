#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A libvirt domain whose balloon has automatic=on, libvirtd in the test VM
# (see e2e_libvirt.py):
#   qemu/tests/e2e-libvirt.sh [6.1|6.12 ...]
exec "$(dirname "${BASH_SOURCE[0]}")/e2e-auto.sh" --libvirt "$@"
