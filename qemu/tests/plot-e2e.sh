#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Plot an end-to-end run (qemu/tests/e2e_guest.py's e2e-samples.csv):
#
#   qemu/tests/plot-e2e.sh SAMPLES_CSV OUT_PNG [TITLE]
#
# One panel per guest (memory the module allows it, what the balloon
# actually left it, its MemTotal, its workload's demand and held memory,
# and the policy's view of it: its need, and need + reserve, which host
# pressure leaves it) and one of the host's free memory and its hog.
# Needs gnuplot.

set -euo pipefail
[ $# -ge 2 ] || { sed -n '4,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2; }
csv=$1 png=$2 title=${3:-kvm_autoballoon end to end}
command -v gnuplot >/dev/null ||
	{ echo "plot-e2e.sh: gnuplot is not installed" >&2; exit 1; }
[ -s "$csv" ] || { echo "plot-e2e.sh: no samples in $csv" >&2; exit 1; }

# Column number of a name in the CSV header.
col() {
	head -n1 "$csv" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1
}

# The gnuplot commands of one guest's panel.
guest_panel() {
	local g=$1 w=$2
	printf 'set title "guest %s (weight %s): memory, MiB"\n' "$g" "$w"
	printf 'plot "%s" using 1:%s with steps lw 2 lc rgb "red" title "allowed (size - balloon target)", ' \
		"$csv" "$(col "${g}_target")"
	printf '"%s" using 1:%s with steps lc rgb "orange" title "actual (size - balloon)", ' \
		"$csv" "$(col "${g}_actual")"
	printf '"%s" using 1:%s with lines dt 2 lc rgb "dark-green" title "MemTotal in the guest", ' \
		"$csv" "$(col "${g}_memtotal")"
	printf '"%s" using 1:%s with steps lw 2 lc rgb "black" title "workload demand", ' \
		"$csv" "$(col "${g}_demand")"
	printf '"%s" using 1:%s with lines lc rgb "blue" title "workload holds", ' \
		"$csv" "$(col "${g}_held")"
	printf '"%s" using 1:%s with lines lc rgb "gray40" title "need (policy: recent peak of use)", ' \
		"$csv" "$(col "${g}_need")"
	printf '"%s" using 1:%s with lines dt 3 lw 2 lc rgb "magenta" title "need + reserve (host pressure leaves it that)"\n' \
		"$csv" "$(col "${g}_keep")"
}

{
	cat <<-END
	set terminal png size 1000,900 font "DejaVuSans,9" noenhanced
	set output "$png"
	set datafile separator ","
	set datafile missing ""
	set key outside right top
	set grid
	set yrange [0:*]
	set multiplot layout 3,1 title "$title"
	END
	guest_panel A 200
	guest_panel B 100
	cat <<-END
	set title "host (the test VM): free memory and the hog, MiB"
	set xlabel "seconds"
	plot "$csv" using 1:$(col host_free) with lines lw 2 lc rgb "dark-green" title "MemFree", "$csv" using 1:$(col hog) with lines lc rgb "purple" title "hog holds"
	unset multiplot
	END
} | gnuplot
echo "$png"
