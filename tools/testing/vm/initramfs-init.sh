#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# /init of the test VM's initramfs (stage 1), packed by run-vm.sh together
# with a static busybox and the few modules needed to reach the 9p root.
#
# It loads virtio/9p, mounts the host's root filesystem read-only over
# virtio-9p (tag kabroot) on /newroot, puts tmpfs over the places a system
# writes to, bind-mounts the unpacked /lib/modules of the booted kernel,
# mounts the writable shares of the run, and switches to vm-init.sh (stage 2)
# running as PID 1 with the host's own bash.

/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

die() {
	echo "kab-vm: initramfs: $*" >/dev/kmsg
	echo "kab-vm: exit status 125" >/dev/kmsg
	echo b >/proc/sysrq-trigger
	sleep 10
}

for m in $(cat /kab/modules.order); do
	insmod "/kab/$m" || die "insmod $m failed"
done

. /kab/env

opts=trans=virtio,version=9p2000.L,msize=512000
mkdir -p /newroot
mount -t 9p -o "$opts,ro,cache=loose" kabroot /newroot ||
	die "cannot mount the host root over 9p"

n=/newroot
mount -t proc proc "$n/proc"
mount -t sysfs sysfs "$n/sys"
mount -t devtmpfs devtmpfs "$n/dev"
# What udev would add: bash's process substitution needs /dev/fd.
ln -sf /proc/self/fd "$n/dev/fd"
ln -sf /proc/self/fd/0 "$n/dev/stdin"
ln -sf /proc/self/fd/1 "$n/dev/stdout"
ln -sf /proc/self/fd/2 "$n/dev/stderr"
mkdir -p "$n/dev/pts" "$n/dev/shm" 2>/dev/null
mount -t devpts devpts "$n/dev/pts"
mount -t tmpfs tmpfs "$n/dev/shm"
mount -t debugfs debugfs "$n/sys/kernel/debug" 2>/dev/null
mount -t tracefs tracefs "$n/sys/kernel/tracing" 2>/dev/null
mount -t cgroup2 cgroup2 "$n/sys/fs/cgroup" 2>/dev/null
# A clone may live under one of these (a CI checkout in /tmp or /root):
# such paths are bind-mounted aside, and moved back onto the tmpfs.
keep=0
for d in /tmp /run /var/tmp /var/log /root /mnt; do
	[ -d "$n$d" ] || continue
	kept=
	for p in $KAB_TOP $KAB_BUILD; do
		case $p/ in
		"$d"/*)
			keep=$((keep + 1))
			mkdir -p "/keep/$keep"
			mount --bind "$n$p" "/keep/$keep" && kept="$kept $keep:$p"
			;;
		esac
	done
	mount -t tmpfs -o mode=0755 tmpfs "$n$d"
	for k in $kept; do
		mkdir -p "$n${k#*:}"
		mount --move "/keep/${k%%:*}" "$n${k#*:}"
	done
done
chmod 1777 "$n/tmp" "$n/var/tmp"

# The kernel's modules, so that modprobe works inside (kvm_amd, ...).
mount -t tmpfs -o mode=0755 tmpfs "$n$KAB_HOST_MODULES_DIR"
mkdir -p "$n$KAB_HOST_MODULES_DIR/$KAB_RELEASE"
mount --bind "$n$KAB_MODDIR" "$n$KAB_HOST_MODULES_DIR/$KAB_RELEASE" ||
	die "cannot bind $KAB_MODDIR"

mount -t 9p -o "$opts,cache=none" kabrun "$n$KAB_RUN/share" ||
	die "cannot mount the run share"
if [ "$KAB_OUT_DEVICE" = 1 ]; then
	mkdir -p "$n$KAB_OUT" 2>/dev/null
	mount -t 9p -o "$opts,cache=none" kabout "$n$KAB_OUT" ||
		die "cannot mount the output share"
fi

umount /dev /sys /proc
exec switch_root /newroot "$KAB_BASH" "$KAB_TOP/tools/testing/vm/vm-init.sh" \
	"$KAB_RUN"
