#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a stock Debian kernel under QEMU, load KVM and our modules, run one
# command inside, and hand its output and exit status back.
#
#   tools/testing/vm/run-vm.sh [options] -- COMMAND [ARGS...]
#   tools/testing/vm/run-vm.sh [options] --script FILE
#
# Options:
#   --kernel 6.1|6.12|RELEASE  kernel to boot (default 6.1); a series is
#                       resolved to its newest release by get-kernel.sh
#   --mem MIB           memory of the VM (default 2048)
#   --smp N             vCPUs (default 2)
#   --module PATH       insmod PATH after KVM is loaded (repeatable, in order;
#                       copied into the run first; rmmod'ed in reverse order
#                       at the end unless --no-rmmod)
#   --timeout SEC       kill the VM after SEC seconds: a hang (default 600,
#                       or $KAB_VM_TIMEOUT)
#   --out DIR           writable directory shared with the VM at the same
#                       path (default: the run's own share/out); exported
#                       inside as $KAB_OUT
#   --env VAR=VALUE     export VAR inside (repeatable)
#   --no-kvm            do not modprobe kvm_amd/kvm_intel inside
#   --no-rmmod          leave the modules loaded at the end
#   --accel kvm|tcg     override the choice (kvm only if the CPU shows vmx/svm
#                       and /dev/kvm is usable, else tcg with -cpu max)
#   --cpu MODEL         QEMU CPU model (default host under kvm, max under tcg)
#   --qemu PATH         QEMU binary (default qemu-system-x86_64)
#   --qemu-arg ARG      extra QEMU argument (repeatable)
#   --append TEXT       extra kernel command line
#   --bzimage           boot the compressed vmlinuz instead of the extracted
#                       vmlinux (PVH entry), e.g. to compare boot times
#   --script FILE       run FILE with bash inside (copied into the run)
#   --debug-checks      (or $KAB_VM_DEBUG_CHECKS=1; make check-debug) for a
#                       kernel with kmemleak and lockdep: kmemleak's
#                       suspects before the modules are loaded are cleared,
#                       and after the command and the rmmod at its end
#                       kmemleak scans: any report is a failure (exit 125,
#                       the report printed and kept as kmemleak in the
#                       run's share), and so is lockdep off at the start
#                       or the end (it turns itself off after its first
#                       splat), a kernel without kmemleak, or a module
#                       still loaded at the scan (--no-rmmod without the
#                       command unloading it): exit 122
#
# The VM's root is the host's root filesystem, read-only over virtio-9p (as
# virtme-ng does), so the clone, its build/ tree, QEMU, bash, python3 and
# every library are inside at the same paths as outside; /tmp, /run, /root
# and /var/tmp are the VM's own tmpfs (the host's /tmp is not visible). The command starts in the caller's working
# directory. Its stdout and stderr (merged) arrive on this script's stdout
# as they are written; this script's own messages go to stderr.
#
# Exit status: the command's own, or
#   122  the command passed but a debug check failed (--debug-checks)
#   123  the command passed but a module would not unload at the end
#        (rmmod failed: a reference was leaked); see --no-rmmod
#   124  the VM hung (timeout); the console tail is printed, and what
#        the VM was doing 40 s before (hang-dump.py: vCPUs, APICs, and
#        whether an NMI got it going) is kept as hang.txt in the run dir
#   125  kernel panic/oops/BUG/WARNING/... on the console (even if the
#        command passed), or the VM died before reporting a status; the
#        relevant console lines are printed
#   126  an insmod failed, the command was not run
#
# Every run keeps its files in build/vm/runs/<id>/ (console.log: the full
# serial console; output.log: the command's output; boot_seconds: host time
# from QEMU start to the command start). The last 30 runs are kept.
#
# Inside the VM, a test may boot its own nested guest with QEMU: /dev/kvm is
# there (nested SVM under TCG), and this very script works nested
# (run-vm.sh --kernel "$KAB_RELEASE" -- CMD) with runs under /tmp. Kernels
# fetched outside are found through $KAB_KERNELS.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

series=6.1
mem=2048
smp=2
timeout_s=${KAB_VM_TIMEOUT:-600}
out=
load_kvm=1
rmmod_at_end=1
accel=
cpu=
# shellcheck disable=SC2100 # a command name, not arithmetic
qemu=qemu-system-x86_64
append=
bzimage=0
script=
debug_checks=${KAB_VM_DEBUG_CHECKS:-0}
modules=()
envs=()
qemu_args=()

usage() { sed -n '4,45s/^# \{0,1\}//p' "$0" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) series=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--module) modules+=("$(realpath -e "$2")") || kab_die "no module $2"; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--env) envs+=("$2"); shift 2 ;;
	--no-kvm) load_kvm=0; shift ;;
	--no-rmmod) rmmod_at_end=0; shift ;;
	--accel) accel=$2; shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	--qemu) qemu=$2; shift 2 ;;
	--qemu-arg) qemu_args+=("$2"); shift 2 ;;
	--append) append=$2; shift 2 ;;
	--bzimage) bzimage=1; shift ;;
	--script) script=$(realpath -e "$2") || kab_die "no script $2"; shift 2 ;;
	--debug-checks) debug_checks=1; shift ;;
	--) shift; break ;;
	-h|--help) usage ;;
	*) kab_log "unknown option $1"; usage ;;
	esac
done
[ -n "$script" ] || [ $# -gt 0 ] || usage
[[ $mem =~ ^[0-9]+$ && $smp =~ ^[0-9]+$ && $timeout_s =~ ^[0-9]+$ ]] ||
	kab_die "--mem, --smp and --timeout take numbers"

# Nested inside a test VM the clone is read-only: work under /tmp.
if [ "${KAB_IN_VM:-0}" = 1 ]; then
	KAB_BUILD=/tmp/kab-vm
fi
KAB_KERNELS=${KAB_KERNELS:-$KAB_BUILD/vm/kernels}

# --- the kernel ---------------------------------------------------------
kernel_dir=
case $series in
6.1|6.12)
	if [ "${KAB_IN_VM:-0}" = 1 ]; then
		pat='6.1.0-*'
		[ "$series" = 6.12 ] && pat='6.12.*'
		# None there reads as "not fetched", reported below.
		kernel_dir=$(ls -d "$KAB_KERNELS"/$pat 2>/dev/null | sort -V | tail -n1) ||
			kernel_dir=
	else
		info=$("$here/get-kernel.sh" "$series") ||
			kab_die "cannot fetch kernel $series (tools/testing/vm/get-kernel.sh, see above)"
		eval "$info"
		kernel_dir=$(dirname "$moddir")
		kernel_dir=${kernel_dir%/root/lib/modules}
	fi
	;;
*)
	kernel_dir=$KAB_KERNELS/$series
	if [ ! -e "$kernel_dir/.done" ] && [ "${KAB_IN_VM:-0}" != 1 ]; then
		info=
		case $series in
		6.1.*) info=$("$here/get-kernel.sh" 6.1) ;;
		6.12.*) info=$("$here/get-kernel.sh" 6.12) ;;
		esac || kab_die "cannot fetch kernel $series (tools/testing/vm/get-kernel.sh, see above)"
		eval "$info"
	fi
	;;
esac
[ -n "$kernel_dir" ] && [ -e "$kernel_dir/.done" ] ||
	kab_die "kernel $series not fetched (tools/testing/vm/get-kernel.sh)"
release=${kernel_dir##*/}
moddir=$kernel_dir/root/lib/modules/$release
# A kernel that needs arguments of its own names them in its directory (the
# debug kernel: tools/testing/vm/debug-kernel.sh).
if [ -f "$kernel_dir/cmdline" ]; then
	append="$(cat "$kernel_dir/cmdline") $append"
fi
if [ -f "$kernel_dir/vmlinux" ] && [ "$bzimage" = 0 ]; then
	kernel=$kernel_dir/vmlinux
else
	kernel=$kernel_dir/root/boot/vmlinuz-$release
fi
case $release in
6.1.*) kseries=6.1 ;;
6.12.*) kseries=6.12 ;;
*) kseries=$release ;;
esac

# --- the accelerator ----------------------------------------------------
if [ -z "$accel" ]; then
	if kab_has_hw_virt && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		accel=kvm
	else
		accel=tcg
	fi
fi
case $accel in
kvm) accel_args=(-accel kvm -cpu "${cpu:-host}") ;;
tcg) accel_args=(-accel "tcg,thread=${KAB_TCG_THREAD:-single}" -cpu "${cpu:-max}") ;;
*) kab_die "--accel takes kvm or tcg" ;;
esac

# --- the run directory --------------------------------------------------
runs=$KAB_BUILD/vm/runs
mkdir -p "$runs"
run=$runs/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$run/share" "$run/initramfs"
case $run in *[[:space:]]*) kab_die "the clone's path must not contain spaces" ;; esac
ls -1dt "$runs"/*/ 2>/dev/null | tail -n +31 | xargs -r rm -rf

if [ -z "$out" ]; then
	out=$run/share/out
fi
mkdir -p "$out"
out=$(realpath "$out")
# The default output directory lives inside the run share: no third device.
out_device=1
case $out/ in "$run"/share/*) out_device=0 ;; esac

if [ -n "$script" ]; then
	cp "$script" "$run/cmd.sh"
else
	{ printf 'exec'; printf ' %q' "$@"; printf '\n'; } >"$run/cmd.sh"
fi
# Modules are copied into the run, so any host path works (the host's /tmp
# is not visible inside: the VM has its own tmpfs there).
mkdir -p "$run/modules.d"
: >"$run/modules"
for i in "${!modules[@]}"; do
	mkdir -p "$run/modules.d/$i"
	cp "${modules[$i]}" "$run/modules.d/$i/"
	echo "$run/modules.d/$i/${modules[$i]##*/}" >>"$run/modules"
done

# The VM mounts the booted kernel's modules at /lib/modules/<release> of
# the host's (read-only) root, so that directory must exist there. A
# machine without any kernel (a container, a chroot) has none: make the
# empty directory that every installed Debian kernel would have made.
if [ ! -d /lib/modules ]; then
	kab_log "creating the empty /lib/modules (this machine has no kernel modules installed)"
	mkdir -p /lib/modules || kab_die "cannot create /lib/modules"
fi

{
	printf 'KAB_TOP=%q\n' "$(realpath "$KAB_TOP")"
	printf 'KAB_BUILD=%q\n' "$(realpath "$KAB_BUILD")"
	printf 'KAB_RUN=%q\n' "$run"
	printf 'KAB_OUT=%q\n' "$out"
	printf 'KAB_OUT_DEVICE=%q\n' "$out_device"
	printf 'KAB_CWD=%q\n' "$PWD"
	printf 'KAB_RELEASE=%q\n' "$release"
	printf 'KAB_SERIES=%q\n' "$kseries"
	# Resolved here: the initramfs binds it under /newroot, where an absolute
	# symlink on its way would point into the initramfs.
	printf 'KAB_MODDIR=%q\n' "$(realpath "$moddir")"
	printf 'KAB_KERNELS=%q\n' "$KAB_KERNELS"
	printf 'KAB_HOST_MODULES_DIR=%q\n' "$(realpath /lib/modules)"
	printf 'KAB_BASH=%q\n' "$(command -v bash)"
	printf 'KAB_LOAD_KVM=%q\n' "$load_kvm"
	printf 'KAB_RMMOD=%q\n' "$rmmod_at_end"
	printf 'KAB_DEBUG_CHECKS=%q\n' "$debug_checks"
	printf 'KAB_CI=%q\n' "${CI:-}"
	for e in "${envs[@]+"${envs[@]}"}"; do
		[[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || kab_die "bad --env $e"
		printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"
	done
} >"$run/env"

# --- the initramfs: busybox, /init and the modules to reach the 9p root --
ird=$run/initramfs
mkdir -p "$ird"/{bin,dev,proc,sys,newroot,kab}
cp "$(command -v busybox)" "$ird/bin/busybox"
cp "$here/initramfs-init.sh" "$ird/init"
chmod 755 "$ird/init"
cp "$run/env" "$ird/kab/env"
mknod "$ird/dev/console" c 5 1 2>/dev/null || true
: >"$ird/kab/modules.order"
modprobe -d "$kernel_dir/root" -S "$release" --show-depends -a \
	virtio_pci 9pnet_virtio 9p | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' |
while read -r ko; do
	name=${ko##*/}
	case $name in
	*.ko.xz) xz -dc "$ko" >"$ird/kab/${name%.xz}"; name=${name%.xz} ;;
	*.ko.zst) zstd -dcq "$ko" >"$ird/kab/${name%.zst}"; name=${name%.zst} ;;
	*) cp "$ko" "$ird/kab/$name" ;;
	esac
	echo "$name" >>"$ird/kab/modules.order"
done
(cd "$ird" && find . | cpio -o -H newc --quiet) >"$run/initramfs.cpio"

# --- boot ---------------------------------------------------------------
cmdline="console=ttyS0,115200 panic=-1 oops=panic rdinit=/init"
cmdline+=" no_timer_check tsc=reliable mitigations=off loglevel=7 $append"

# shellcheck disable=SC2054 # commas inside QEMU option values
qemu_cmd=(
	"$qemu" -nodefaults -no-user-config -display none -no-reboot
	-machine q35 "${accel_args[@]}" -smp "$smp" -m "$mem"
	-kernel "$kernel" -initrd "$run/initramfs.cpio" -append "$cmdline"
	-chardev "file,id=con,path=$run/console.log" -serial chardev:con
	-chardev stdio,id=out -serial chardev:out
	-fsdev local,id=kabroot,path=/,security_model=none,readonly=on,multidevs=remap
	-device virtio-9p-pci,fsdev=kabroot,mount_tag=kabroot
	-fsdev "local,id=kabrun,path=$run/share,security_model=none,multidevs=remap"
	-device virtio-9p-pci,fsdev=kabrun,mount_tag=kabrun
	-device virtio-rng-pci
	-qmp "unix:$run/qmp.sock,server=on,wait=off"
)
if [ "$out_device" = 1 ]; then
	# shellcheck disable=SC2054
	qemu_cmd+=(-fsdev "local,id=kabout,path=$out,security_model=none,multidevs=remap"
		   -device virtio-9p-pci,fsdev=kabout,mount_tag=kabout)
fi
qemu_cmd+=("${qemu_args[@]+"${qemu_args[@]}"}")
printf '%q ' "${qemu_cmd[@]}" >"$run/qemu.cmd"

kab_log "booting $release ($accel, $(basename "$kernel"), ${mem} MiB, $smp vCPUs); run dir $run"

start=$(date +%s.%N)
# Watch the console for the start marker to time the boot.
(
	while :; do
		done=0
		[ -e "$run/qemu.done" ] && done=1
		if grep -qs 'kab-vm: command start' "$run/console.log"; then
			now=$(date +%s.%N)
			awk -v a="$start" -v b="$now" 'BEGIN { printf "%.1f\n", b - a }' \
				>"$run/boot_seconds"
			break
		fi
		[ "$done" = 1 ] && break
		sleep 0.2
	done
) &
watcher=$!

# Shortly before the timeout, what a VM that hangs is doing: its vCPUs,
# their APICs, and whether an NMI gets it going (hang-dump.py).
dump_at=$((timeout_s > 120 ? timeout_s - 40 : timeout_s * 2 / 3))
(
	# Nothing of ours may hold the caller's pipe, nor a sleep outlive us.
	exec </dev/null >/dev/null 2>&1
	sleep "$dump_at" &
	trap 'kill $! 2>/dev/null; exit 0' TERM
	wait $!
	[ -e "$run/qemu.done" ] || python3 "$here/hang-dump.py" "$run" >"$run/hang.txt"
) &
dumper=$!

set +e
# In the background, so that a signal to this script (a caller's timeout)
# stops the VM at once instead of leaving it to run: timeout(1) puts QEMU in
# a process group of its own, out of reach of a group kill aimed at us.
timeout --kill-after=10 "$timeout_s" "${qemu_cmd[@]}" </dev/null \
	> >(tee "$run/output.log") &
qemu_pid=$!
stop_vm() {
	kill -TERM "$qemu_pid" "$watcher" "$dumper" 2>/dev/null
	kab_log "stopped by a signal; run dir $run"
	exit 143
}
trap stop_vm TERM INT HUP
wait "$qemu_pid"
qemu_rc=$?
trap - TERM INT HUP
set -e
touch "$run/qemu.done"
kill "$dumper" 2>/dev/null || true
wait "$watcher" 2>/dev/null || true
wait 2>/dev/null || true	# tee
end=$(date +%s.%N)
wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

# --- verdict ------------------------------------------------------------
# Lines that mean the kernel went wrong, whatever the command said.
bad_re='Kernel panic|Oops|BUG:|WARNING:|general protection|KASAN|UBSAN|'
# "Call Trace:" alone is not listed: the OOM killer prints one too, and a
# memory pressure test may legitimately invoke it.
bad_re+='blocked for more than|soft lockup|hard LOCKUP|RCU stall|'
bad_re+='rcu_sched self-detected|kernel BUG|Attempted to kill init|'
bad_re+='Unable to handle kernel'

rc=0
problem=
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
	problem="VM hung: killed after ${timeout_s}s"
	[ -s "$run/hang.txt" ] &&
		problem+=" ($(tail -n1 "$run/hang.txt"); the vCPUs: $run/hang.txt)"
	rc=124
elif [ ! -s "$run/share/status" ]; then
	problem="VM died before the command reported a status (qemu exit $qemu_rc)"
	rc=125
else
	rc=$(cat "$run/share/status")
fi
if grep -qE "$bad_re" "$run/console.log" 2>/dev/null; then
	problem="${problem:+$problem; }kernel trouble on the console"
	[ "$rc" = 124 ] || rc=125
fi
# A module that cannot be unloaded after the command kept a reference: a
# leak, whatever the command said.
if [ -s "$run/share/rmmod_failed" ]; then
	problem="${problem:+$problem; }rmmod failed at the end: $(tr '\n' ' ' <"$run/share/rmmod_failed")"
	[ "$rc" != 0 ] || rc=123
fi

# The debug checks (--debug-checks): kmemleak's report after the rmmod,
# lockdep still on.
if [ "$debug_checks" = 1 ] && [ -s "$run/share/status" ]; then
	if [ -s "$run/share/debug_trouble" ]; then
		problem="${problem:+$problem; }debug checks: $(tr '\n' ' ' <"$run/share/debug_trouble")"
		[ "$rc" != 0 ] || rc=122
	fi
	if grep -q '^unreferenced object' "$run/share/kmemleak" 2>/dev/null; then
		problem="${problem:+$problem; }kmemleak: $(grep -c '^unreferenced object' "$run/share/kmemleak") suspected leaks after the command and rmmod (the report: $run/share/kmemleak)"
		[ "$rc" != 0 ] || rc=122
	fi
fi

boot=$(cat "$run/boot_seconds" 2>/dev/null || echo '?')
kab_log "$release: boot to command ${boot}s, whole run ${wall}s, exit $rc"

if [ -n "$problem" ]; then
	kab_log "FAILURE: $problem"
	if grep -q '^unreferenced object' "$run/share/kmemleak" 2>/dev/null; then
		kab_log "kmemleak's report:"
		head -n 60 "$run/share/kmemleak" >&2
	fi
	kab_log "console lines (full log: $run/console.log):"
	if grep -qE "$bad_re" "$run/console.log" 2>/dev/null; then
		grep -nE -B2 -A12 "$bad_re" "$run/console.log" | head -n 80 >&2
	else
		tail -n 40 "$run/console.log" >&2
	fi
fi
exit "$rc"
