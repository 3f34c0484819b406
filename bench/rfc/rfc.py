#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The 2013 "automatic ballooning" RFC experiment, scaled down: several
guests run a build-like job on an overcommitted host with swap, under four
ways of managing their balloons.

  rfc.py QEMU KERNEL INITRAMFS     (run in the test VM by bench/rfc/run.sh)

The host (the test VM) gets a zram swap device of KAB_RFC_SWAP MiB (1024).
Arms (KAB_RFC_ARMS, comma-separated, default all four), each a phase with
KAB_RFC_GUESTS freshly booted guests (3) of KAB_RFC_RAM MiB (640):
  fixed      plain virtio-balloon-pci whose balloon stays at a fixed size:
             guest size KAB_RFC_FIXED MiB (= RAM, an empty balloon, unless
             set)
  fixed-fpr  the same with free-page-reporting=on
  mom        plain virtio-balloon-pci driven over QMP by
             bench/reaction/baseline.py mom (oVirt MOM's balloon rules,
             floor KAB_RFC_MOM_FLOOR MiB, 160; a second QMP socket per
             guest through bench/reaction/qemu-2qmp), started when the
             guests are up and killed when the phase ends
  auto       virtio-balloon-pci,automatic=on,free-page-reporting=on,
             kvm_autoballoon with its policy defaults
Every guest runs our driver (virtio_autoballoon, from the initramfs).
KAB_RFC_REPEAT rounds (3) of all arms; round n runs the arms rotated by
n - 1 places, so that no arm always goes first. Before round 1 an
unmeasured warm-up phase of the first arm (KAB_RFC_WARMUP=0: none): the test
VM's first reclaim pushes its own boot memory to swap and is much slower
for it (a phase of fixed-fpr took 83 s and swapped in 36,296 pages when it
ran first, 52-57 s and 144-1,804 pages otherwise), which would handicap
whichever arm went first.

The job (KAB_RFC_JOB), `build MIB ROUNDS [CACHE SEED]` of kab_guest: each
round allocates MIB/4..MIB MiB (pseudo-random from SEED), writes every page
four times and frees it; with CACHE it first writes CACHE MiB of "sources"
to a virtio-blk disk of KAB_RFC_DISK MiB (1024) backed by QEMU's null-co
driver (writes discarded, reads zeroes: no host memory, no host I/O), then
each round reads them all back before its allocation and writes CACHE/2 MiB
of "objects" after it, never synced: page cache, as a kernel build has.
  rfc    (default) the RFC-like case: guests overcommitted in size whose
         working sets fit together: `build 160 10 64 SEED`, guest i with
         seed i + 1, so that their rounds differ and drift apart
  hard   all guests peak together: `build 400 10`, anonymous memory only,
         the same seed in every guest
  cache  hard with page cache: `build 400 10 128`
KAB_RFC_MIB, KAB_RFC_ROUNDS and KAB_RFC_CACHE override the job's figures.
In each phase every guest boots, then all start the job at the same moment.
The phase ends when every job reported `kabg: built ms=..` (or after
KAB_RFC_TIMEOUT s, 240).
The oracle's minimum: the host swap-out that a policy knowing every
working set would still cause, a lower bound. With the guests booted and
idle, the host could at best hold C = its RAM - what is not on its LRU
lists (kernel memory: MemTotal - MemFree - Active - Inactive) - its high
watermarks - the guests' own used memory (MemTotal - MemAvailable in each
guest: their kernels, hot); everything else (the guests' unused memory,
the host's processes and page cache, QEMU) could be ballooned, dropped or
swapped out once beforehand. Round r needs D_r = the sum over guests of
its allocation + CACHE * 3/2 (sources and this round's objects); a round
whose D_r exceeds C must push at least D_r - C out on each of its four
passes over its pages (the best replacement of a loop keeps C and cycles
the rest). So the minimum is the sum over rounds of 4 * max(0, D_r - C),
with the rounds of all guests aligned: as they are in hard (one seed, one
start); in rfc the seeds differ, so the true figure is lower still.
Figures per phase: host pswpout and pswpin deltas (/proc/vmstat), the
most host swap in use, each guest's job runtime and the job's OOM restarts,
the guests' balloons at the end, the module's counters (auto) and the
daemon's balloon commands (mom). KAB_RFC_APPEND adds to the guests' kernel
command line (every arm); KAB_RFC_POLICY sets policy tunables
("host_step_pages_critical=8192,block_after_critical_ms=0").

Writes $KAB_OUT/rfc.md (tables, ending with the one-line goal summary) and
$KAB_OUT/rfc-<arm><n>.csv (samples every 0.5 s); exits 1 if a phase could
not be run (the guests did not come up, ...), else 0: a phase whose jobs did
not all finish in time is measured.
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
# Job: (MIB, ROUNDS, CACHE, one seed per guest?)
JOBS = {"rfc": (160, 10, 64, True), "hard": (400, 10, 0, False),
        "cache": (400, 10, 128, False)}
JOB = os.environ.get("KAB_RFC_JOB", "rfc")
_job = JOBS.get(JOB, JOBS["rfc"])
BUILD_MIB = env("KAB_RFC_MIB", _job[0])
ROUNDS = env("KAB_RFC_ROUNDS", _job[1])
CACHE = env("KAB_RFC_CACHE", _job[2])
SEEDS = _job[3]
SWAP = env("KAB_RFC_SWAP", 1024)
TIMEOUT = env("KAB_RFC_TIMEOUT", 240)
REPEAT = env("KAB_RFC_REPEAT", 3)
MOM_FLOOR = env("KAB_RFC_MOM_FLOOR", 160)
PAGE_KIB = 4
WARMUP = env("KAB_RFC_WARMUP", 1)
PASSES = 4
DISK = env("KAB_RFC_DISK", 1024)
ALL_ARMS = ("fixed", "fixed-fpr", "mom", "auto")
# Not in the comparison unless asked for: kvm_autoballoon without free
# page reporting, to tell the balloon's cost from the reporting's.
MORE_ARMS = ("auto-nofpr",)
ARMS = [a for a in os.environ.get("KAB_RFC_ARMS", ",".join(ALL_ARMS))
        .replace(" ", ",").split(",") if a]
# More guest kernel command line for every arm, e.g. "init_on_alloc=0".
APPEND = os.environ.get("KAB_RFC_APPEND", "")
# Policy tunables for the auto phases, "name=value,name=value".
POLICY = os.environ.get("KAB_RFC_POLICY", "")
KAB_COUNTERS = ("inflations", "deflations", "stalls", "host_events_low",
                "host_events_medium", "host_events_critical",
                "guest_events_low", "guest_events_medium",
                "guest_events_critical", "guest_events_dropped")
# Balloon device properties per arm, after virtio-balloon-pci,id=bal
# (automatic=on and its auto-* come from Guest).
DEVICE = {"fixed": "", "fixed-fpr": ",free-page-reporting=on", "mom": "",
          "auto": ",free-page-reporting=on", "auto-nofpr": ""}
DISK_ARGS = ("-blockdev", "driver=null-co,node-name=kabdisk,size=%d,"
             "read-zeroes=on" % (DISK * MIB),
             "-device", "virtio-blk-pci,drive=kabdisk")


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


class Mom:
    """baseline.py mom on the guests' second QMP sockets, and the balloon
    commands it issued."""

    def __init__(self, guests, n):
        self.cmds = 0
        self.log = open(os.path.join(OUT, "mom-%d.log" % n), "w",
                        buffering=1)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "../reaction/baseline.py"),
             "mom", str(MOM_FLOOR)] + [g.qmp_path + "2" for g in guests],
            stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.stop()
            raise RuntimeError("the mom daemon did not start")
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.proc.stdout:
            self.log.write(line)
            if line.startswith("balloon "):
                self.cmds += 1

    def stop(self):
        alive = self.proc.poll() is None
        if alive:
            self.proc.kill()
        self.proc.wait()
        return alive


def job_line(i):
    """Guest i's job command."""
    line = "build %d %d" % (BUILD_MIB, ROUNDS)
    if CACHE or SEEDS:
        line += " %d" % CACHE
    if SEEDS:
        line += " %d" % (i + 1)
    return line


def sizes(seed):
    """The MiB that each round of a job with this seed allocates: kab_guest's
    generator, in 32-bit arithmetic."""
    out = []
    for _ in range(ROUNDS):
        seed = (seed * 1103515245 + 12345) & 0xffffffff
        out.append(BUILD_MIB // 4 + (seed >> 8) %
                   (BUILD_MIB - BUILD_MIB // 4 + 1))
    return out


def high_watermarks():
    """MiB: the sum of every zone's high watermark."""
    pages = 0
    with open("/proc/zoneinfo") as f:
        for line in f:
            w = line.split()
            if len(w) == 2 and w[0] == "high":
                pages += int(w[1])
    return pages * PAGE_KIB // 1024


def capacity(guests):
    """MiB of job memory the host could at best hold (see "The oracle's
    minimum" above)."""
    wait_for(lambda: all(g.get("av") > 0 for g in guests), 10)
    used = sum(g.get("mt") - g.get("av") for g in guests if g.get("av") > 0)
    lru = host_meminfo("Active") + host_meminfo("Inactive")
    kernel = host_meminfo("MemTotal") - host_meminfo("MemFree") - lru
    return host_meminfo("MemTotal") - kernel - high_watermarks() - used


def minimum(cap):
    """The oracle's swap-out (pages), rounds of all guests aligned."""
    per = [sizes(i + 1 if SEEDS else 1) for i in range(NGUESTS)]
    mib = 0
    for r in range(ROUNDS):
        need = sum(p[r] for p in per) + NGUESTS * (CACHE + CACHE // 2)
        mib += PASSES * max(0, need - cap)
    return mib * 1024 // PAGE_KIB


def built(g):
    """The job's 'kabg: built ms=.. rounds=.. oom=..' report, as a dict."""
    for line in g.lines:
        if line.startswith("kabg: built "):
            return dict(kv.split("=", 1) for kv in line.split()[2:])
    return None


def failed(g):
    return any(line.startswith("kabg: build failed") for line in g.lines)


def phase(arm, n, qemu, kernel, initrd, accel):
    auto = arm.startswith("auto")
    binary = qemu
    if arm == "mom":
        os.environ["KAB_BENCH_QEMU"] = qemu
        binary = os.path.join(HERE, "../reaction/qemu-2qmp")
    guests = [Guest("%s%d-%d" % (arm, n, i), binary, kernel, initrd, accel,
                    ram=RAM, automatic=auto, append=APPEND,
                    device_extra=DEVICE[arm],
                    qemu_extra=DISK_ARGS if CACHE else ())
              for i in range(NGUESTS)]
    rec = mom = None
    try:
        for g in guests:
            g.connect()
        if not wait_for(lambda: all(g.ready for g in guests), 300):
            raise RuntimeError("guests did not come up: %s"
                               % [g.lines[-3:] for g in guests])
        if arm in ("fixed", "fixed-fpr") and FIXED < RAM:
            for g in guests:
                g.qmp.cmd("balloon", value=FIXED * MIB)
            wait_for(lambda: all(g.qmp.cmd("query-balloon")["actual"] ==
                                 FIXED * MIB for g in guests), 120)
        if arm == "mom":
            mom = Mom(guests, n)
        cap = capacity(guests)
        say("%s %d: %d guests up, host MemAvailable %d MiB, swap used %d "
            "MiB; the oracle could hold %d MiB of job memory"
            % (arm, n, NGUESTS, host_meminfo("MemAvailable"),
               host_meminfo("SwapTotal") - host_meminfo("SwapFree"), cap))
        rec = Recorder(guests, os.path.join(OUT, "rfc-%s%d.csv" % (arm, n)))
        peak = SwapPeak()
        out0, in0 = vmstat("pswpout"), vmstat("pswpin")
        t0 = time.monotonic()
        for i, g in enumerate(guests):
            g.send(job_line(i))
        done = wait_for(lambda: all(built(g) or failed(g) for g in guests),
                        TIMEOUT, 1)
        done = done and all(built(g) for g in guests)
        secs = time.monotonic() - t0
        peak.stop_ = True
        row = {"arm": arm, "n": n, "done": bool(done), "secs": secs,
               "pswpout": vmstat("pswpout") - out0,
               "pswpin": vmstat("pswpin") - in0, "swap_peak": peak.peak,
               "capacity": cap, "minimum": minimum(cap),
               "mom_cmds": None, "guests": []}
        if mom:
            row["mom_cmds"] = mom.cmds
            if not mom.stop():
                say("mom %d: the daemon had died: see mom-%d.log" % (n, n))
            mom = None
        for g in guests:
            b = built(g) or {}
            q = g.qmp.cmd("query-balloon")
            row["guests"].append({
                "ms": int(b["ms"]) if "ms" in b else None,
                # an unfinished job: its restarts so far
                "oom": int(b["oom"]) if "oom" in b else
                int(g.state.get("bo", -1)),
                "balloon": RAM - q["actual"] // MIB,
                "kab": {k: g.attr(k) for k in KAB_COUNTERS} if auto else {}})
        say("%s %d: %s in %.0f s; pswpout %d, pswpin %d pages, swap peak "
            "%d MiB; jobs %s%s" % (
                arm, n, "all jobs done" if done else "NOT ALL JOBS DONE",
                secs, row["pswpout"], row["pswpin"], row["swap_peak"],
                [{k: v for k, v in g.items() if k != "kab"}
                 for g in row["guests"]],
                "" if row["mom_cmds"] is None else
                "; %d mom balloon commands" % row["mom_cmds"]))
        return row
    finally:
        if mom:
            mom.stop()
        if rec:
            rec.stop_ = True
        shutdown(guests)


def fmt(v):
    return "-" if v is None else str(v)


def runtime(r):
    """A phase's mean job runtime (ms) and whether it is only a lower
    bound (a job had not finished: it counts as the phase's length)."""
    ms = [g["ms"] if g["ms"] is not None else r["secs"] * 1000
          for g in r["guests"]]
    return sum(ms) / len(ms), any(g["ms"] is None for g in r["guests"])


def ooms(r):
    return sum(max(0, g["oom"]) for g in r["guests"])


def mean(xs):
    return sum(xs) / len(xs)


def arm_means(rows, arm):
    """Means over the arm's phases: pswpout, pswpin, swap peak, job runtime
    (ms) and whether that is a lower bound; total OOM restarts; phases."""
    rs = [r for r in rows if r["arm"] == arm]
    if not rs:
        return None
    rt = [runtime(r) for r in rs]
    return {"pswpout": mean([r["pswpout"] for r in rs]),
            "pswpin": mean([r["pswpin"] for r in rs]),
            "swap_peak": mean([r["swap_peak"] for r in rs]),
            "ms": mean([m for m, _ in rt]), "lower": any(lb for _, lb in rt),
            "oom": sum(ooms(r) for r in rs), "phases": len(rs),
            "done": sum(r["done"] for r in rs)}


def table(rows):
    out = ["Job %s: `%s`%s; %d guests x %d MiB; arms in this run: %s; "
           "%d round(s)." % (
               JOB, job_line(0) + (", guest i with seed i + 1"
                                   if SEEDS else ""),
               " (page cache on a %d MiB null-co disk)" % DISK
               if CACHE else " (anonymous memory only)",
               NGUESTS, RAM, ", ".join(ARMS), REPEAT), "",
           "The oracle's minimum (see rfc.py): each phase's capacity C "
           "(MiB of job memory the host could hold) and the swap-out it "
           "implies, rounds %s." % (
               "aligned (an upper bound here: the seeds differ)" if SEEDS
               else "aligned (as they are: one seed, one start)"), "",
        "| phase | all jobs done | wall (s) | host pswpout (pages) | "
        "host pswpin (pages) | swap peak (MiB) | job runtimes (s) | "
        "job OOM restarts | balloons at end (MiB) | mom commands | "
        "oracle C (MiB) | oracle minimum (pages) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        gs = r["guests"]
        out.append("| %s %d | %s | %.0f | %d | %d | %d | %s | %s | %s | %s "
                   "| %d | %d |"
                   % (r["arm"], r["n"], "yes" if r["done"] else "no",
                      r["secs"], r["pswpout"], r["pswpin"], r["swap_peak"],
                      ", ".join("-" if g["ms"] is None else
                                "%.1f" % (g["ms"] / 1000) for g in gs),
                      ", ".join(fmt(g["oom"]) for g in gs),
                      ", ".join(str(g["balloon"]) for g in gs),
                      fmt(r["mom_cmds"]), r["capacity"], r["minimum"]))
    if any(g["ms"] is None for r in rows for g in r["guests"]):
        out.append("")
        out.append("(A job runtime `-`: the job had not finished when the "
                   "phase ended; its OOM restarts are those until then.)")
    kab = [(r, g["kab"]) for r in rows for g in r["guests"] if g["kab"]]
    if kab:
        out.append("")
        out.append("kvm_autoballoon's counters per guest at the end of each "
                   "auto phase (vms/<id>/):")
        out.append("")
        out.append("| phase | " + " | ".join(KAB_COUNTERS) + " |")
        out.append("|---|" + "---|" * len(KAB_COUNTERS))
        for r, c in kab:
            out.append("| %s %d | " % (r["arm"], r["n"]) +
                       " | ".join(str(c[k]) for k in KAB_COUNTERS) + " |")
    means = {a: arm_means(rows, a) for a in ARMS}
    out.append("")
    out.append("Means over rounds (job runtime: the mean over every guest "
               "of the arm's phases; `>=`: a job had not finished and "
               "counts as the phase's length):")
    out.append("")
    out.append("| arm | phases (all jobs done) | host pswpout | host pswpin "
               "| swap peak (MiB) | job runtime (s) | job OOM restarts "
               "(total) |")
    out.append("|---|---|---|---|---|---|---|")
    for a in ARMS:
        m = means[a]
        if m is None:
            out.append("| %s | 0 | - | - | - | - | - |" % a)
            continue
        out.append("| %s | %d (%d) | %.0f | %.0f | %.0f | %s%.1f | %d |" % (
            a, m["phases"], m["done"], m["pswpout"], m["pswpin"],
            m["swap_peak"], ">=" if m["lower"] else "", m["ms"] / 1000,
            m["oom"]))
    for n in sorted({r["n"] for r in rows}):
        pair = {r["arm"]: r for r in rows if r["n"] == n}
        a = pair.get("auto")
        if not a:
            continue
        parts = []
        for b in ("fixed", "fixed-fpr", "mom"):
            if b not in pair:
                continue
            f = pair[b]
            (ma, la), (mf, lf) = runtime(a), runtime(f)
            parts.append("against %s: host swap-out %s, mean job runtime "
                         "(ms) %s%s, job OOM restarts %d against %d" % (
                             b, change(a["pswpout"], f["pswpout"]),
                             change(ma, mf),
                             " (unfinished jobs counted as the phase's "
                             "length)" if la or lf else "",
                             ooms(a), ooms(f)))
        if parts:
            out.append("")
            out.append("Round %d, auto %s." % (n, "; ".join(parts)))
    out.append("")
    out.append(goal(means, rows))
    return "\n".join(out) + "\n"


def pct(a, b, key):
    if a is None or b is None:
        return "n/a (arm not measured)"
    if b[key] == 0:
        return "n/a (%.0f against 0)" % a[key]
    return "%s %%" % signed(100.0 * (a[key] - b[key]) / b[key])


def signed(v):
    """v rounded to a whole number with its sign, never "-0"."""
    t = "%+.0f" % v
    return "+0" if t == "-0" else t


def goal(means, rows):
    """The one-line summary: auto against each baseline, means over rounds;
    for the hard job, against the oracle's minimum too."""
    a, f = means.get("auto"), means.get("fixed")
    if a is None or f is None:
        rt = "n/a (arm not measured)"
    elif a["lower"] and f["lower"]:
        rt = "n/a (unfinished jobs in both)"
    else:
        rt = "%s%.2f x" % (">=" if a["lower"] else "<=" if f["lower"] else "",
                           a["ms"] / f["ms"])
    oom = "n/a (arm not measured)" if a is None else a["oom"]
    if JOB == "rfc":
        return ("goal %s: swap-out vs fixed %s, vs fixed+reporting %s, vs "
                "MOM %s; runtime vs fixed %s; OOM restarts %s" % (
                    os.uname().release, pct(a, f, "pswpout"),
                    pct(a, means.get("fixed-fpr"), "pswpout"),
                    pct(a, means.get("mom"), "pswpout"), rt, oom))
    least = mean([r["minimum"] for r in rows]) if rows else 0
    if a is None:
        vs_min = "n/a (arm not measured)"
    elif least == 0:
        vs_min = "n/a (%.0f pages against a minimum of 0)" % a["pswpout"]
    else:
        vs_min = "%.2f x" % (a["pswpout"] / least)
    return ("%s %s: swap-out vs minimum %s, vs fixed+reporting %s; runtime "
            "vs fixed %s; OOM restarts %s" % (
                "hard" if JOB == "hard" else JOB, os.uname().release, vs_min,
                pct(a, means.get("fixed-fpr"), "pswpout"), rt, oom))


def change(new, old):
    if old == 0:
        return "%d against 0" % new
    return "%s %% (%s against %s)" % (signed(100.0 * (new - old) / old),
                                     round(new), round(old))


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    bad = [a for a in ARMS if a not in ALL_ARMS + MORE_ARMS]
    if bad or not ARMS or JOB not in JOBS:
        print("rfc.py: KAB_RFC_ARMS takes %s (got %s), KAB_RFC_JOB %s "
              "(got %s)" % (",".join(ALL_ARMS + MORE_ARMS), ARMS, "|".join(JOBS), JOB),
              file=sys.stderr)
        return 2
    qemu, kernel, initrd = sys.argv[1:]
    accel = default_accel()
    for kv in filter(None, POLICY.split(",")):
        name, value = kv.split("=", 1)
        sysfs_write("policy/" + name, value)
    dev = zram_swap()
    say("host MemTotal %d MiB, swap %s %d MiB; %d guests x %d MiB (sum %d "
        "MiB) under %s; job %s: build %d MiB x %d rounds%s%s; arms %s x %d "
        "rounds; guest command line +'%s'; policy '%s'"
        % (host_meminfo("MemTotal"), dev, host_meminfo("SwapTotal"),
           NGUESTS, RAM, NGUESTS * RAM, accel, JOB, BUILD_MIB, ROUNDS,
           ", cache %d MiB" % CACHE if CACHE else "",
           ", seeds 1..%d" % NGUESTS if SEEDS else "",
           ",".join(ARMS), REPEAT, APPEND, POLICY or "defaults"))
    if WARMUP:
        # The test VM's first reclaim pushes its own boot memory to swap
        # and is slower for it: measured, that phase would handicap
        # whichever arm went first.
        try:
            r = phase(ARMS[0], 0, qemu, kernel, initrd, accel)
            say("warm-up (%s, not counted): %.0f s, pswpout %d"
                % (ARMS[0], r["secs"], r["pswpout"]))
        except (RuntimeError, OSError) as e:
            say("warm-up: could not run: %s" % e)
    rows = []
    for n in range(1, REPEAT + 1):
        k = (n - 1) % len(ARMS)
        for arm in ARMS[k:] + ARMS[:k]:
            try:
                rows.append(phase(arm, n, qemu, kernel, initrd, accel))
            except (RuntimeError, OSError) as e:
                say("%s %d: could not run: %s" % (arm, n, e))
            with open(os.path.join(OUT, "rfc.md"), "w") as f:
                f.write(table(rows))
    subprocess.run(["swapoff", dev])
    # A phase whose jobs did not all finish is a figure, not a failure.
    ok = len(rows) == REPEAT * len(ARMS)
    with open(os.path.join(OUT, "rfc.status"), "w") as f:
        f.write("%d\n" % (0 if ok else 1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
