#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the host module and the guest driver against one Debian kernel.
#
#   tools/testing/vm/build-modules.sh --kernel 6.1|6.12|RELEASE [-- MAKEARGS]
#
# The sources are copied to build/<release>/src first, so that builds for
# different kernels never share object files in the source tree. MAKEARGS
# go to kbuild (e.g. W=1 C=1). Prints one line per module built:
#   host: <path of kvm_autoballoon.ko>
#   guest: <path of each guest .ko>
# kbuild's own output goes to stderr.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

kernel=6.1
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=${2:?}; shift 2 ;;
	--) shift; break ;;
	*) kab_die "usage: $0 --kernel 6.1|6.12|RELEASE [-- MAKEARGS]" ;;
	esac
done

case $kernel in
6.1|6.12) release=$(kab_series_release "$kernel") ;;
*) release=$kernel ;;
esac
kdir=$(kab_kernel_headers "$release") ||
	kab_die "no headers for $release (see above)"

src=$KAB_BUILD/$release/src
mkdir -p "$src"
# Mirror the kernel sources. A file is copied only when its content
# differs, and gets the time of the copy, so kbuild rebuilds exactly what
# changed (keeping the source's time could leave it older than an object
# built meanwhile). Files that vanished are deleted; objects stay.
sync_file() {
	cmp -s "$1" "$2" && return 0
	mkdir -p "$(dirname "$2")"
	cp "$1" "$2"
}
for d in include kernel guest; do
	mkdir -p "$src/$d"
	(cd "$KAB_TOP/$d" && find . -type f ! -name '*.o' ! -name '*.ko' \
		! -name '*.mod*' ! -name '.*.cmd' ! -name '*.order' \
		! -name '*.symvers' ! -name '*.d' ! -name '.*') | sort \
		>"$src/.want-$d"
	while read -r f; do
		sync_file "$KAB_TOP/$d/$f" "$src/$d/$f"
	done <"$src/.want-$d"
	(cd "$src/$d" && find . -type f ! -name '*.o' ! -name '*.ko' \
		! -name '*.mod*' ! -name '.*.cmd' ! -name '*.order' \
		! -name '*.symvers' ! -name '*.d' ! -name '.*') | sort |
		comm -13 "$src/.want-$d" - | (cd "$src/$d" && xargs -r rm -f)
done
sync_file "$KAB_TOP/Kbuild" "$src/Kbuild"
# kab_shim.h is only for userspace builds of policy.c; not needed here.

make -C "$kdir" M="$src" -j2 "$@" modules >&2

echo "host: $src/kernel/virt/autoballoon/kvm_autoballoon.ko"
find "$src/guest" -name '*.ko' | sort | sed 's/^/guest: /'
