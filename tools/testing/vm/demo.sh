#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: show kvm_autoballoon at work in one command.
#
# Installs what it needs (apt), builds the host module for Debian's 6.1
# kernel, boots that kernel in a QEMU VM (the machine's own kernel is never
# touched), loads the module and runs kab_demo, which registers two VMs the
# way QEMU does and prints every decision the module makes as host and
# guest pressure come and go.
#
#   tools/testing/vm/demo.sh [--kernel 6.1|6.12]

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

series=6.1
[ "${1:-}" = "--kernel" ] && series=${2:?--kernel needs 6.1 or 6.12}

"$KAB_TOP/tools/testing/deps.sh" >&2
release=$(kab_series_release "$series")
ko=$("$here/build-modules.sh" --kernel "$series" | sed -n 's/^host: //p')
[ -f "$ko" ] || kab_die "host module was not built"

mkdir -p "$KAB_BUILD/demo"
cc -O2 -Wall -Wextra -Werror -I"$KAB_TOP/include/uapi" \
	-o "$KAB_BUILD/demo/kab_demo" "$here/demo/kab_demo.c"

kab_log "booting Debian $release in a VM and loading kvm_autoballoon"
exec "$here/run-vm.sh" --kernel "$release" --no-kvm --timeout 300 \
	--module "$ko" -- "$KAB_BUILD/demo/kab_demo"
