# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared helpers of the test harness, sourced by tools/testing/deps.sh and
# the scripts in tools/testing/vm/. Not executable on its own.
#
# Everything a script writes goes under $KAB_BUILD (build/ at the top of the
# clone), never outside it, except packages installed with apt.

KAB_TOP=${KAB_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
KAB_BUILD=${KAB_BUILD:-$KAB_TOP/build}
export KAB_TOP KAB_BUILD

kab_log() { echo "${0##*/}: $*" >&2; }
kab_die() { kab_log "error: $*"; exit 1; }

# Run apt-get noninteractively; never prompts, never pulls recommends.
kab_apt() {
	DEBIAN_FRONTEND=noninteractive apt-get -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef \
		-o Dpkg::Options::=--force-confold "$@" </dev/null
}

# apt-get update at most once per make check run (KAB_APT_UPDATED is
# exported to every child), and only when somebody needs it.
kab_apt_update() {
	[ "${KAB_APT_UPDATED:-0}" = 1 ] && return 0
	kab_log "apt-get update"
	kab_apt update >&2 || kab_die "apt-get update failed"
	KAB_APT_UPDATED=1
	export KAB_APT_UPDATED
}

# True when apt has package lists that are not stale: a fresh image may have
# none, or lists old enough that the newest kernel they name is gone from
# the archive. Stale means older than $KAB_APT_MAX_AGE seconds (12 h).
kab_apt_has_lists() {
	compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || return 1
	local newest
	newest=$(stat -c %Y /var/lib/apt/lists/*Release 2>/dev/null | sort -n | tail -n1)
	[ -n "$newest" ] &&
		[ $(($(date +%s) - newest)) -lt "${KAB_APT_MAX_AGE:-43200}" ]
}

# kab_apt_retry CMD...: run an apt command; if it fails (stale lists give
# 404s or "Unable to locate package"), update the lists once and retry.
kab_apt_retry() {
	kab_apt_has_lists || kab_apt_update
	"$@" && return 0
	[ "${KAB_APT_UPDATED:-0}" = 1 ] && return 1
	kab_apt_update
	"$@"
}

# kab_pkgs_missing PKG...: print those of PKG... that are not installed.
# dpkg-query -W exits 1 when it has never heard of a package: that is the
# answer "missing", not an error. Any other failure is one, and is reported
# (status 2), so that a caller under set -e never reads "nothing missing"
# from a query that did not run.
kab_pkgs_missing() {
	local out rc=0 pkg
	out=$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null) || rc=$?
	if [ "$rc" -gt 1 ]; then
		kab_log "error: dpkg-query -W failed (exit $rc); is dpkg usable?"
		return 2
	fi
	out=$(awk '$NF == "installed" && $(NF-1) == "ok" { print $1 }' <<<"$out")
	for pkg in "$@"; do
		grep -qxF "$pkg" <<<"$out" || echo "$pkg"
	done
}

# kab_lines NAME TEXT: split TEXT into the array NAME, one element per line;
# empty TEXT gives an empty array. Use it after `x=$(cmd) || kab_die ...`
# instead of `mapfile < <(cmd)`, whose failures nobody sees.
# shellcheck disable=SC2034 # kab_lines_out is a nameref: the caller's array
kab_lines() {
	local -n kab_lines_out=$1
	kab_lines_out=()
	if [ -n "$2" ]; then
		mapfile -t kab_lines_out <<<"$2"
	fi
}

# kab_install PKG...: apt-get install those of PKG... that are missing
# (root only), then check that each of them is installed. Dies, naming the
# packages and the command to run by hand, on any failure.
kab_install() {
	local out absent=()
	out=$(kab_pkgs_missing "$@") || kab_die "cannot ask dpkg which packages are installed"
	kab_lines absent "$out"
	[ ${#absent[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] ||
		kab_die "missing packages and not root; run: sudo apt-get install ${absent[*]}"
	kab_log "installing: ${absent[*]}"
	kab_apt_retry kab_apt install "${absent[@]}" >&2 ||
		kab_die "apt-get install failed (output above); by hand: apt-get update && apt-get install ${absent[*]}"
	out=$(kab_pkgs_missing "${absent[@]}") || kab_die "cannot ask dpkg which packages are installed"
	[ -z "$out" ] || kab_die "still not installed after apt-get install: $(echo "$out" | tr '\n' ' ')"
}

# kab_meta_target META PREFIX: the concrete package that the meta package
# META depends on and whose name starts with PREFIX (newest candidate known
# to apt), e.g. linux-image-amd64 linux-image- -> linux-image-6.1.0-56-amd64.
kab_meta_target() {
	apt-cache depends "$1" 2>/dev/null |
		sed -n "s/^ *Depends: \\($2[0-9][^ ]*\\)\$/\\1/p" | head -n1
}

# kab_series_meta SERIES KIND: meta package of a kernel series.
# SERIES is 6.1 or 6.12, KIND is image or headers.
kab_series_meta() {
	case $1 in
	6.1)  echo "linux-$2-amd64" ;;
	6.12) echo "linux-$2-6.12-amd64" ;;
	*)    kab_die "unknown kernel series '$1' (want 6.1 or 6.12)" ;;
	esac
}

# kab_series_release SERIES: newest kernel release of that series, e.g.
# 6.1.0-56-amd64 or 6.12.117+deb12-amd64. Resolved from the meta package
# every time; no point release is ever written down.
kab_series_release() {
	local meta pkg
	meta=$(kab_series_meta "$1" image) || return 1
	kab_apt_has_lists || kab_apt_update
	pkg=$(kab_meta_target "$meta" linux-image-)
	if [ -z "$pkg" ]; then
		kab_apt_update
		pkg=$(kab_meta_target "$meta" linux-image-)
	fi
	[ -n "$pkg" ] || kab_die "cannot resolve $meta to a kernel package"
	echo "${pkg#linux-image-}"
}

# kab_kernel_headers RELEASE: print the kbuild directory of RELEASE's
# headers, unpacked (not installed) under build/vm/headers/RELEASE/ from
# the three Debian packages that make them up: linux-headers-RELEASE, its
# -common package and its linux-kbuild package. Installing them with apt
# would also install the kernel image they depend on (6.12) and repoint
# the machine's /vmlinuz; unpacked, nothing outside the clone changes. The
# only absolute path inside, the arch Makefile's include of the -common
# tree, is rewritten to point into the unpacked copy.
kab_kernel_headers() {
	local rel=$1 dir=$KAB_BUILD/vm/headers/$1 deps pkgs=() deb
	local kdir=$dir/root/usr/src/linux-headers-$1
	mkdir -p "$dir"
	(
		flock 9
		[ -e "$dir/.done" ] && exit 0
		rm -rf "$dir/root" "$dir"/*.deb
		kab_apt_has_lists || kab_apt_update
		# The -common and linux-kbuild packages it depends on; empty
		# when apt does not know it (stale lists: update once).
		header_deps() {
			apt-cache depends "linux-headers-$rel" 2>/dev/null |
				sed -n 's/^ *Depends: \(linux-\(headers\|kbuild\)-[^ <]*\).*$/\1/p'
		}
		deps=$(header_deps) || deps=
		if [ -z "$deps" ]; then
			kab_apt_update
			deps=$(header_deps) || deps=
		fi
		[ -n "$deps" ] ||
			kab_die "apt knows no linux-headers-$rel (apt-get update, or is the release gone from the archive?)"
		kab_lines pkgs "$deps"
		pkgs=("linux-headers-$rel" "${pkgs[@]}")
		kab_log "fetching ${pkgs[*]} (unpacked under ${dir#"$KAB_TOP"/}, not installed)"
		(cd "$dir" && apt-get -q -o APT::Sandbox::User=root download \
			"${pkgs[@]}") >&2 ||
			kab_die "apt-get download ${pkgs[*]} failed"
		for deb in "$dir"/*.deb; do
			dpkg-deb -x "$deb" "$dir/root" ||
				kab_die "cannot unpack $deb"
		done
		rm -f "$dir"/*.deb
		[ -f "$kdir/Makefile" ] ||
			kab_die "linux-headers-$rel has no usr/src/linux-headers-$rel/Makefile"
		sed -i "s|^include /usr/src/|include $dir/root/usr/src/|" "$kdir/Makefile"
		make -s -C "$kdir" kernelrelease >/dev/null 2>&1 ||
			kab_die "the unpacked headers of $rel do not work as a kbuild tree ($kdir)"
		touch "$dir/.done"
	) 9>"$dir/.lock" || return 1
	echo "$kdir"
}

# kab_has_hw_virt: true if this CPU advertises VMX or SVM. The existence of
# /dev/kvm is not enough: some machines have one that cannot boot a guest.
kab_has_hw_virt() {
	grep -qwE 'vmx|svm' /proc/cpuinfo
}
