#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check suite: Debian's libvirtd in the test VM starts the domain XML
# of Documentation/virt/kvm/autoballoon.rst (automatic=on through
# <qemu:override>), dommemstat and setmem against the module, on both
# kernels (qemu/tests/e2e_libvirt.py).
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
mkdir -p "$top/build/qemu"
exec "$top/qemu/tests/e2e-libvirt.sh"
