# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers of the nested-guest benchmarks bench/reaction/run.sh and
# bench/rfc/run.sh (sourced).
#
# bench_prepare SERIES DIR: builds, for the kernel series SERIES (6.1,
#   6.12), everything a nested-guest benchmark needs, in DIR (the module and
#   the guest driver from copies of their sources, the guests' initramfs) and
#   the patched QEMU (qemu/build.sh, cached). Sets bench_release,
#   bench_kernel, bench_ko, bench_cpio and bench_qemu. Returns non-zero with
#   the reason on stderr if anything is missing.
# bench_run NAME PREFIX TIMELINE SERIES...: for each kernel series, prepares
#   with bench_prepare in build/bench/NAME/, then runs bench/NAME/NAME.py
#   QEMU KERNEL INITRAMFS in a test VM (1 vCPU, ${PREFIX}HOST_MEM MiB,
#   default 1536; killed after ${PREFIX}VM_TIMEOUT s, default 1600) with
#   every ${PREFIX}* variable passed in, and records the kernel's section
#   (bench_section): the VM, when it ran and its run time, the run's
#   timeline (its "# N.Ns" lines) when TIMELINE is 1, and the NAME.md the
#   measurement wrote. bench_status becomes 1 when a kernel could not be
#   measured; the verdict is the measurement's own NAME.status. With
#   BENCH_TAG set (a variant of the measurement, e.g. another workload)
#   the section is "RELEASE (TAG)", its key RELEASE-TAG and the raw output
#   out-RELEASE-TAG/.
# bench_results NAME: writes bench/NAME/results.md: the header on stdin,
#   the kernels' sections in version order, then bench/NAME/discussion.md
#   (the reading written by hand) when there is one. With BENCH_KEEP=1 the
#   sections of kernels not measured by this invocation are kept from the
#   results.md there was (each section sits between <!-- bench section
#   KEY --> and <!-- bench end KEY --> lines), except those that a newer
#   release of the same X.Y series and tag superseded (Debian's 6.12.117
#   sections once 6.12.118 was measured: bench_superseded).

# shellcheck disable=SC2034 # the bench_* results are the callers'
bench_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../qemu/tests/lib.sh
. "$bench_top/qemu/tests/lib.sh"

# shellcheck disable=SC2034
bench_prepare() {
	local s=$1 dir=$2 info

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
	if ! bench_cpio=$(e2e_build_guest "$dir/$release" "$kdir" "$moddir" \
		2>"$dir/guest.err"); then
		echo "bench: $(cat "$dir/guest.err")" >&2
		return 1
	fi
}

declare -A bench_sections=()
bench_keys=()
bench_status=0

# bench_section KEY TEXT: the section of KEY (a kernel release) is TEXT.
bench_section() {
	[ -n "${bench_sections[$1]+x}" ] || bench_keys+=("$1")
	bench_sections[$1]=$2
}

bench_run() {
	local name=$1 prefix=$2 timeline=$3 s v out start rc secs verdict
	local work=$bench_top/build/bench/$name envs=() mem_var=${2}HOST_MEM
	local mem=${!mem_var:-1536} tmo_var=${2}VM_TIMEOUT body when key
	local tmo=${!tmo_var:-1600}
	shift 3

	for v in $(compgen -v "$prefix"); do
		envs+=(--env "$v=${!v}")
	done
	mkdir -p "$work"
	for s in "$@"; do
		if ! bench_prepare "$s" "$work"; then
			bench_status=1
			bench_section "$s${BENCH_TAG:+-$BENCH_TAG}" \
				"## $s${BENCH_TAG:+ ($BENCH_TAG)}"$'\n\nNot measured: the build failed.\n'
			continue
		fi
		key=$bench_release${BENCH_TAG:+-$BENCH_TAG}
		out=$work/out-$key
		rm -rf "$out"
		mkdir -p "$out"
		echo "== bench/$name on $bench_release" >&2
		start=$(date +%s)
		when=$(date -u '+%Y-%m-%d %H:%M UTC')
		timeout $((tmo + 100)) "$bench_top/tools/testing/vm/run-vm.sh" --kernel "$s" \
			--mem "$mem" --smp 1 --timeout "$tmo" \
			--module "$bench_ko" --out "$out" "${envs[@]}" \
			-- python3 "$bench_top/bench/$name/$name.py" "$bench_qemu" \
			"$bench_kernel" "$bench_cpio" 2>&1 | tee "$out/run.log"
		rc=${PIPESTATUS[0]}
		secs=$(($(date +%s) - start))
		# The measurement's own verdict; run-vm.sh's exit status alone
		# can be wrong (a concurrent run pruning this run's directory).
		verdict=$(cat "$out/$name.status" 2>/dev/null) || verdict=1
		[ "$verdict" = 0 ] || bench_status=1
		body="## $bench_release${BENCH_TAG:+ ($BENCH_TAG)}"$'\n\n'
		body+="Test VM: $mem MiB, 1 vCPU, TCG; measured $when; run took ${secs} s"
		body+=" (run-vm.sh exit $rc, measurement status $verdict)."$'\n\n'
		if [ "$timeline" = 1 ]; then
			body+=$(grep -E '^# +[0-9.]+s  ' "$out/run.log" |
				sed 's/^# */    /')$'\n\n'
		fi
		if [ -s "$out/$name.md" ]; then
			body+=$(cat "$out/$name.md")$'\n'
		else
			body+=$'No figures: see build/bench/'"$name/out-$key"$'/run.log.\n'
		fi
		bench_section "$key" "$body"
	done
}

# bench_superseded KEY: true when another section has the same series (X.Y)
# and the same tag after "-amd64", of a newer release.
bench_superseded() {
	local k re='^([0-9]+\.[0-9]+)[.0-9]*[^ ]*-amd64(.*)$' series tag
	[[ $1 =~ $re ]] || return 1
	series=${BASH_REMATCH[1]} tag=${BASH_REMATCH[2]}
	for k in "${bench_keys[@]}"; do
		[ "$k" != "$1" ] && [[ $k =~ $re ]] || continue
		[ "${BASH_REMATCH[1]}" = "$series" ] &&
			[ "${BASH_REMATCH[2]}" = "$tag" ] || continue
		[ "$(printf '%s\n' "$1" "$k" | sort -V | tail -n 1)" = "$k" ] &&
			return 0
	done
	return 1
}

bench_results() {
	local name=$1 here=$bench_top/bench/$1 line key='' text='' k

	if [ "${BENCH_KEEP:-0}" = 1 ] && [ -f "$here/results.md" ]; then
		while IFS= read -r line; do
			if [[ $line =~ ^'<!-- bench section '([^ ]+)' -->'$ ]]; then
				key=${BASH_REMATCH[1]} text=
			elif [ -n "$key" ] && [ "$line" = "<!-- bench end $key -->" ]; then
				[ -n "${bench_sections[$key]+x}" ] ||
					bench_section "$key" "$text"
				key=
			elif [ -n "$key" ]; then
				text+=$line$'\n'
			fi
		done <"$here/results.md"
	fi
	{
		cat
		while IFS= read -r k; do
			[ -n "$k" ] || continue
			bench_superseded "$k" && continue
			echo
			echo "<!-- bench section $k -->"
			printf '%s' "${bench_sections[$k]}"
			echo "<!-- bench end $k -->"
		done < <(printf '%s\n' "${bench_keys[@]}" | sort -V)
		if [ -f "$here/discussion.md" ]; then
			echo
			grep -v '^<!-- SPDX' "$here/discussion.md"
		fi
	} >"$here/results.md"
	echo "bench/$name: figures in bench/$name/results.md" >&2
}
