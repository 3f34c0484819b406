#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Proof that a new user succeeds from nothing: build a minimal Debian 12
# root (mmdebstrap --variant=minbase: no make, no git, no compiler), copy a
# clean clone of this repository's HEAD into it, and run there, in order,
# exactly the commands of the README's "Try it" block (the lines between
# the <!-- new-user-commands --> markers), as root, with no stdin.
#
#   tools/testing/fresh-root.sh [--keep] [--dir DIR]
#
# The root is build/fresh-root/ of this clone (or DIR); /proc, /sys and
# /dev are bound into it (as slaves: nothing unmounts the machine's own),
# and /etc/resolv.conf is copied. The machine itself only gets mmdebstrap
# (apt) if it lacks it. --keep leaves the root in place for a look inside;
# otherwise it is removed at the start of the next run.
#
# Prints, for every command: its closing line, its exit status and its
# time; and a timeline of the steps inside (apt installs, kernel and
# headers downloads, the QEMU build, each make check suite) with the
# seconds since the command started. Full output: build/fresh-root.log.
# Exit 0 when every command exited 0.

set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
root=$top/build/fresh-root
keep=0
while [ $# -gt 0 ]; do
	case $1 in
	--keep) keep=1; shift ;;
	--dir) root=$(realpath -m "${2:?}"); shift 2 ;;
	*) echo "usage: $0 [--keep] [--dir DIR]" >&2; exit 2 ;;
	esac
done
log=$top/build/fresh-root.log
mkdir -p "$top/build"

say() { echo "fresh-root: $*"; }
die() { say "error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap, chroot, mounts)"

mapfile -t cmds < <(sed -n '/<!-- new-user-commands -->/,/<!-- \/new-user-commands -->/p' \
	"$top/README.md" | sed -n '/^```sh$/,/^```$/p' | sed '/^```/d; /^[[:space:]]*#/d; /^[[:space:]]*$/d')
[ ${#cmds[@]} -gt 0 ] ||
	die "README.md has no new-user-commands block with a sh code fence"

unmount_all() {
	local m
	for m in dev sys proc; do
		mountpoint -q "$root/$m" && umount -R "$root/$m"
	done
	return 0
}

if [ -d "$root" ]; then
	unmount_all
	rm -rf --one-file-system "$root"
fi

if ! command -v mmdebstrap >/dev/null; then
	say "installing mmdebstrap on this machine"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends mmdebstrap >&2 ||
		die "apt-get install mmdebstrap failed"
fi

t0=$(date +%s)
say "mmdebstrap --variant=minbase bookworm $root"
mmdebstrap --variant=minbase --quiet bookworm "$root" \
	"deb http://deb.debian.org/debian bookworm main" \
	"deb http://deb.debian.org/debian bookworm-updates main" \
	"deb http://deb.debian.org/debian-security bookworm-security main" \
	>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "mmdebstrap failed"; }
say "minbase root in $(($(date +%s) - t0)) s: $(du -sh --one-file-system "$root" | cut -f1)," \
	"make: $(chroot "$root" sh -c 'command -v make || echo none')," \
	"git: $(chroot "$root" sh -c 'command -v git || echo none')," \
	"gcc: $(chroot "$root" sh -c 'command -v gcc || echo none')"

clone=$root/root/kvm_autoballoon
git clone -q --no-local "$top" "$clone" || die "git clone of $top failed"
head=$(git -C "$clone" rev-parse --short HEAD)
say "clean clone of $head in /root/kvm_autoballoon"

cp -L /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
if [ "$keep" = 0 ]; then
	trap 'unmount_all; rm -rf --one-file-system "$root"' EXIT
else
	trap 'unmount_all' EXIT
fi

# Step markers: what each set-up step or suite prints when it begins.
steps='installing:|apt-get update|fetching|qemu/build.sh: [0-9]+ s|QEMU ready|===== suite|^ *[0-9]+ # [a-z0-9.-]+ +[0-9]+ passed|wall time|Need to get|plot:|booting Debian'

status=0
report=()
for c in "${cmds[@]}"; do
	say "\$ $c"
	s=$(date +%s)
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 /bin/bash -c "cd /root/kvm_autoballoon && $c" \
		</dev/null 2>&1 |
		while IFS= read -r line; do
			printf '%5d %s\n' $(($(date +%s) - s)) "$line"
		done >"$log.cmd"
	rc=${PIPESTATUS[0]}
	e=$(date +%s)
	cat "$log.cmd" >>"$log"
	grep -E "$steps" "$log.cmd" | cut -c1-160 | sed 's/^/    /'
	last=$(grep -v '^ *[0-9]* *$' "$log.cmd" | tail -n1 | cut -c7-)
	say "  closing line: $last"
	say "  exit $rc after $((e - s)) s"
	report+=("$(printf '%-60s exit %3d %6d s  %s' "$c" "$rc" $((e - s)) "$last")")
	[ "$rc" = 0 ] || status=1
done
rm -f "$log.cmd"

echo "fresh-root: summary (minbase bookworm, clone of $head)"
printf '  %s\n' "${report[@]}"
say "disk: root $(du -sh --one-file-system "$root" | cut -f1), of which the clone's build/ $(du -sh "$clone/build" 2>/dev/null | cut -f1)"
say "apt downloads: $(grep -ho 'Need to get [0-9.]* [kMG]B' "$log" "$clone"/build/qemu/build.log 2>/dev/null |
	awk '{ v = $4; u = $5; if (u == "kB") v /= 1000; if (u == "GB") v *= 1000; s += v } END { printf "%.0f MB", s }')"
say "kernel and headers downloads: $(du -ch "$clone"/build/vm/kernels/*/*.deb 2>/dev/null | tail -n1 | cut -f1) of images kept under build/vm/kernels/"
say "total $(($(date +%s) - t0)) s; full log: ${log#"$top"/}"
exit "$status"
