#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Regression tests of set-up on a machine that has nothing: tools/testing/
# deps.sh and qemu/build.sh's pre-flight (--deps) run against stub
# dpkg-query, apt-get and id commands, so nothing is installed for real and
# no network is used.
#
#   tools/testing/setup_test.sh        TAP on stdout; exit 0 all passed
#
# The stubs: dpkg-query knows only the packages that the stub apt-get has
# "installed" in this run (a fresh machine knows none: exit 1, as the real
# one does for a package it never heard of); apt-get records every call
# and, for "install", marks the packages installed and puts a stub
# executable on PATH for the tools they bring (meson, ninja); id -u says 0.
# With KAB_STUB_APT_FAIL=1 every apt-get install fails; with
# KAB_STUB_DPKG_BROKEN=1 dpkg-query fails as a broken dpkg does (exit 2).
#
# These catch the set -e traps that once made set-up silently install
# nothing: a command substitution in an assignment, or a function in a
# process substitution, whose failure read as "nothing missing".

set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/kab-setup-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

n=0
failed=0
lines=()
check() {	# check NAME COMMAND...: one TAP result
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		lines+=("ok $n $name")
	else
		lines+=("not ok $n $name")
		failed=1
		if [ -s "$work/why" ]; then
			while IFS= read -r l; do
				lines+=("# $l")
			done <"$work/why"
		fi
	fi
	: >"$work/why"
}
why() { echo "$*" >>"$work/why"; }

# A PATH that has every command of the machine except those we stub or
# hide: a directory of symlinks, then the stubs in front of it.
make_path() {
	local bin=$work/bin sys=$work/sys d f
	rm -rf "$bin" "$sys"
	mkdir -p "$bin" "$sys"
	for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
		[ -d "$d" ] || continue
		for f in "$d"/*; do
			case ${f##*/} in
			dpkg-query|apt-get|id|meson|ninja) continue ;;
			esac
			[ -e "$sys/${f##*/}" ] || ln -s "$f" "$sys/${f##*/}"
		done
	done

	cat >"$bin/dpkg-query" <<-'EOF'
	#!/bin/bash
	# stub: -W -f=FORMAT PKG...; knows only what the stub apt-get installed
	[ "${KAB_STUB_DPKG_BROKEN:-0}" = 1 ] && { echo "dpkg-query: database locked" >&2; exit 2; }
	fmt=
	pkgs=()
	for a in "$@"; do
		case $a in
		-W|--show) ;;
		-f=*|--showformat=*) fmt=${a#*=} ;;
		-*) ;;
		*) pkgs+=("$a") ;;
		esac
	done
	rc=0
	for p in "${pkgs[@]}"; do
		if grep -qxF "$p" "$KAB_STUB_STATE/installed" 2>/dev/null; then
			f=${fmt//'${Package}'/$p}
			f=${f//'${Status}'/install ok installed}
			printf "${f:-$p\n}"
		else
			echo "dpkg-query: no packages found matching $p" >&2
			rc=1
		fi
	done
	exit $rc
	EOF
	cat >"$bin/apt-get" <<-'EOF'
	#!/bin/bash
	# stub: records its arguments; "install" marks packages installed
	echo "$*" >>"$KAB_STUB_STATE/apt-get.log"
	install=0
	for a in "$@"; do
		[ "$a" = install ] && { install=1; continue; }
		[ $install = 1 ] || continue
		case $a in -*) continue ;; esac
		[ "${KAB_STUB_APT_FAIL:-0}" = 1 ] && { echo "E: Unable to locate package $a" >&2; exit 100; }
		echo "$a" >>"$KAB_STUB_STATE/installed"
		case $a in
		meson|ninja-build)
			t=${a%-build}
			printf '#!/bin/sh\necho 1.0.1\n' >"$KAB_STUB_BIN/$t"
			chmod +x "$KAB_STUB_BIN/$t" ;;
		esac
	done
	exit 0
	EOF
	printf '#!/bin/sh\necho 0\n' >"$bin/id"
	chmod +x "$bin"/*
	stub_path=$bin:$sys
}

# run_stubbed NAME SCRIPT ARGS...: SCRIPT under the stubs, fresh state;
# its exit status in $rc, its output in $work/NAME.out.
run_stubbed() {
	local name=$1
	shift
	last=$name
	rm -rf "$work/state"
	mkdir -p "$work/state"
	: >"$work/state/apt-get.log"
	rm -f "$work/bin/meson" "$work/bin/ninja"
	env PATH="$stub_path" KAB_STUB_STATE="$work/state" \
		KAB_STUB_BIN="$work/bin" KAB_BUILD="$work/build" \
		KAB_APT_UPDATED=0 "$@" >"$work/$name.out" 2>&1 </dev/null
	rc=$?
}

# Every package was asked for in one of the recorded apt-get installs.
asked_for_all() {
	local p asked missing=()
	asked=$(grep -E '(^| )install ' "$work/state/apt-get.log" | tr ' ' '\n')
	for p in "$@"; do
		grep -qxF -- "$p" <<<"$asked" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	why "not asked for: ${missing[*]}"
	why "apt-get calls: $(tr '\n' ';' <"$work/state/apt-get.log")"
	why "output: $(tail -n 5 "$work/$last.out" 2>/dev/null | tr '\n' ' ')"
	return 1
}

exit_was() {	# exit_was WANT NAME
	[ "$rc" = "$1" ] && return 0
	why "exit status $rc, want $1; output: $(tail -n 5 "$work/$2.out" | tr '\n' ' ')"
	return 1
}

failed_saying() {	# failed_saying NAME WORD...: rc != 0, output names each WORD
	local w
	if [ "$rc" = 0 ]; then
		why "exit status 0, want a failure"
		return 1
	fi
	for w in "${@:2}"; do
		grep -qF -- "$w" "$work/$1.out" && continue
		why "exit $rc without naming '$w'; output: $(tail -n 5 "$work/$1.out" | tr '\n' ' ')"
		return 1
	done
}

make_path
deps_list=$("$top/tools/testing/deps.sh" --list) || deps_list=
mapfile -t deps <<<"$deps_list"
check "deps.sh --list names packages" [ ${#deps[@]} -gt 10 ]

run_stubbed deps "$top/tools/testing/deps.sh"
check "deps.sh on a machine with nothing exits 0" exit_was 0 deps
check "deps.sh on a machine with nothing asks apt-get for every package" \
	eval 'asked_for_all "${deps[@]}"'

KAB_STUB_APT_FAIL=1 run_stubbed deps-fail "$top/tools/testing/deps.sh"
check "deps.sh whose apt-get install fails exits non-zero naming the packages" \
	failed_saying deps-fail "apt-get install" sparse

KAB_STUB_DPKG_BROKEN=1 run_stubbed deps-dpkg "$top/tools/testing/deps.sh"
check "deps.sh whose dpkg-query fails exits non-zero and says so" \
	failed_saying deps-dpkg dpkg

run_stubbed qemu "$top/qemu/build.sh" --deps
check "qemu/build.sh --deps with no meson on PATH exits 0" exit_was 0 qemu
check "qemu/build.sh --deps with no meson on PATH asks apt-get for meson" \
	asked_for_all meson ninja-build libglib2.0-dev

KAB_STUB_APT_FAIL=1 run_stubbed qemu-fail "$top/qemu/build.sh" --deps
check "qemu/build.sh --deps whose apt-get fails exits non-zero naming meson" \
	failed_saying qemu-fail meson

# A second call after the install: nothing left to ask for.
run_twice() {
	run_stubbed deps2 "$top/tools/testing/deps.sh" || return 1
	[ "$rc" = 0 ] || { why "first run exit $rc"; return 1; }
	local calls
	env PATH="$stub_path" KAB_STUB_STATE="$work/state" KAB_STUB_BIN="$work/bin" \
		KAB_BUILD="$work/build" "$top/tools/testing/deps.sh" \
		>"$work/deps2b.out" 2>&1 </dev/null || { why "second run failed"; return 1; }
	calls=$(grep -c ' install ' "$work/state/apt-get.log")
	[ "$calls" = 1 ] || { why "apt-get install ran $calls times over two runs, want 1"; return 1; }
}
check "deps.sh run again after installing asks apt-get for nothing" run_twice

# --- tools/testing/check.sh ---------------------------------------------
# Runs check.sh with a suites directory of our own and no deps.sh; its
# output in $work/check.out, its exit status in $rc.
run_check() {
	env KAB_SUITES_D="$work/suites" KAB_CHECK_NO_DEPS=1 \
		KAB_BUILD="$work/build" "$top/tools/testing/check.sh" "$@" \
		>"$work/check.out" 2>&1 </dev/null
	rc=$?
}
closing_line_is() {
	local got
	got=$(tail -n 1 "$work/check.out")
	[ "$got" = "$1" ] && return 0
	why "closing line '$got', want '$1'"
	return 1
}
suite() {	# suite NAME BODY: an executable suite printing BODY
	printf '#!/bin/bash\n%s\n' "$2" >"$work/suites/$1.sh"
	chmod +x "$work/suites/$1.sh"
}
rm -rf "$work/suites"
mkdir -p "$work/suites"
suite 10-many 'for i in $(seq 300); do echo "ok $i t$i"; done; echo 1..300'
suite 20-died 'printf "TAP version 13\n1..3\nok 1 a\n"; echo "Traceback (most recent call last):" >&2; exit 1'

run_check selftest-6.1
check "check.sh: an unknown suite name is an error (exit 2)" \
	eval '[ "$rc" = 2 ] && grep -q "unknown suite .selftest-6.1." "$work/check.out" || { why "exit $rc: $(tail -n 2 "$work/check.out" | tr "\n" " ")"; false; }'

counts_every_time() {
	local i
	for i in $(seq 20); do
		run_check many
		[ "$rc" = 0 ] || { why "run $i: exit $rc"; return 1; }
		closing_line_is "300 passed, 0 failed" || { why "run $i"; return 1; }
	done
}
check "check.sh counts all 300 results of a fast suite, 20 runs out of 20" counts_every_time

run_check died
check "check.sh: a suite that died after 1 of its 3 planned results fails" \
	eval 'closing_line_is "1 passed, 2 failed" && grep -q "plan 1..3, 1 results" "$work/check.out"'

printf '#!/bin/bash\necho ok 1\n' >"$work/suites/30-noexec.sh"
run_check many
check "check.sh: a suite file that is not executable is an error (exit 2)" \
	eval '[ "$rc" = 2 ] && grep -q "30-noexec.sh is not executable" "$work/check.out" || { why "exit $rc: $(tail -n 2 "$work/check.out" | tr "\n" " ")"; false; }'

echo "TAP version 13"
echo "1..$n"
printf '%s\n' "${lines[@]}"
exit "$failed"
