#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reaction latency to host memory pressure: kvm_autoballoon against two
userspace baselines, in one test VM (the "host").

  reaction.py QEMU KERNEL INITRAMFS     (run by bench/reaction/run.sh)

Modes, each KAB_BENCH_TRIALS trials (5) with KAB_BENCH_GUESTS guests (2)
of KAB_BENCH_RAM MiB (512) under nested KVM:
  kab  -device virtio-balloon-pci,automatic=on: the module decides (policy
       defaults, except relax_after_ms=3000 and relax_step_percent=10 so
       that the balloons come back between trials)
  mom  plain virtio-balloon-pci, baseline.py mom (10 s tick, MOM's rules)
  psi  plain virtio-balloon-pci, baseline.py psi (a PSI trigger on
       /proc/pressure/memory, a fixed step per event)
mom and psi share one set of guests and alternate trial by trial.

A trial: every balloon empty, each guest touches KAB_BENCH_WARM MiB (256)
and frees it (its memory is backed on the host), host reclaim quiet for
3 s; the baseline daemon (if any) starts; after a random 0..10 s (so the
poller's tick falls anywhere) a host hog grows to MemAvailable +
KAB_BENCH_EXTRA MiB (160) at KAB_BENCH_RATE MiB/s (32) and holds. Every
~10 ms one loop, on CLOCK_MONOTONIC, reads:
  onset    the first rise of the host's pgscan_* counters (/proc/vmstat)
  target   kab: QEMU's query-balloon target drops (the module's first
           decision reached QEMU); baselines: the first QMP balloon command
           of the daemon for that guest returned (the daemon's own clock
           stamp, same clock)
  decided  kab only: the module's vms/<id>/target_seq changed
  actual   query-balloon actual reached that first target
A trial ends when every guest reached its first target, or
KAB_BENCH_WINDOW s (30) after onset; without an onset, once the hog had
time to grow to its size and KAB_BENCH_WINDOW s more. The hog is then
killed (if the OOM killer took it first, the trial counts an OOM kill);
pswpout is counted. The times are given from onset and from the hog's
start: a policy that inflates before the host reclaims (kvm_autoballoon's
headroom) has no onset at all, and its figure is hog -> target.

Writes $KAB_OUT/reaction-trials.csv (one row per guest and trial) and
$KAB_OUT/reaction.md (the tables); exits 1 if some mode measured neither
an onset nor a target in any trial (nothing measured), else 0.
"""

import os
import random
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../qemu/tests"))

from kab_l2 import (MIB, OUT, Guest, Hog, default_accel,  # noqa: E402
                    host_meminfo, say, sysfs_write, vmstat, wait_for)
from e2e_guest import reclaim_quiet  # noqa: E402


def env(name, default):
    return int(os.environ.get(name, default))


TRIALS = env("KAB_BENCH_TRIALS", 5)
NGUESTS = env("KAB_BENCH_GUESTS", 2)
RAM = env("KAB_BENCH_RAM", 512)
FLOOR = env("KAB_BENCH_FLOOR", 160)
WARM = env("KAB_BENCH_WARM", 256)
EXTRA = env("KAB_BENCH_EXTRA", 160)
RATE = env("KAB_BENCH_RATE", 32)
WINDOW = env("KAB_BENCH_WINDOW", 30)
BUDGET = env("KAB_BENCH_BUDGET", 1020)  # seconds for all trials
POLICY = {"relax_after_ms": 3000, "relax_step_percent": 10}
START = time.monotonic()


def qb(g):
    return g.qmp.cmd("query-balloon")


def boot(qemu, kernel, initrd, accel, automatic):
    guests = [Guest("%s%d" % ("K" if automatic else "P", i), qemu, kernel,
                    initrd, accel, ram=RAM, automatic=automatic,
                    floor=FLOOR)
              for i in range(NGUESTS)]
    for g in guests:
        g.connect()
    if not wait_for(lambda: all(g.ready for g in guests), 240):
        raise RuntimeError("guests did not come up: %s"
                           % [g.lines[-3:] for g in guests])
    say("%d guests up (%s)" % (len(guests),
                               "automatic" if automatic else "plain"))
    return guests


def shutdown(guests):
    for g in guests:
        if g.proc.poll() is None:
            g.send("off")
    for g in guests:
        if not wait_for(lambda: g.proc.poll() is not None, 30):
            g.proc.kill()
        g.proc.wait()


def prepare(mode, guests):
    """Empty balloons, guest memory backed, host reclaim quiet."""
    full = RAM * MIB
    if mode != "kab":
        for g in guests:
            g.qmp.cmd("balloon", value=full)
    if not wait_for(lambda: all(qb(g)["target"] == full and
                                qb(g)["actual"] == full for g in guests),
                    120):
        say("%s: balloons not empty before the trial: %s" % (
            mode, [(qb(g)["target"], qb(g)["actual"]) for g in guests]))
    for g in guests:
        g.send("grow %d" % WARM)
    wait_for(lambda: all(g.get("held") >= WARM for g in guests), 180)
    for g in guests:
        g.send("free")
    wait_for(lambda: all(g.get("held") == 0 for g in guests), 60)
    reclaim_quiet(3, 60)


class Daemon:
    """A baseline daemon (baseline.py) and the balloon commands it made."""

    def __init__(self, mode, guests, n):
        self.cmds = []
        self.log = open(os.path.join(OUT, "daemon-%s-%d.log" % (mode, n)),
                        "w", buffering=1)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "baseline.py"), mode,
             str(FLOOR)] + [g.qmp_path + "2" for g in guests],
            stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("%s daemon did not start" % mode)
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.proc.stdout:
            self.log.write(line)
            f = line.split()
            if len(f) == 5 and f[0] == "balloon":
                self.cmds.append((f[1], int(f[2]), float(f[3]),
                                  float(f[4])))

    def first(self, g, below, since):
        """The first command for g issued after SINCE and below BELOW
        bytes: (returned, size)."""
        for path, size, issued, ret in list(self.cmds):
            if path == g.qmp_path + "2" and size < below and issued > since:
                return ret, size
        return None

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def trial(mode, guests, rng, n):
    prepare(mode, guests)
    daemon = Daemon(mode, guests, n) if mode != "kab" else None
    time.sleep(rng.uniform(0, 10))
    q0 = {g.name: qb(g) for g in guests}
    seq0 = {g.name: g.attr("target_seq") for g in guests} \
        if mode == "kab" else {}
    scan0, swp0 = vmstat("pgscan"), vmstat("pswpout")
    avail = host_meminfo("MemAvailable")
    fc = 100 * (host_meminfo("MemFree") + host_meminfo("Cached")) // \
        host_meminfo("MemTotal")
    hog = Hog(avail + EXTRA, RATE)
    t_hog = time.monotonic()
    give_up = t_hog + (avail + EXTRA) / RATE + WINDOW
    onset, dec, tgt, act = None, {}, {}, {}
    while True:
        t = time.monotonic()
        if onset is None and vmstat("pgscan") > scan0:
            onset = t
        for g in guests:
            if g.name in act:
                continue
            if mode == "kab" and g.name not in dec and \
                    g.attr("target_seq") != seq0[g.name]:
                dec[g.name] = time.monotonic()
            q = qb(g)
            tq = time.monotonic()
            if g.name not in tgt:
                if mode == "kab":
                    if q["target"] < q0[g.name]["target"]:
                        tgt[g.name] = (tq, q["target"])
                else:
                    first = daemon.first(g, q0[g.name]["actual"], t_hog)
                    if first:
                        tgt[g.name] = first
            if g.name in tgt and q["actual"] <= tgt[g.name][1]:
                act[g.name] = tq
        if onset is not None and len(act) == len(guests):
            break
        if onset is not None and t > onset + WINDOW:
            break
        if onset is None and t > give_up:
            break
        time.sleep(0.01)
    oom = not hog.stop()
    swp = vmstat("pswpout") - swp0
    if daemon:
        daemon.stop()
    rows = []
    for g in guests:
        def rel(x):
            return None if x is None or onset is None else x - onset

        def hog_rel(x):
            return None if x is None else x - t_hog
        rows.append({
            "mode": mode, "trial": n, "guest": g.name,
            "hog_to_onset": None if onset is None else onset - t_hog,
            "decided": rel(dec.get(g.name)),
            "target": rel(tgt[g.name][0] if g.name in tgt else None),
            "target_mib": (RAM * MIB - tgt[g.name][1]) // MIB
            if g.name in tgt else None,
            "actual": rel(act.get(g.name)),
            "hog_target": hog_rel(tgt[g.name][0] if g.name in tgt
                                  else None),
            "hog_actual": hog_rel(act.get(g.name)),
            "oom": int(oom), "pswpout": swp})
    say("%s trial %d: host free+cache %d %%, MemAvailable %d MiB at the "
        "start; onset %s s after the hog; %s; hog %s; pswpout %d" % (
        mode, n, fc, avail, fmt(rows[0]["hog_to_onset"]),
        ", ".join("%s target +%s actual +%s (from the hog %s, %s)" % (
            r["guest"], fmt(r["target"]), fmt(r["actual"]),
            fmt(r["hog_target"]), fmt(r["hog_actual"])) for r in rows),
        "OOM-killed" if oom else "alive", swp))
    return rows


def fmt(x, digits=2):
    return "-" if x is None else "%.*f" % (digits, x)


def summary(rows, modes):
    out = ["| mode | guest-trials | onset->target median / p99 (s) | "
           "onset->actual median / p99 (s) | hog->target median / p99 (s) "
           "| trials without host reclaim | no target | target not "
           "reached | hog OOM-killed (trials) | host pswpout (pages) |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for mode in modes:
        rs = [r for r in rows if r["mode"] == mode]
        if not rs:
            out.append("| %s | 0 | not measured | | | | | | | |" % mode)
            continue
        cells = []
        for key in ("target", "actual", "hog_target"):
            v = sorted(r[key] for r in rs if r[key] is not None)
            cells.append("%s / %s" % (fmt(statistics.median(v)), fmt(v[-1]))
                         if v else "-")
        trials = {r["trial"]: r for r in rs}
        out.append("| %s | %d | %s | %s | %s | %d of %d | %d | %d | %d of %d "
                   "| %d |" % (
                       mode, len(rs), cells[0], cells[1], cells[2],
                       sum(r["hog_to_onset"] is None
                           for r in trials.values()), len(trials),
                       sum(r["hog_target"] is None for r in rs),
                       sum(r["hog_target"] is not None and
                           r["hog_actual"] is None for r in rs),
                       sum(r["oom"] for r in trials.values()), len(trials),
                       sum(r["pswpout"] for r in trials.values())))
    kab = sorted(r["decided"] for r in rows
                 if r["mode"] == "kab" and r["decided"] is not None)
    if kab:
        out.append("")
        out.append("kab, onset -> the module's decision (vms/<id>/"
                   "target_seq): median %s s, max %s s."
                   % (fmt(statistics.median(kab), 3), fmt(kab[-1], 3)))
    out.append("")
    out.append("Every guest-trial (decided, target, actual: seconds from "
               "onset, '-' without one; hog->: seconds from the hog's "
               "start; target_mib: the first new balloon size):")
    out.append("")
    out.append("| mode | trial | guest | hog->onset | decided | target | "
               "target_mib | actual | hog->target | hog->actual | oom | "
               "pswpout |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        out.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %d "
                   "| %d |" % (
                       r["mode"], r["trial"], r["guest"],
                       fmt(r["hog_to_onset"]), fmt(r["decided"], 3),
                       fmt(r["target"], 3),
                       "-" if r["target_mib"] is None else r["target_mib"],
                       fmt(r["actual"], 3), fmt(r["hog_target"], 3),
                       fmt(r["hog_actual"], 3), r["oom"], r["pswpout"]))
    return "\n".join(out) + "\n"


def write(rows, modes):
    keys = ["mode", "trial", "guest", "hog_to_onset", "decided", "target",
            "target_mib", "actual", "hog_target", "hog_actual", "oom",
            "pswpout"]
    with open(os.path.join(OUT, "reaction-trials.csv"), "w") as f:
        f.write(",".join(keys) + "\n")
        for r in rows:
            f.write(",".join("" if r[k] is None else str(r[k])
                             for k in keys) + "\n")
    with open(os.path.join(OUT, "reaction.md"), "w") as f:
        f.write(summary(rows, modes))


def over_budget():
    return time.monotonic() - START > BUDGET


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    qemu, kernel, initrd = sys.argv[1:]
    accel = default_accel()
    rng = random.Random(int(os.environ.get("KAB_BENCH_SEED", "1")))
    for k, v in POLICY.items():
        sysfs_write("policy/" + k, v)
    say("host MemTotal %d MiB, MemAvailable %d MiB; %d guests x %d MiB "
        "under %s; %d trials per mode" % (
            host_meminfo("MemTotal"), host_meminfo("MemAvailable"), NGUESTS,
            RAM, accel, TRIALS))
    rows, modes = [], ["kab", "mom", "psi"]
    guests = boot(qemu, kernel, initrd, accel, True)
    try:
        for n in range(1, TRIALS + 1):
            if over_budget():
                say("time budget spent, stopping")
                break
            rows += trial("kab", guests, rng, n)
            write(rows, modes)
    finally:
        shutdown(guests)
    os.environ["KAB_BENCH_QEMU"] = qemu
    guests = boot(os.path.join(HERE, "qemu-2qmp"), kernel, initrd, accel,
                  False)
    try:
        for n in range(1, TRIALS + 1):
            for mode in ("mom", "psi"):
                if over_budget():
                    say("time budget spent, stopping")
                    break
                rows += trial(mode, guests, rng, n)
                write(rows, modes)
    finally:
        shutdown(guests)
    write(rows, modes)
    measured = {r["mode"] for r in rows if r["hog_to_onset"] is not None or
                r["hog_target"] is not None}
    say("done; missing modes: %s" % (set(modes) - measured or "none"))
    rc = 0 if measured == set(modes) else 1
    with open(os.path.join(OUT, "reaction.status"), "w") as f:
        f.write("%d\n" % rc)
    return rc


if __name__ == "__main__":
    sys.exit(main())
