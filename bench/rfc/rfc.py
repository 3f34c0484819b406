#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The 2013 "automatic ballooning" RFC experiment, scaled down: several
guests run a build-like job on an overcommitted host with swap, with and
without automatic ballooning.

  rfc.py QEMU KERNEL INITRAMFS     (run in the test VM by bench/rfc/run.sh)

The host (the test VM) gets a zram swap device of KAB_RFC_SWAP MiB (1024).
Two phases, repeated KAB_RFC_REPEAT times (2), auto first in odd rounds
and fixed first in even ones (so that the order does not decide):
  auto   KAB_RFC_GUESTS guests (3) of KAB_RFC_RAM MiB (640) with
         -device virtio-balloon-pci,automatic=on, module policy defaults
  fixed  the same guests with a plain virtio-balloon-pci whose balloon
         stays at a fixed size: guest size KAB_RFC_FIXED MiB (= RAM, an
         empty balloon, unless set)
In each phase every guest boots, then all start `build KAB_RFC_MIB
KAB_RFC_ROUNDS` (400 MiB, 10 rounds: each round allocates 100..400 MiB,
writes every page four times and frees it) at the same moment. The phase
ends when every job reported `kabg: built ms=..` (or after
KAB_RFC_TIMEOUT s, 480). Figures per phase: host pswpout and pswpin
deltas (/proc/vmstat), the most host swap in use, each guest's job
runtime and the job's OOM restarts, the guests' balloons at the end. KAB_RFC_APPEND
adds to the guests' kernel command line (both modes); KAB_RFC_POLICY sets
policy tunables ("host_step_pages_critical=8192,block_after_critical_ms=0").

Writes $KAB_OUT/rfc.md (tables) and $KAB_OUT/rfc-<phase><n>.csv (samples
every 0.5 s); exits 1 if a phase could not be measured, else 0.
"""

import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../qemu/tests"))
sys.path.insert(0, os.path.join(HERE, "../reaction"))

from kab_l2 import (MIB, OUT, Guest, Recorder, default_accel,  # noqa: E402
                    host_meminfo, say, sysfs_write, vmstat, wait_for)
from reaction import env, shutdown  # noqa: E402


NGUESTS = env("KAB_RFC_GUESTS", 3)
RAM = env("KAB_RFC_RAM", 640)
FIXED = env("KAB_RFC_FIXED", RAM)
BUILD_MIB = env("KAB_RFC_MIB", 400)
ROUNDS = env("KAB_RFC_ROUNDS", 10)
SWAP = env("KAB_RFC_SWAP", 1024)
TIMEOUT = env("KAB_RFC_TIMEOUT", 480)
REPEAT = env("KAB_RFC_REPEAT", 2)
# More guest kernel command line for both modes, e.g. "init_on_alloc=0".
APPEND = os.environ.get("KAB_RFC_APPEND", "")
# Policy tunables for the auto phases, "name=value,name=value".
POLICY = os.environ.get("KAB_RFC_POLICY", "")
KAB_COUNTERS = ("inflations", "deflations", "stalls", "host_events_low",
                "host_events_medium", "host_events_critical",
                "guest_events_low", "guest_events_medium",
                "guest_events_critical", "guest_events_dropped")


def zram_swap():
    """A zram swap device of SWAP MiB; its path."""
    subprocess.run(["modprobe", "zram", "num_devices=1"], check=True)
    dev = subprocess.run(["zramctl", "--find", "--size", "%dM" % SWAP],
                         check=True, capture_output=True,
                         text=True).stdout.strip()
    subprocess.run(["mkswap", dev], check=True, capture_output=True)
    subprocess.run(["swapon", dev], check=True)
    return dev


class SwapPeak:
    """The most swap in use (MiB) while running."""

    def __init__(self):
        self.peak, self.stop_ = 0, False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.stop_:
            used = host_meminfo("SwapTotal") - host_meminfo("SwapFree")
            self.peak = max(self.peak, used)
            time.sleep(0.5)


def built(g):
    """The job's 'kabg: built ms=.. rounds=.. oom=..' report, as a dict."""
    for line in g.lines:
        if line.startswith("kabg: built "):
            return dict(kv.split("=", 1) for kv in line.split()[2:])
    return None


def phase(mode, n, qemu, kernel, initrd, accel):
    auto = mode == "auto"
    guests = [Guest("%s%d-%d" % (mode, n, i), qemu, kernel, initrd, accel,
                    ram=RAM, automatic=auto, append=APPEND)
              for i in range(NGUESTS)]
    rec = None
    try:
        for g in guests:
            g.connect()
        if not wait_for(lambda: all(g.ready for g in guests), 300):
            raise RuntimeError("guests did not come up: %s"
                               % [g.lines[-3:] for g in guests])
        if not auto and FIXED < RAM:
            for g in guests:
                g.qmp.cmd("balloon", value=FIXED * MIB)
            wait_for(lambda: all(g.qmp.cmd("query-balloon")["actual"] ==
                                 FIXED * MIB for g in guests), 120)
        say("%s %d: %d guests up, host MemAvailable %d MiB, swap used %d MiB"
            % (mode, n, NGUESTS, host_meminfo("MemAvailable"),
               host_meminfo("SwapTotal") - host_meminfo("SwapFree")))
        rec = Recorder(guests, os.path.join(OUT, "rfc-%s%d.csv" % (mode, n)))
        peak = SwapPeak()
        out0, in0 = vmstat("pswpout"), vmstat("pswpin")
        t0 = time.monotonic()
        for g in guests:
            g.send("build %d %d" % (BUILD_MIB, ROUNDS))
        done = wait_for(lambda: all(built(g) for g in guests), TIMEOUT, 1)
        secs = time.monotonic() - t0
        peak.stop_ = True
        row = {"mode": mode, "n": n, "done": bool(done), "secs": secs,
               "pswpout": vmstat("pswpout") - out0,
               "pswpin": vmstat("pswpin") - in0, "swap_peak": peak.peak,
               "guests": []}
        for g in guests:
            b = built(g) or {}
            q = g.qmp.cmd("query-balloon")
            row["guests"].append({
                "ms": int(b["ms"]) if "ms" in b else None,
                "oom": int(b.get("oom", -1)),
                "balloon": RAM - q["actual"] // MIB,
                "kab": {k: g.attr(k) for k in KAB_COUNTERS} if auto else {}})
        say("%s %d: %s in %.0f s; pswpout %d, pswpin %d pages, swap peak "
            "%d MiB; jobs %s" % (
                mode, n, "all jobs done" if done else "TIMED OUT", secs,
                row["pswpout"], row["pswpin"], row["swap_peak"],
                row["guests"]))
        return row
    finally:
        if rec:
            rec.stop_ = True
        shutdown(guests)


def fmt(v):
    return "-" if v is None else str(v)


def table(rows):
    out = ["| phase | all jobs done | wall (s) | host pswpout (pages) | "
           "host pswpin (pages) | swap peak (MiB) | job runtimes (s) | "
           "job OOM restarts | balloons at end (MiB) |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        gs = r["guests"]
        out.append("| %s %d | %s | %.0f | %d | %d | %d | %s | %s | %s |" % (
            r["mode"], r["n"], "yes" if r["done"] else "no", r["secs"],
            r["pswpout"], r["pswpin"], r["swap_peak"],
            ", ".join("-" if g["ms"] is None else "%.1f" % (g["ms"] / 1000)
                      for g in gs),
            ", ".join(fmt(g["oom"]) for g in gs),
            ", ".join(str(g["balloon"]) for g in gs)))
    kab = [(r, g["kab"]) for r in rows for g in r["guests"] if g["kab"]]
    if kab:
        out.append("")
        out.append("kvm_autoballoon's counters per guest at the end of each "
                   "auto phase (vms/<id>/):")
        out.append("")
        out.append("| phase | " + " | ".join(KAB_COUNTERS) + " |")
        out.append("|---|" + "---|" * len(KAB_COUNTERS))
        for r, c in kab:
            out.append("| %s %d | " % (r["mode"], r["n"]) +
                       " | ".join(str(c[k]) for k in KAB_COUNTERS) + " |")
    for n in sorted({r["n"] for r in rows}):
        pair = {r["mode"]: r for r in rows if r["n"] == n}
        if "auto" not in pair or "fixed" not in pair:
            continue
        a, f = pair["auto"], pair["fixed"]
        ra = [g["ms"] for g in a["guests"] if g["ms"] is not None]
        rf = [g["ms"] for g in f["guests"] if g["ms"] is not None]
        out.append("")
        out.append("Round %d, auto against fixed: host swap-out %s, mean "
                   "job runtime %s, job OOM restarts %d against %d." % (
                       n, change(a["pswpout"], f["pswpout"]),
                       change(sum(ra) / len(ra), sum(rf) / len(rf))
                       if ra and rf else "not comparable (jobs missing)",
                       sum(max(0, g["oom"]) for g in a["guests"]),
                       sum(max(0, g["oom"]) for g in f["guests"])))
    return "\n".join(out) + "\n"


def change(new, old):
    if old == 0:
        return "%d against 0" % new
    return "%+.0f %% (%s against %s)" % (100.0 * (new - old) / old,
                                        round(new), round(old))


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    qemu, kernel, initrd = sys.argv[1:]
    accel = default_accel()
    for kv in filter(None, POLICY.split(",")):
        name, value = kv.split("=", 1)
        sysfs_write("policy/" + name, value)
    dev = zram_swap()
    say("host MemTotal %d MiB, swap %s %d MiB; %d guests x %d MiB (sum %d "
        "MiB) under %s; build %d MiB x %d rounds; guest command line +'%s'"
        "; policy '%s'"
        % (host_meminfo("MemTotal"), dev, host_meminfo("SwapTotal"),
           NGUESTS, RAM, NGUESTS * RAM, accel, BUILD_MIB, ROUNDS, APPEND,
           POLICY or "defaults"))
    rows = []
    for n in range(1, REPEAT + 1):
        for mode in ("auto", "fixed")[::1 if n % 2 else -1]:
            try:
                rows.append(phase(mode, n, qemu, kernel, initrd, accel))
            except (RuntimeError, OSError) as e:
                say("%s %d: could not run: %s" % (mode, n, e))
            with open(os.path.join(OUT, "rfc.md"), "w") as f:
                f.write(table(rows))
    subprocess.run(["swapoff", dev])
    ok = {r["mode"] for r in rows if r["done"]} == {"auto", "fixed"}
    with open(os.path.join(OUT, "rfc.status"), "w") as f:
        f.write("%d\n" % (0 if ok else 1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
