#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fits the simulator's free constants of the bench/rfc machine to the
fixed arm of one kernel release, and only to it.

  fit.py SIM RESULTS.md RELEASE [RAW_DIR] > constants.tsv

First the machine as measured, not fitted: the test VM's MemTotal (ram),
what the guests' jobs cannot have (kern, from the guest consoles under
RAW_DIR, bench/rfc's build/bench/rfc/), and the rest of its use with the
guests up (base).

Fitted, in this order (each by bisection, the first two alternated until
they settle), with the other model constants at kab_sim's values:
  base_cold  to fixed's host pswpout on the hard job,
  touch_ms   to fixed's mean job runtime on the hard job,
  io_ms      to fixed's mean job runtime on the rfc job.
A constant whose measurement is missing keeps kab_sim's default (-C).
Prints `name value fitted_to measured simulated` per constant (TSV).
Every other figure of the measurement is left for the validation.
"""

import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measured  # noqa: E402

COLS = None
GUEST_MIB = 640
STATS = re.compile(r"kabg: s t=\d+ mt=(\d+) av=(\d+)")


def guest_kern(outdir, release):
    """What a guest's job cannot have, MiB: its size - MemTotal + its used
    memory at idle, from the first statistics line of each guest console
    kept in bench/rfc's raw output of @release; None without any."""
    kerns = []
    for f in glob.glob(os.path.join(outdir, "out-%s*" % release,
                                    "e2e-guest-*.log")):
        with open(f, errors="replace") as fh:
            for line in fh:
                m = STATS.search(line)
                if m:
                    mt, av = int(m.group(1)) / 1024, int(m.group(2)) / 1024
                    kerns.append(GUEST_MIB - mt + (mt - av))
                    break
    return (sum(kerns) / len(kerns), len(kerns)) if kerns else (None, 0)


def sim(binary, scenario, consts, *args):
    global COLS
    if COLS is None:
        COLS = subprocess.run([binary, "-H"], capture_output=True, text=True,
                              check=True).stdout.split()
    cmd = [binary, "-s", scenario, "-p", "static"] + list(args)
    for k, v in consts.items():
        cmd += ["-m", "%s=%.6g" % (k, v)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return dict(zip(COLS, out.stdout.split("\t")))


def bisect(f, lo, hi, goal, rising, iters=24):
    """x in [lo, hi] with f(x) closest to goal, f monotone."""
    for _ in range(iters):
        mid = (lo + hi) / 2
        if (f(mid) < goal) == rising:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def main():
    binary, path, release = sys.argv[1:4]
    outdir = sys.argv[4] if len(sys.argv) > 4 else ""
    secs = measured.sections(path) if os.path.exists(path) else {}
    defaults = {}
    for line in subprocess.run([binary, "-C"], capture_output=True,
                               text=True, check=True).stdout.splitlines():
        k, v = line.split("\t")
        defaults[k] = float(v)
    c = {k: defaults[k] for k in ("base_cold", "touch_ms", "io_ms")}
    rows = []
    # The machine as measured: the test VM's RAM, and its use with the
    # guests up and idle (base + the guests' own memory, kab_sim -C).
    kern, nk = guest_kern(outdir, release) if outdir else (None, 0)
    if kern:
        c["kern"] = kern
        rows.append(("kern", "%.4g" % kern, "measured: 640 - MemTotal + "
                     "used at idle, first `kabg: s` line of %d guest "
                     "consoles" % nk, "-", "-"))
    else:
        kern = defaults["kern"]
    mem = [s for (rel, _), s in secs.items() if rel == release and s.memtotal]
    if mem:
        ram = mem[0].memtotal
        up = [a for s in mem for a in s.avail_up]
        c["ram"] = ram
        c["base"] = ram - sum(up) / len(up) - 3 * kern
        rows.append(("ram", "%g" % ram, "measured: host MemTotal, %s"
                     % release, "%g" % ram, "-"))
        rows.append(("base", "%.4g" % c["base"], "measured: host MemTotal "
                     "- mean MemAvailable with the guests up (%d phases, "
                     "%g-%g MiB) - 3 x kern" % (len(up), min(up), max(up)),
                     "-", "-"))
    hard = secs.get((release, "hard"))
    fixed = hard.means.get("fixed") if hard else None
    what = {}
    if fixed and fixed["pswpout"] and fixed["job_mean_s"]:
        at = hard.arm_at["fixed"]
        for _ in range(3):
            c["base_cold"] = bisect(
                lambda x: float(sim(binary, "hard", dict(c, base_cold=x))
                                ["pswpout"]),
                0, c.get("base", defaults["base"]) + 3 * kern,
                fixed["pswpout"], False)
            c["touch_ms"] = bisect(
                lambda x: float(sim(binary, "hard", dict(c, touch_ms=x))
                                ["job_mean_s"]),
                0.01, 20, fixed["job_mean_s"], True)
        r = sim(binary, "hard", c)
        what["base_cold"] = ("fixed's host pswpout, hard, %s (%s)"
                             % (release, at), fixed["pswpout"],
                             float(r["pswpout"]))
        what["touch_ms"] = ("fixed's mean job runtime, hard, %s (%s)"
                            % (release, at), fixed["job_mean_s"],
                            float(r["job_mean_s"]))
    rfc = secs.get((release, "rfc"))
    fixed = rfc.means.get("fixed") if rfc else None
    if fixed and fixed["job_mean_s"]:
        c["io_ms"] = bisect(
            lambda x: float(sim(binary, "rfc", dict(c, io_ms=x))
                            ["job_mean_s"]),
            0, 100, fixed["job_mean_s"], True)
        r = sim(binary, "rfc", c)
        what["io_ms"] = ("fixed's mean job runtime, rfc, %s (%s)"
                         % (release, rfc.arm_at["fixed"]),
                         fixed["job_mean_s"], float(r["job_mean_s"]))
    for k in ("base_cold", "touch_ms", "io_ms"):
        if k in what:
            src, meas, simv = what[k]
            rows.append((k, "%.4g" % c[k], src, "%g" % meas, "%g" % simv))
        else:
            rows.append((k, "%.4g" % c[k], "not fitted (no measurement): "
                         "kab_sim's default", "-", "-"))
    for r in rows:
        print("\t".join(r))


if __name__ == "__main__":
    main()
