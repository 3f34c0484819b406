# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers of bench/reaction/run.sh and bench/rfc/run.sh (sourced).
#
# bench_prepare SERIES DIR: builds, for the kernel series SERIES (6.1,
#   6.12), everything a nested-guest benchmark needs, in DIR (the module and
#   the guest driver from copies of their sources, the guests' initramfs) and
#   the patched QEMU (qemu/build.sh, cached). Sets bench_release,
#   bench_kernel, bench_ko, bench_cpio and bench_qemu. Returns non-zero with
#   the reason on stderr if anything is missing.

# shellcheck disable=SC2034 # the bench_* results are the callers'
bench_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../qemu/tests/lib.sh
. "$bench_top/qemu/tests/lib.sh"

# shellcheck disable=SC2034
bench_prepare() {
	local s=$1 dir=$2 info drv

	mkdir -p "$bench_top/build/qemu" "$dir"
	bench_qemu=$("$bench_top/qemu/build.sh" 2>"$dir/qemu-build.log" | tail -n1)
	if [ ! -x "$bench_qemu" ]; then
		echo "bench: qemu/build.sh failed, see $dir/qemu-build.log" >&2
		return 1
	fi
	if ! info=$("$bench_top/tools/testing/vm/get-kernel.sh" "$s" 2>&1); then
		echo "bench: no $s kernel: $(echo "$info" | tail -n1)" >&2
		return 1
	fi
	local release kdir kernel moddir
	eval "$(echo "$info" | grep -E '^(release|kdir|kernel|moddir)=')"
	bench_release=$release
	bench_kernel=$kernel
	if ! bench_ko=$(e2e_build_module "$dir/$release/module" "$kdir"); then
		echo "bench: module build failed, see $dir/$release/module/build.log" >&2
		return 1
	fi
	if ! drv=$(e2e_build_driver "$dir/$release/driver" "$kdir"); then
		echo "bench: driver build failed, see $dir/$release/driver/build.log" >&2
		return 1
	fi
	bench_cpio=$dir/$release/guest.cpio
	if ! "$bench_top/qemu/tests/guest/mkguest.sh" "$moddir" "$drv" \
		"$bench_cpio" 2>"$dir/$release/mkguest.log"; then
		echo "bench: mkguest.sh failed, see $dir/$release/mkguest.log" >&2
		return 1
	fi
}
