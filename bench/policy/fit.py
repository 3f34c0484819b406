#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fits the simulator's free constants of the bench/rfc machine to the
fixed arm of one kernel release, and only to it.

  fit.py SIM RESULTS.md RELEASE [RAW_DIR] > constants.tsv

First the machine as measured, not fitted: the test VM's MemTotal (ram),
what the guests' jobs cannot have (kern, from the guest consoles under
RAW_DIR, bench/rfc's build/bench/rfc/), the rest of its use with the
guests up (base), and the balloon's speeds (inflate_rate, deflate_rate:
bench/motion/results.md's medians with page runs, for the release or the
newest of its X.Y).

Fitted, in this order (each by bisection, the first two alternated until
they settle), with the other model constants at kab_sim's values:
  guest_cold to fixed's host pswpout on the hard job, and with it
  base_cold  to fixed-fpr's host pswpout on the hard job (the cold memory
             that free page reporting cannot return: the test VM's own;
             0 where fixed-fpr was not measured),
  touch_ms   to fixed's mean job runtime on the hard job,
  io_ms      to fixed's mean job runtime on the rfc job.
A constant whose measurement is missing keeps kab_sim's default (-C).
Prints `name value fitted_to measured simulated` per constant (TSV).
Every other figure of the measurement is left for the validation.
"""

import glob
import math
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measured  # noqa: E402

COLS = None
GUEST_MIB = 640
STATS = re.compile(r"kabg: s t=\d+ mt=(\d+) av=(\d+)")


def host_high(ram):
    """The host's high watermark, MiB, as kab_sim computes it: Linux's
    formula with min_free_kbytes at khugepaged's 44 MiB."""
    wmin = max(min(max(4 * (ram * 1024) ** 0.5, 128), 262144) / 1024, 44)
    return wmin + 2 * max(wmin / 4, 0.001 * ram)


def guest_kern(outdir, release):
    """What a guest's job cannot have, MiB: its size - MemTotal + its used
    memory when idle, and that used memory, from the statistics lines of
    each guest console kept in bench/rfc's raw output of @release (the
    most available memory a console shows: its jobs start at once, so the
    first line is not idle already); None without any."""
    kerns = []
    for f in glob.glob(os.path.join(outdir, "out-%s*" % release,
                                    "e2e-guest-*.log")):
        best = None
        with open(f, errors="replace") as fh:
            for line in fh:
                m = STATS.search(line)
                if m:
                    mt, av = int(m.group(1)) / 1024, int(m.group(2)) / 1024
                    if best is None or av > best[1]:
                        best = (mt, av)
        if best:
            kerns.append((GUEST_MIB - best[1], best[0] - best[1]))
    if not kerns:
        return None, None, 0
    # The most idle console of all: the guests of a release are the same.
    return min(kerns) + (len(kerns),)


MOTION = re.compile(r"^motion (\S+): inflate [\d.]+ -> ([\d.]+) MiB/s, "
                    r"deflate [\d.]+ -> ([\d.]+) MiB/s")


def motion(path, release):
    """bench/motion's medians with page runs (x-page-runs on) for
    @release, or for the newest release of the same X.Y: (release
    measured, inflate MiB/s, deflate MiB/s), or None."""
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return None
    found = {}
    for line in lines:
        m = MOTION.match(line)
        if m:
            found[m.group(1)] = (m.group(1), float(m.group(2)),
                                 float(m.group(3)))
    if release in found:
        return found[release]
    series = ".".join(release.split(".")[:2])
    same = [r for r in found if ".".join(r.split(".")[:2]) == series]
    return found[max(same, key=natural)] if same else None


def natural(release):
    """6.12.117 before 6.12.118, 6.1.0-9 before 6.1.0-57."""
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", release)]


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
    secs = measured.sections(path)
    defaults = {}
    for line in subprocess.run([binary, "-C"], capture_output=True,
                               text=True, check=True).stdout.splitlines():
        k, v = line.split("\t")
        defaults[k] = float(v)
    c = {k: defaults[k] for k in ("guest_cold", "base_cold", "touch_ms",
                                  "io_ms")}
    rows = []
    # The balloon's speeds as bench/motion measured them in the test VM.
    mo = motion(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "..", "motion", "results.md"), release)
    if mo:
        c["inflate_rate"], c["deflate_rate"] = mo[1], mo[2]
        for k, v in (("inflate_rate", mo[1]), ("deflate_rate", mo[2])):
            rows.append((k, "%g" % v, "measured: bench/motion/results.md, "
                         "%s, median with page runs (MiB/s)" % mo[0],
                         "%g" % v, "-"))
    # The machine as measured: the test VM's RAM, and its use with the
    # guests up and idle (base + the guests' own memory, kab_sim -C).
    kern, used, nk = guest_kern(outdir, release) if outdir else (None,) * 3
    if kern:
        c["kern"] = kern
        c["kern_host"] = used
        rows.append(("kern", "%.4g" % kern, "measured: 640 - MemTotal + "
                     "used at idle, the most MemAvailable of the `kabg: s` "
                     "lines of %d guest consoles" % nk, "-", "-"))
        rows.append(("kern_host", "%.4g" % used, "measured: the guests' "
                     "used memory at idle (MemTotal - MemAvailable), the "
                     "same lines", "-", "-"))
    else:
        used = defaults["kern_host"]
    mem = [s for (rel, _), s in secs.items() if rel == release and s.memtotal]
    if mem:
        ram = mem[0].memtotal
        up = [a for s in mem for a in s.avail_up]
        c["ram"] = ram
        c["base"] = ram - sum(up) / len(up) - host_high(ram) - 3 * used
        rows.append(("ram", "%g" % ram, "measured: host MemTotal, %s"
                     % release, "%g" % ram, "-"))
        rows.append(("base", "%.4g" % c["base"], "measured: host MemTotal "
                     "- mean MemAvailable with the guests up (%d phases, "
                     "%g-%g MiB) - the high watermark (%.0f MiB, which "
                     "MemAvailable leaves out) - 3 x kern_host"
                     % (len(up), min(up), max(up), host_high(ram)),
                     "-", "-"))
    hard = secs.get((release, "hard"))
    fixed = hard.means.get("fixed") if hard else None
    what = {}
    if fixed and fixed["pswpout"] and fixed["job_mean_s"] and \
            not fixed["job_lower"]:
        at = hard.arm_at["fixed"]
        fpr = hard.means.get("fixed-fpr")
        top = max(0, c.get("base", defaults["base"]))

        def fit_guest(bc):
            return bisect(
                lambda x: float(sim(binary, "hard",
                                    dict(c, guest_cold=x, base_cold=bc))
                                ["pswpout"]),
                0, top / 3, fixed["pswpout"], False, 16)

        def split():
            """The base_cold (with its guest_cold fitted to fixed) whose
            fixed-fpr comes closest to the measured one, on a grid: the
            two need not be monotone in it."""
            best = None
            for k in range(25):
                bc = top * k / 24
                gc = fit_guest(bc)
                cc = dict(c, base_cold=bc, guest_cold=gc)
                f = float(sim(binary, "hard", cc)["pswpout"])
                if abs(math.log(max(f, 1) / fixed["pswpout"])) > 0.05:
                    continue
                r = float(sim(binary, "hard", cc, "-r")["pswpout"])
                miss = abs(math.log(max(r, 1) / fpr["pswpout"]))
                if best is None or miss < best[0]:
                    best = (miss, bc, gc)
            return best

        for _ in range(3):
            best = split() if fpr and fpr["pswpout"] else None
            if best:
                c["base_cold"], c["guest_cold"] = best[1], best[2]
            else:
                c["base_cold"] = 0
                c["guest_cold"] = fit_guest(0)
            c["touch_ms"] = bisect(
                lambda x: float(sim(binary, "hard", dict(c, touch_ms=x))
                                ["job_mean_s"]),
                0.01, 20, fixed["job_mean_s"], True)
        r = sim(binary, "hard", c)
        if fpr and fpr["pswpout"]:
            what["base_cold"] = (
                "fixed-fpr's host pswpout, hard, %s (%s)"
                % (release, hard.arm_at["fixed-fpr"]), fpr["pswpout"],
                float(sim(binary, "hard", c, "-r")["pswpout"]))
        what["guest_cold"] = ("fixed's host pswpout, hard, %s (%s)"
                             % (release, at), fixed["pswpout"],
                             float(r["pswpout"]))
        what["touch_ms"] = ("fixed's mean job runtime, hard, %s (%s)"
                            % (release, at), fixed["job_mean_s"],
                            float(r["job_mean_s"]))
    rfc = secs.get((release, "rfc"))
    fixed = rfc.means.get("fixed") if rfc else None
    if fixed and fixed["job_mean_s"] and not fixed["job_lower"]:
        c["io_ms"] = bisect(
            lambda x: float(sim(binary, "rfc", dict(c, io_ms=x))
                            ["job_mean_s"]),
            0, 100, fixed["job_mean_s"], True)
        r = sim(binary, "rfc", c)
        what["io_ms"] = ("fixed's mean job runtime, rfc, %s (%s)"
                         % (release, rfc.arm_at["fixed"]),
                         fixed["job_mean_s"], float(r["job_mean_s"]))
    for k in ("guest_cold", "base_cold", "touch_ms", "io_ms"):
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
