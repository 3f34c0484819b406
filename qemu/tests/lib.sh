# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers of the qemu/tests end-to-end scripts (sourced).
#
# e2e_build_module DIR KDIR: builds kvm_autoballoon.ko against KDIR from a
#   copy of its sources in DIR (the work tree is shared; kbuild writes next to
#   the sources), prints the .ko path. $KAB_E2E_MODULE, when set, is used
#   instead (a module built elsewhere, e.g. with a local fix).
# e2e_build_driver DIR KDIR: the same for the guest driver
#   virtio_autoballoon.ko.
# e2e_build_guest DIR KDIR MODDIR: the nested guests' initramfs
#   (guest/mkguest.sh) with the driver built for KDIR, in DIR/driver and
#   DIR/guest.cpio; prints the archive's path, or the reason on stderr.
# e2e_build_stock_guest DIR MODDIR: the same initramfs with the kernel's own
#   virtio_balloon module instead of ours, in DIR/guest-stock.cpio; prints
#   its path, or the reason on stderr (e.g. the kernel has no such module).

e2e_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

e2e_build_module() {
	local dir=$1 kdir=$2

	if [ -n "${KAB_E2E_MODULE:-}" ]; then
		echo "$KAB_E2E_MODULE"
		return 0
	fi
	rm -rf "$dir"
	mkdir -p "$dir/kernel/virt" "$dir/include"
	cp -r "$e2e_top/kernel/virt/autoballoon" "$dir/kernel/virt/"
	cp -r "$e2e_top/include/uapi" "$dir/include/"
	echo 'obj-m += kernel/virt/autoballoon/' >"$dir/Kbuild"
	make -C "$kdir" M="$dir" -j2 modules >"$dir/build.log" 2>&1 || return 1
	echo "$dir/kernel/virt/autoballoon/kvm_autoballoon.ko"
}

e2e_build_driver() {
	local dir=$1 kdir=$2

	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$e2e_top"/guest/drivers/virtio/{Kbuild,*.c,*.h} "$dir/"
	make -C "$kdir" M="$dir" -j2 modules >"$dir/build.log" 2>&1 || return 1
	echo "$dir/virtio_autoballoon.ko"
}

e2e_build_guest() {
	local dir=$1 kdir=$2 moddir=$3 drv

	if ! drv=$(e2e_build_driver "$dir/driver" "$kdir"); then
		echo "driver build failed: $(tail -n3 "$dir/driver/build.log" | tr '\n' ' ')" >&2
		return 1
	fi
	if ! "$e2e_top/qemu/tests/guest/mkguest.sh" "$moddir" "$drv" \
		"$dir/guest.cpio" 2>"$dir/mkguest.log"; then
		echo "mkguest.sh failed: $(tail -n3 "$dir/mkguest.log" | tr '\n' ' ')" >&2
		return 1
	fi
	echo "$dir/guest.cpio"
}

e2e_build_stock_guest() {
	local dir=$1 moddir=$2 drv

	drv=$(find "$moddir/kernel/drivers/virtio" -name 'virtio_balloon.ko*' |
		head -n1)
	if [ -z "$drv" ]; then
		echo "no virtio_balloon module under $moddir (built in?)" >&2
		return 1
	fi
	if ! "$e2e_top/qemu/tests/guest/mkguest.sh" "$moddir" "$drv" \
		"$dir/guest-stock.cpio" 2>"$dir/mkguest-stock.log"; then
		echo "mkguest.sh (stock driver) failed: $(tail -n3 "$dir/mkguest-stock.log" | tr '\n' ' ')" >&2
		return 1
	fi
	echo "$dir/guest-stock.cpio"
}
