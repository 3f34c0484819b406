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

# kab_pkg_installed PKG: true if dpkg has PKG fully installed.
kab_pkg_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = \
		"install ok installed" ]
}

# kab_pkgs_missing PKG...: print those of PKG... that are not installed.
kab_pkgs_missing() {
	local have
	have=$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null |
		awk '$NF == "installed" && $(NF-1) == "ok" { print $1 }')
	local pkg
	for pkg in "$@"; do
		grep -qxF "$pkg" <<<"$have" || echo "$pkg"
	done
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

# kab_has_hw_virt: true if this CPU advertises VMX or SVM. The existence of
# /dev/kvm is not enough: some machines have one that cannot boot a guest.
kab_has_hw_virt() {
	grep -qwE 'vmx|svm' /proc/cpuinfo
}
