#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Policy benchmark: runs the simulator (tools/testing/autoballoon/kab_sim)
# for every scenario and arm, checks it against the real benchmark
# (bench/rfc), measures the policy's cost per event with callgrind, and
# writes bench/policy/results.md (bench/policy/report.py) and one PNG per
# trace scenario.
# Raw traces and callgrind files stay in build/bench/policy/.
#
#   bench/policy/run.sh [RESULTS.md[:MORE.md...]]   (or: make bench)
#   SEED=7 bench/policy/run.sh     another demand seed
#   NO_PLOTS=1 / NO_COST=1         skip gnuplot / callgrind
#
# The measurements come from bench/rfc/results.md (or RESULTS.md, or
# $KAB_RFC_RESULTS; several joined by ':' are merged, each arm from the
# newest section that measured it), the raw guest consoles from
# build/bench/rfc/ (or $KAB_RFC_RAW): per kernel release measured there,
# bench/policy/fit.py measures the machine and fits the simulator's free
# constants to the fixed and fixed-fpr arms, and the bench scenarios
# (rfc, hard, cache) run with them.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
DOC=$TOP/bench/policy
OUT=$TOP/build/bench/policy
SIM=$TOP/build/autoballoon/kab_sim
SEED=${SEED:-1}
COST_NS="1 2 4 8 16 32 64 128 256 512 1024"
RESULTS=${1:-${KAB_RFC_RESULTS:-$TOP/bench/rfc/results.md}}
RAW=${KAB_RFC_RAW:-$TOP/build/bench/rfc}
BENCH_SCENARIOS="rfc hard cache"

make -s -C "$TOP/tools/testing/autoballoon" "$SIM"
mkdir -p "$OUT"
ALL_SCENARIOS=$("$SIM" -l | cut -f1)
# shellcheck disable=SC2046,SC2086
SCENARIOS=$(echo "$ALL_SCENARIOS" |
	grep -v -x $(printf -- '-e %s ' $BENCH_SCENARIOS))
TRACE_SCENARIOS=$(echo "$SCENARIOS" | grep -v -x -e anon)

# ---- simulations, two at a time ----
# Each arm is a policy with options: kab+early is -d early, static+fpr is -r.
# kab-today approximates the policy bench/rfc measured on 2026-11-27: no
# figures reach it (-F), VMs without figures take whole steps, the old
# blocking times, the driver of then (reclaim only) and, on the bench
# machine's scenarios (the only ones with -m constants), the balloon speeds
# of then (page by page). kab_sim takes the first -m of a name: TODAY's
# come before the fitted ones.
ARMS="kab-today kab kab+early static static+fpr mom xen chromeos oracle"
TODAY="-F -o blind_step_percent=100 -o block_after_deflate_ms=10000
	-o block_after_critical_ms=100000 -d reclaim
	-m inflate_rate=22 -m deflate_rate=121"
arm_args() {
	case $1 in
	kab-today) echo "-p kab $TODAY" ;;
	kab+early) echo "-p kab -d early" ;;
	static+fpr) echo "-p static -r" ;;
	*) echo "-p $1" ;;
	esac
}
export SEED OUT SIM TODAY
export -f arm_args
# shellcheck disable=SC2016
for sc in $SCENARIOS; do
	for a in $ARMS; do
		echo "$sc $a"
	done
done | xargs -P 2 -n 2 bash -c \
	'"$SIM" -s "$0" $(arm_args "$1") -S "$SEED" -t "$OUT/trace-$0-$1.tsv" |
	 sed "s/^/$1\t/" > "$OUT/result-$0-$1.tsv"'

# Ablation: the same policy with every anti-oscillation time off.
ABLATE="-o cooldown_ms=0 -o mark_ms=0 -o block_after_inflate_ms=0
	-o block_after_deflate_ms=0 -o block_after_critical_ms=0
	-o relax_after_ms=0"
for sc in $SCENARIOS; do
	# shellcheck disable=SC2086
	"$SIM" -s "$sc" -p kab -S "$SEED" $ABLATE | sed 's/^/kab_noblock\t/'
done > "$OUT/ablation.tsv"

{
	printf 'arm\t'
	"$SIM" -H
	for sc in $SCENARIOS; do
		for a in $ARMS; do
			cat "$OUT/result-$sc-$a.tsv"
		done
	done
	cat "$OUT/ablation.tsv"
} > "$OUT/results.tsv"

# ---- the bench scenarios, per kernel release measured ----
# The arms of bench/rfc (fixed, fixed-fpr, mom, auto, auto-nofpr), the
# policy before the guest figures (today: no figures, whole blind steps,
# the old blocking times, no reporting) and the oracle.
BENCH_ARMS="fixed fixed-fpr mom auto auto-nofpr today oracle"
bench_args() {
	case $1 in
	fixed) echo "-p static" ;;
	fixed-fpr) echo "-p static -r" ;;
	auto) echo "-p kab -r" ;;
	auto-nofpr) echo "-p kab" ;;
	today) echo "-p kab $TODAY" ;;
	*) echo "-p $1" ;;
	esac
}
releases=$(python3 - "$RESULTS" "$DOC" <<-'EOF'
	import sys
	sys.path.insert(0, sys.argv[2])
	import measured
	try:
	    secs = measured.sections(sys.argv[1])
	except OSError:
	    secs = {}
	print(" ".join(sorted({r for r, _ in secs})) or "model")
	EOF
)
: > "$OUT/releases.txt"
for rel in $releases; do
	echo "$rel" >> "$OUT/releases.txt"
	python3 "$DOC/fit.py" "$SIM" "$RESULTS" "$rel" "$RAW" \
		> "$OUT/constants-$rel.tsv"
	model=$(awk -F'\t' '{ printf "-m %s=%s ", $1, $2 }' \
		"$OUT/constants-$rel.tsv")
	{
		printf 'release\tarm\t'
		"$SIM" -H
		for sc in $BENCH_SCENARIOS; do
			for a in $BENCH_ARMS; do
				# shellcheck disable=SC2046,SC2086
				"$SIM" -s "$sc" $(bench_args $a) -S "$SEED" $model |
					sed "s/^/$rel\t$a\t/"
			done
		done
	} > "$OUT/bench-$rel.tsv"
done

# How much the predictions depend on the model's constants: the newest
# release's fit, one constant changed at a time; "base_cold" puts the
# fitted cold memory in the test VM's own memory instead of the guests'
# free memory (where free page reporting cannot return it).
rel=$(tail -n 1 "$OUT/releases.txt")
model=$(awk -F'\t' '{ printf "-m %s=%s ", $1, $2 }' "$OUT/constants-$rel.tsv")
gc=$(awk -F'\t' '$1 == "guest_cold" { print $2 }' "$OUT/constants-$rel.tsv")
{
	printf 'model\tarm\t'
	"$SIM" -H
	for m in fitted "guest_cold=$(awk "BEGIN { print $gc - 10 }")" \
		 "guest_cold=$(awk "BEGIN { print $gc + 10 }")" \
		 "guest_cold=0 base_cold=$(awk "BEGIN { print 3 * $gc }")" \
		 fault_ms=0 fault_ms=12 page_ms=22.7 page_ms=90.9 \
		 balloon_old=1; do
		for sc in hard rfc; do
			for a in fixed fixed-fpr auto auto-nofpr; do
				extra=""
				for x in $m; do
					[ "$x" = fitted ] || extra="$extra -m $x"
				done
				# The variant first: kab_sim takes the
				# first -m of a name.
				# shellcheck disable=SC2046,SC2086
				"$SIM" -s "$sc" $(bench_args $a) -S "$SEED" \
					$extra $model |
					sed "s/^/$m\t$a\t/"
			done
		done
	done
} > "$OUT/sensitivity.tsv"
"$SIM" -C > "$OUT/constants.tsv"

# ---- cost per event under callgrind ----
: > "$OUT/cost.tsv"
cost_note=""
if [ -n "${NO_COST:-}" ]; then
	cost_note="Cost not measured (NO_COST set)."
elif ! command -v valgrind > /dev/null; then
	cost_note="Cost not measured: valgrind is not installed."
else
	for n in $COST_NS; do
		host_iter=20
		guest_iter=1000
		valgrind --tool=callgrind --collect-atstart=no \
			--toggle-collect=cost_host_events \
			--callgrind-out-file="$OUT/callgrind.host.$n" \
			"$SIM" -c "$n" -k host -i $host_iter 2> /dev/null
		valgrind --tool=callgrind --collect-atstart=no \
			--toggle-collect=cost_guest_events \
			--callgrind-out-file="$OUT/callgrind.guest.$n" \
			"$SIM" -c "$n" -k guest -i $guest_iter 2> /dev/null
		host=$(awk '/^totals:/ { print $2 }' "$OUT/callgrind.host.$n")
		guest=$(awk '/^totals:/ { print $2 }' "$OUT/callgrind.guest.$n")
		echo "$n $host $host_iter $guest $guest_iter" >> "$OUT/cost.tsv"
	done
fi

# ---- plots: the first hour of each scenario ----
plot_note=""
if [ -n "${NO_PLOTS:-}" ]; then
	plot_note="Plots not made (NO_PLOTS set)."
elif ! command -v gnuplot > /dev/null; then
	plot_note="Plots not made: gnuplot is not installed."
else
	for sc in $TRACE_SCENARIOS; do
		t() { echo "$OUT/trace-$sc-$1.tsv"; }
		gnuplot <<-EOF
		set terminal png size 860,800 font "DejaVuSans,8"
		set output "$DOC/$sc.png"
		set datafile separator "\t"
		set key outside right top
		set grid
		set xrange [0:60]
		set multiplot layout 3,1 title "scenario $sc (seed $SEED): first hour"
		set ylabel "GiB"
		set title "all VMs: memory the guests are allowed (size - balloon target) vs. demand"
		plot "$(t oracle)" using 1:2 skip 1 with lines lw 2 lc rgb "black" title "demand", \
		     "$(t kab)" using 1:3 skip 1 with lines lw 1.5 lc rgb "red" title "kab", \
		     "$(t mom)" using 1:3 skip 1 with lines lc rgb "blue" title "MOM", \
		     "$(t xen)" using 1:3 skip 1 with lines lc rgb "dark-green" title "Xen", \
		     "$(t chromeos)" using 1:3 skip 1 with lines lc rgb "orange" title "ChromeOS", \
		     "$(t oracle)" using 1:3 skip 1 with lines dt 2 lc rgb "gray40" title "oracle"
		set title "VM 0: its target (as memory allowed) vs. its demand"
		plot "$(t oracle)" using 1:5 skip 1 with lines lw 2 lc rgb "black" title "demand", \
		     "$(t kab)" using 1:6 skip 1 with lines lw 1.5 lc rgb "red" title "kab", \
		     "$(t mom)" using 1:6 skip 1 with lines lc rgb "blue" title "MOM", \
		     "$(t xen)" using 1:6 skip 1 with lines lc rgb "dark-green" title "Xen", \
		     "$(t chromeos)" using 1:6 skip 1 with lines lc rgb "orange" title "ChromeOS", \
		     "$(t oracle)" using 1:6 skip 1 with lines dt 2 lc rgb "gray40" title "oracle"
		set title "host swap in use (zram)"
		set xlabel "minutes"
		plot "$(t static)" using 1:7 skip 1 with lines lc rgb "gray60" title "static", \
		     "$(t static+fpr)" using 1:7 skip 1 with lines dt 3 lc rgb "gray30" title "static+FPR", \
		     "$(t kab)" using 1:7 skip 1 with lines lw 1.5 lc rgb "red" title "kab", \
		     "$(t mom)" using 1:7 skip 1 with lines lc rgb "blue" title "MOM", \
		     "$(t xen)" using 1:7 skip 1 with lines lc rgb "dark-green" title "Xen", \
		     "$(t chromeos)" using 1:7 skip 1 with lines lc rgb "orange" title "ChromeOS", \
		     "$(t oracle)" using 1:7 skip 1 with lines dt 2 lc rgb "gray40" title "oracle"
		unset multiplot
		EOF
	done
fi

# ---- the Markdown report ----
"$SIM" -l > "$OUT/scenarios.tsv"
python3 "$DOC/report.py" "$OUT" "$SEED" "$cost_note" "$plot_note" \
	"$RESULTS" > "$DOC/results.md"

echo "bench/policy: wrote $DOC/results.md"
