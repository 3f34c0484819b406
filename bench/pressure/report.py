#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""One kernel's section of bench/pressure/results.md, from the output of
pressure_bench (build/bench/pressure/<release>.txt):

  report.py OUTPUT.txt

Prints markdown: the detection latency of each source (median, min and max
over the runs that saw an event) and the kprobe overhead (the medians with
and without the module, their ratio, and the spread of the runs without it,
which bounds what the ratio can say). Exits 1 when the output holds no
figure at all (the VM run failed before the benchmark printed one).
"""

import re
import sys

RUN = re.compile(r"^  (\S+) run (\d+): (-?[0-9.]+) s"
                 r"(?: \(host events to the VM (\d+))?")
LATENCY = re.compile(r"^latency (\S+)\s+(median ([0-9.]+) s \(n=(\d+) of "
                     r"(\d+)\)|no event in (\d+) runs)")
MODRUN = re.compile(r"^  (with|without) +module: wall ([0-9.]+) s, VM cpu "
                    r"([0-9.]+) s, stream cpu ([0-9.]+) s")
OVER = re.compile(r"^overhead (stream cpu|VM cpu|wall) median with "
                  r"([0-9.]+) s, without ([0-9.]+) s, ratio ([0-9.]+)")
HITS = re.compile(r"^overhead kprobe hits median ([0-9.]+)/s")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    runs, lat, modruns, over, hits = {}, [], [], {}, None
    events = {}
    kernel = lru = None
    with open(sys.argv[1], errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("kernel "):
                kernel = line.split()[1]
            elif line.startswith("lru_gen "):
                lru = line.split()[1]
            elif RUN.match(line):
                m = RUN.match(line)
                if m.group(4) is not None:
                    events.setdefault(m.group(1), []).append(m.group(4))
                if float(m.group(3)) >= 0:
                    runs.setdefault(m.group(1), []).append(float(m.group(3)))
            elif LATENCY.match(line):
                lat.append(LATENCY.match(line))
            elif MODRUN.match(line):
                modruns.append(MODRUN.match(line).groups())
            elif OVER.match(line):
                m = OVER.match(line)
                over[m.group(1)] = m.groups()[1:]
            elif HITS.match(line):
                hits = HITS.match(line).group(1)
    if not lat and not over:
        print("No figures: the benchmark printed none (see %s)."
              % sys.argv[1])
        return 1
    out = []
    if kernel:
        out.append("Kernel %s, LRU: %s." % (kernel, "MGLRU (lru_gen %s)" % lru
                                          if lru and lru != "0x0000" else
                                          "classic"))
        out.append("")
    if lat:
        out += ["Detection latency, workload start to the first host "
                "pressure decision:", "",
                "| source | median (s) | min .. max (s) | runs with a "
                "decision | host events to the VM, per run |",
                "|---|---|---|---|---|"]
        for m in lat:
            src = m.group(1)
            ev = ", ".join(events.get(src, [])) or "-"
            if m.group(3) is None:
                out.append("| %s | no decision | - | 0 of %s | %s |"
                           % (src, m.group(6), ev))
                continue
            v = runs.get(src, [])
            spread = "%.2f .. %.2f" % (min(v), max(v)) if v else "-"
            out.append("| %s | **%.2f** | %s | %s of %s | %s |" % (
                src, float(m.group(3)), spread, m.group(4), m.group(5), ev))
        out.append("")
    if over:
        out += ["kprobe overhead, streaming 1 GiB through a 64M cgroup "
                "(medians over the runs):", "",
                "| figure | with the module | without | ratio |",
                "|---|---|---|---|"]
        for key in ("stream cpu", "VM cpu", "wall"):
            if key in over:
                w, wo, r = over[key]
                out.append("| %s (s) | %s | %s | %s |" % (key, w, wo, r))
        if hits:
            out.append("| kprobe hits per second | %s | - | - |" % hits)
        without = [float(r[1]) for r in modruns if r[0] == "without"]
        if len(without) > 1:
            lo, hi = min(without), max(without)
            out.append("")
            out.append("Wall time of the runs without the module: %.1f .. "
                       "%.1f s (%.0f %% apart): a ratio closer to 1 than "
                       "that spread says nothing about the module's cost."
                       % (lo, hi, 100.0 * (hi - lo) / lo if lo else 0))
        out.append("")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
