#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lint suite of the kernel code, as one TAP document:
#
#   tools/testing/vm/lint.sh [--kernel 6.1|6.12]...   (default: both)
#
#   - per kernel: a full `make W=1 C=1` (sparse) of our modules, from a fresh
#     copy of the sources in build/<release>/lint, must print no warning;
#   - per kernel: `dkms build` of dkms.conf with a private DKMS tree under
#     build/dkms/ (nothing outside the clone is touched, nothing signed);
#   - per file: `checkpatch.pl --strict --no-tree -f` on every kernel C file
#     and header under kernel/, guest/, include/ and the test-only kernel
#     module tools/testing/vm/guest/vab_testdev/. checkpatch.pl and its
#     word lists are taken from Debian's linux-source-6.1 tarball into
#     build/checkpatch/ on first use;
#   - scripts: `shellcheck -S warning` on every shell script and `pyflakes3`
#     on every Python file the clone tracks (one test each).
#
# Exit 0 when everything is clean, 1 otherwise.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

kernels=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernels+=("${2:?}"); shift 2 ;;
	*) kab_die "usage: $0 [--kernel 6.1|6.12]..." ;;
	esac
done
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)

n=0
failed=0
lines=()
# result ok|"not ok" NAME [FILE of details, printed as comments]
result() {
	n=$((n + 1))
	[ "$1" = ok ] || failed=1
	lines+=("$1 $n $2")
	if [ -n "${3:-}" ] && [ -s "$3" ]; then
		lines+=("$(head -n 40 "$3" | sed 's/^/# /')")
	fi
}

# The kernel sources of the project, fresh, into DIR.
copy_sources() {
	rm -rf "$1"
	mkdir -p "$1"
	cp -a "$KAB_TOP/Kbuild" "$KAB_TOP/kernel" "$KAB_TOP/guest" \
		"$KAB_TOP/include" "$1/"
	[ -f "$KAB_TOP/dkms.conf" ] && cp -a "$KAB_TOP/dkms.conf" "$1/"
	# Only kernel code: the userspace parts of guest/ are not for kbuild.
	find "$1" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' \) -delete
}

# --- W=1 C=1 ---------------------------------------------------------------
lint_build() {
	local series=$1 rel dir log warn
	local kdir
	rel=$(kab_series_release "$series") || {
		result "not ok" "W=1 C=1 build on $series: no kernel release"; return; }
	kdir=$(kab_kernel_headers "$rel") || {
		result "not ok" "W=1 C=1 build on $rel: no headers (see stderr)"; return; }
	dir=$KAB_BUILD/$rel/lint
	log=$KAB_BUILD/$rel/lint.log
	warn=$KAB_BUILD/$rel/lint.warnings
	copy_sources "$dir"
	if make -C "$kdir" M="$dir" W=1 C=1 -j2 modules \
		>"$log" 2>&1; then
		# Anything that looks like a diagnostic: compiler, sparse, modpost.
		grep -E 'warning:|error:|WARNING|note:' "$log" |
			sed "s|$dir/||" >"$warn"
		if [ -s "$warn" ]; then
			result "not ok" "W=1 C=1 build on $rel prints no warning" "$warn"
		else
			result ok "W=1 C=1 build on $rel prints no warning"
		fi
	else
		grep -E 'error|warning' "$log" | sed "s|$dir/||" >"$warn"
		[ -s "$warn" ] || tail -n 20 "$log" >"$warn"
		result "not ok" "W=1 C=1 build on $rel prints no warning (build failed)" "$warn"
	fi
}

# --- dkms build ------------------------------------------------------------
lint_dkms() {
	local series=$1 rel base ver log kdir
	rel=$(kab_series_release "$series") || {
		result "not ok" "dkms build on $series: no kernel release"; return; }
	kdir=$(kab_kernel_headers "$rel") || {
		result "not ok" "dkms build on $rel: no headers (see stderr)"; return; }
	base=$KAB_BUILD/dkms/$rel
	log=$base.log
	ver=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$KAB_TOP/dkms.conf" 2>/dev/null)
	if [ -z "$ver" ]; then
		echo "no PACKAGE_VERSION in dkms.conf" >"$log"
		result "not ok" "dkms build on $rel" "$log"
		return
	fi
	rm -rf "$base"
	mkdir -p "$base/tree"
	copy_sources "$base/src/kvm_autoballoon-$ver"
	# sign_file pointing nowhere: dkms builds but neither signs nor makes
	# a MOK key under /var/lib/dkms.
	local dk=(--dkmstree "$base/tree" --sourcetree "$base/src")
	if { sign_file=/nonexistent dkms add -m kvm_autoballoon -v "$ver" "${dk[@]}" &&
	     sign_file=/nonexistent dkms build -m kvm_autoballoon -v "$ver" \
		-k "$rel" --kernelsourcedir "$kdir" "${dk[@]}"; } >"$log" 2>&1; then
		local m missing=
		for m in kvm_autoballoon virtio_autoballoon; do
			compgen -G "$base/tree/kvm_autoballoon/$ver/$rel/*/module/$m.ko*" \
				>/dev/null || missing+=" $m"
		done
		if [ -z "$missing" ]; then
			result ok "dkms build on $rel builds kvm_autoballoon and virtio_autoballoon"
		else
			echo "dkms build succeeded but these modules are missing:$missing" >>"$log"
			result "not ok" "dkms build on $rel builds kvm_autoballoon and virtio_autoballoon" "$log"
		fi
	else
		local mk
		mk=$(compgen -G "$base/tree/kvm_autoballoon/$ver/build/make.log")
		[ -n "$mk" ] && grep -E 'error|warning' "$mk" >>"$log"
		result "not ok" "dkms build on $rel builds kvm_autoballoon and virtio_autoballoon" "$log"
	fi
}

# --- checkpatch ------------------------------------------------------------
checkpatch_tool() {
	local tar=/usr/src/linux-source-6.1.tar.xz dir=$KAB_BUILD/checkpatch
	local stamp=$dir/.extracted
	if [ ! -e "$stamp" ] || [ "$tar" -nt "$stamp" ]; then
		[ -f "$tar" ] || return 1
		rm -rf "$dir"
		mkdir -p "$dir"
		tar -xJf "$tar" -C "$dir" --strip-components=1 \
			linux-source-6.1/scripts/checkpatch.pl \
			linux-source-6.1/scripts/spelling.txt \
			linux-source-6.1/scripts/const_structs.checkpatch || return 1
		touch "$stamp"
	fi
	echo "$dir/scripts/checkpatch.pl"
}

lint_checkpatch() {
	local cp f out
	if ! cp=$(checkpatch_tool); then
		result "not ok" "checkpatch.pl from linux-source-6.1 is available"
		return
	fi
	out=$KAB_BUILD/checkpatch/out
	mkdir -p "$out"
	while IFS= read -r f; do
		local o="$out/${f//\//_}.txt"
		if (cd "$KAB_TOP" && perl "$cp" --strict --no-tree --no-summary \
			--show-types --terse -f "$f") >"$o" 2>&1 && [ ! -s "$o" ]; then
			result ok "checkpatch --strict $f"
		else
			result "not ok" "checkpatch --strict $f" "$o"
		fi
	done < <(cd "$KAB_TOP" && git ls-files -co --exclude-standard \
		-- 'kernel/*.[ch]' 'guest/*.[ch]' 'include/*.[ch]' \
		'tools/testing/vm/guest/vab_testdev/*.[ch]' \
		'tools/testing/vm/debug-kernel/kab_leak/*.[ch]' | sort -u)
}

# Every tracked (or new, not ignored) shell script and Python file.
lint_scripts() {
	local out=$KAB_BUILD/lint-scripts.out files=()

	mapfile -t files < <(cd "$KAB_TOP" && git ls-files -co \
		--exclude-standard -- '*.sh' | sort -u)
	if (cd "$KAB_TOP" && shellcheck -x -P SCRIPTDIR -S warning \
		"${files[@]}") >"$out" 2>&1; then
		result ok "shellcheck -S warning on ${#files[@]} shell scripts"
	else
		result "not ok" "shellcheck -S warning on ${#files[@]} shell scripts" "$out"
	fi
	mapfile -t files < <(cd "$KAB_TOP" && git ls-files -co \
		--exclude-standard -- '*.py' | sort -u)
	if (cd "$KAB_TOP" && pyflakes3 "${files[@]}") >"$out" 2>&1; then
		result ok "pyflakes3 on ${#files[@]} Python files"
	else
		result "not ok" "pyflakes3 on ${#files[@]} Python files" "$out"
	fi
}

for k in "${kernels[@]}"; do
	lint_build "$k"
	lint_dkms "$k"
done
lint_checkpatch
lint_scripts

echo "TAP version 13"
echo "1..$n"
printf '%s\n' "${lines[@]}"
exit "$failed"
