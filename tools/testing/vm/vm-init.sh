#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stage 2 of the test VM: PID 1, running the host's bash from the read-only
# 9p root that the initramfs mounted. Loads KVM and the modules given to
# run-vm.sh, runs the command with its output on the second serial port
# (ttyS1, streamed to run-vm.sh's stdout), records the exit status in the
# run's writable share, and resets the VM (QEMU runs with -no-reboot, so it
# exits).
#
# Lines starting with "kab-vm:" go to /dev/kmsg, hence to the console log.

run=$1
# shellcheck source=/dev/null
. "$run/env"

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8 TMPDIR=/tmp
export CI=${KAB_CI:-} KAB_TOP KAB_OUT KAB_RUN KAB_RELEASE KAB_SERIES
export KAB_KERNELS KAB_IN_VM=1
unset KAB_BUILD

kmsg() { echo "kab-vm: $*" >/dev/kmsg; }

finish() {
	local status=$1
	echo "$status" >"$run/share/status.tmp" && mv "$run/share/status.tmp" "$run/share/status"
	kmsg "exit status $status"
	sync
	echo b >/proc/sysrq-trigger
	sleep 30
}

kmsg "stage 2"
out=/dev/ttyS1
stty -F "$out" raw -echo 2>/dev/null
exec </dev/null

hostname kabvm 2>/dev/null
ip link set lo up 2>/dev/null

# Nested KVM: -cpu max under TCG exposes SVM; under KVM the host's flag.
if [ "$KAB_LOAD_KVM" = 1 ]; then
	if grep -qw svm /proc/cpuinfo; then
		modprobe kvm_amd >"$out" 2>&1
	elif grep -qw vmx /proc/cpuinfo; then
		modprobe kvm_intel >"$out" 2>&1
	fi
	if [ -c /dev/kvm ]; then
		kmsg "/dev/kvm ready"
	else
		kmsg "no /dev/kvm (no svm/vmx in this VM's CPU)"
	fi
fi

# The debug checks of make check-debug (run-vm.sh documents them): what
# kmemleak suspects from before our modules is the kernel's own, and not
# reported again.
kmemleak=/sys/kernel/debug/kmemleak
if [ "${KAB_DEBUG_CHECKS:-0}" = 1 ]; then
	if [ -w "$kmemleak" ]; then
		echo scan >"$kmemleak"
		echo clear >"$kmemleak"
	else
		echo "no $kmemleak: this kernel has no kmemleak" >>"$run/share/debug_trouble"
	fi
	if ! grep -qs '^ *debug_locks: *1' /proc/lockdep_stats; then
		echo "lockdep is off before the command (no CONFIG_PROVE_LOCKING, or a splat at boot)" \
			>>"$run/share/debug_trouble"
	fi
fi

while IFS= read -r mod; do
	[ -n "$mod" ] || continue
	if ! insmod "$mod" >"$out" 2>&1; then
		echo "kab-vm: insmod $mod failed" >"$out"
		kmsg "insmod $mod failed"
		finish 126
	fi
	kmsg "loaded $mod"
done <"$run/modules"

cd "$KAB_CWD" 2>/dev/null || cd /
read -r up _ </proc/uptime
echo "$up" >"$run/share/uptime_start"
kmsg "command start (uptime $up)"
bash "$run/cmd.sh" >"$out" 2>&1
status=$?
read -r up _ </proc/uptime
echo "$up" >"$run/share/uptime_end"
kmsg "command end (uptime $up)"

if [ "$KAB_RMMOD" = 1 ]; then
	tac "$run/modules" | while IFS= read -r mod; do
		[ -n "$mod" ] || continue
		name=$(basename "$mod" .ko)
		grep -q "^${name//-/_} " /proc/modules || continue
		if ! rmmod "$name" 2>"$run/share/rmmod.err"; then
			kmsg "rmmod $name failed: $(cat "$run/share/rmmod.err")"
			echo "$name" >>"$run/share/rmmod_failed"
		fi
	done
fi

# After rmmod, whatever our modules allocated and did not free is
# unreferenced: kmemleak reports it. Objects younger than its minimum age
# (5 s) are not reported yet, and one scan can miss what a second finds.
if [ "${KAB_DEBUG_CHECKS:-0}" = 1 ]; then
	if [ -w "$kmemleak" ]; then
		while IFS= read -r mod; do
			[ -n "$mod" ] || continue
			name=$(basename "$mod" .ko)
			if grep -q "^${name//-/_} " /proc/modules; then
				echo "$name still loaded at the kmemleak scan" >>"$run/share/debug_trouble"
			fi
		done <"$run/modules"
		sleep 6
		echo scan >"$kmemleak"
		echo scan >"$kmemleak"
		cat "$kmemleak" >"$run/share/kmemleak"
		kmsg "kmemleak: $(grep -c '^unreferenced object' "$run/share/kmemleak") suspected leaks after the command"
	fi
	if ! grep -qs '^ *debug_locks: *1' /proc/lockdep_stats; then
		echo "lockdep turned itself off during the run (after a splat: see the console)" \
			>>"$run/share/debug_trouble"
	fi
fi

finish "$status"
