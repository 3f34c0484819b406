#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Guest-side tests of virtio_autoballoon; runs inside the test VM.

    tests.py doorbell    the doorbell against vab_testdev (no VMM device)
    tests.py early       low/medium before the first stall, vab_testdev
    tests.py balloon     the balloon under Debian's QEMU, virtio-balloon-pci
    tests.py qemudoorbell  the doorbell through virtio-pci to our patched
                         QEMU's x-pressure-doorbell=on (qemu/build.sh)
    tests.py oom         DEFLATE_ON_OOM under Debian's QEMU
    tests.py reporting   free page reporting: QEMU's RSS falls after a free
    tests.py noreporting the same with the feature off: it does not
    tests.py bench       inflate/deflate speed, ours against virtio_balloon

run.sh starts each in a VM through tools/testing/vm/run-vm.sh. The
environment names what to load: VAB_DRIVER (virtio_autoballoon.ko),
VAB_TESTDEV (vab_testdev.ko), VAB_HOG (the vab_hog binary), VAB_QMP_DIR (the
directory qmp_relay.py serves; balloon and bench only), VAB_RAM_MIB (the
VM's -m), VAB_IDLE_S (idle test length, default 60), VAB_BENCH_MIB and
VAB_BENCH_ROUNDS. Output is TAP; exit 0 all passed, 1 some failed, 4 all
skipped. bench prints figures as TAP comments and asserts only that each
run completed.
"""

import errno
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import time

DRIVER = "virtio_autoballoon"
DEBUGFS = "/sys/kernel/debug"
TESTDEV = DEBUGFS + "/vab_testdev"
PARAMS = "/sys/module/%s/parameters" % DRIVER
LEVELS = ("low", "medium", "critical")
DOORBELL_OFFSET = 20
DOORBELL_BIT = 23


class Tap:
    def __init__(self, plan):
        self.n = 0
        self.failed = 0
        self.skipped = 0
        print("TAP version 13")
        print("1..%d" % plan, flush=True)

    def ok(self, cond, name, why=""):
        self.n += 1
        if cond:
            print("ok %d %s" % (self.n, name), flush=True)
        else:
            self.failed += 1
            print("not ok %d %s" % (self.n, name))
            for line in str(why).splitlines():
                print("# " + line)
            sys.stdout.flush()
        return cond

    def skip(self, name, reason):
        self.n += 1
        self.skipped += 1
        print("ok %d %s # SKIP %s" % (self.n, name, reason), flush=True)

    def note(self, text):
        print("# " + text, flush=True)

    def exit(self):
        if self.failed:
            sys.exit(1)
        if self.skipped == self.n:
            sys.exit(4)
        sys.exit(0)


# What run-vm.sh's scan of the console counts as the kernel going wrong.
SPLAT_RE = re.compile(r"Kernel panic|Oops|BUG:|WARNING:|general protection|"
                      r"KASAN|UBSAN|blocked for more than|soft lockup|"
                      r"hard LOCKUP|RCU stall|rcu_sched self-detected|"
                      r"kernel BUG|Unable to handle kernel")


class QuietConsole:
    """Keep the kernel's messages off the console meanwhile (dmesg -n 1):
    an expected OOM report is long, and slow on a serial console under
    TCG. On exit the level is restored, and every line of the kernel log
    written meanwhile that run-vm.sh would count as trouble is written
    again to /dev/kmsg at KERN_ERR, so that it reaches the console and the
    runner's scan still sees it."""

    def __enter__(self):
        self.kmsg = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.kmsg, 0, os.SEEK_END)
        run("dmesg", "-n", "1", check=False)
        return self

    def __exit__(self, *exc):
        run("dmesg", "-n", "7", check=False)
        hidden = []
        while True:
            try:
                rec = os.read(self.kmsg, 8192).decode(errors="replace")
            except BlockingIOError:
                break
            except OSError as e:        # overwritten meanwhile: go on
                if e.errno == errno.EPIPE:
                    continue
                raise
            text = rec.split(";", 1)[-1].split("\n", 1)[0]
            if SPLAT_RE.search(text):
                hidden.append(text)
        os.close(self.kmsg)
        if hidden:
            with open("/dev/kmsg", "w") as f:
                for line in hidden:
                    f.write("<3>kab-vm: while the console was quiet: %s\n"
                            % line)
        return False


def run(*cmd, check=True):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if check and p.returncode:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                                 p.stdout.strip()))
    return p


def read(path):
    with open(path) as f:
        return f.read().strip()


def write(path, text):
    """Write text to a sysfs/debugfs file; return 0 or the errno."""
    try:
        with open(path, "w") as f:
            f.write(text)
        return 0
    except OSError as e:
        return e.errno


def meminfo(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def loaded(name):
    with open("/proc/modules") as f:
        return any(line.split()[0] == name for line in f)


def unload(name):
    if loaded(name):
        run("rmmod", name)


def our_device():
    devs = glob.glob("/sys/bus/virtio/drivers/%s/virtio*" % DRIVER)
    if len(devs) != 1:
        raise RuntimeError("%s bound to %d devices, expected 1"
                           % (DRIVER, len(devs)))
    return "/sys/bus/virtio/devices/" + os.path.basename(devs[0])


def counters(dev):
    out = {}
    for kind in ("detected", "reported", "written", "ratelimited"):
        for level in LEVELS:
            out["%s_%s" % (kind, level)] = int(
                read("%s/pressure/%s_%s" % (dev, kind, level)))
    out["evaluations"] = int(read(dev + "/pressure/evaluations"))
    return out


def delta(after, before):
    return {k: after[k] - before[k] for k in after}


def protect_self():
    """The hog, not the test runner, is the OOM killer's victim."""
    write("/proc/self/oom_score_adj", "-1000")


def hog_preexec():
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("1000")


def vmstat_stalls():
    n = 0
    with open("/proc/vmstat") as f:
        for line in f:
            if line.startswith("allocstall_"):
                n += int(line.split()[1])
    return n


def run_hog(dev, mib, timeout_s=120):
    """Run vab_hog for MIB MiB until it ends (the OOM killer ends it if MIB
    is more than the guest has). Return {event: seconds since the hog
    started} for "stall" (the first allocation stall in /proc/vmstat, the
    onset of real pressure), "medium" and "critical" (the driver's first
    detection of that level); events not seen are left out. Polls every
    10 ms, so every figure is late by up to one poll."""
    files = {lv: "%s/pressure/detected_%s" % (dev, lv)
             for lv in ("medium", "critical")}
    before = {lv: int(read(f)) for lv, f in files.items()}
    stalls0 = vmstat_stalls()
    found = {}
    looked_after_end = False
    # The OOM killer's report is expected: keep it off the slow console
    # (real trouble still reaches it, see QuietConsole).
    with QuietConsole():
        t0 = time.monotonic()
        hog = subprocess.Popen([os.environ["VAB_HOG"], str(mib), "2"],
                               preexec_fn=hog_preexec,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        while time.monotonic() - t0 < timeout_s and len(found) < 3:
            now = time.monotonic()
            if "stall" not in found and vmstat_stalls() != stalls0:
                found["stall"] = now - t0
            for lv, f in files.items():
                if lv not in found and int(read(f)) != before[lv]:
                    found[lv] = now - t0
            if hog.poll() is not None:
                # One more look after the hog ended, then stop.
                if looked_after_end:
                    break
                looked_after_end = True
            time.sleep(0.01)
        try:
            hog.wait(timeout=max(1, timeout_s - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            hog.kill()
            hog.wait()
    return found


def vmstat_oom_kills():
    with open("/proc/vmstat") as f:
        for line in f:
            if line.startswith("oom_kill "):
                return int(line.split()[1])
    return 0


def watch_paced_hog(dev, mib, rate, timeout_s=180):
    """Run vab_hog for MIB MiB at RATE MiB/s until it ends. Return a dict:
    "rings", the reports that passed the rate limit as [(ms, level)] in
    the order seen; "stall" and "oom", ms of the first allocation stall and
    the first OOM kill in /proc/vmstat (absent if none); "hog_ms", how long
    the hog ran. Times are since the hog started, polled every 10 ms."""
    files = {lv: "%s/pressure/reported_%s" % (dev, lv) for lv in LEVELS}
    last = {lv: int(read(f)) for lv, f in files.items()}
    stalls0 = vmstat_stalls()
    ooms0 = vmstat_oom_kills()
    out = {"rings": []}
    with QuietConsole():
        t0 = time.monotonic()
        hog = subprocess.Popen([os.environ["VAB_HOG"], str(mib), "0",
                                str(rate)], preexec_fn=hog_preexec,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        ended = None
        while time.monotonic() - t0 < timeout_s:
            ms = (time.monotonic() - t0) * 1000
            for lv, f in files.items():
                n = int(read(f))
                out["rings"] += [(ms, lv)] * (n - last[lv])
                last[lv] = n
            if "stall" not in out and vmstat_stalls() != stalls0:
                out["stall"] = ms
            if "oom" not in out and vmstat_oom_kills() != ooms0:
                out["oom"] = ms
            if ended is not None:
                break
            if hog.poll() is not None:
                ended = ms
            time.sleep(0.01)
        if ended is None:
            hog.kill()
            ended = (time.monotonic() - t0) * 1000
        hog.wait()
    out["hog_ms"] = ended
    return out


def hog_note(tap, found, mib, ram_mib):
    tap.note("hog of %d MiB in a %d MiB guest, ms after the hog started: %s"
             % (mib, ram_mib, ", ".join(
                 "%s %.0f" % (ev if ev != "stall" else "first stall",
                              found[ev] * 1000)
                 for ev in ("stall", "medium", "critical") if ev in found)
                or "nothing seen"))


def kernel_trouble():
    out = run("dmesg", check=False).stdout
    bad = ("WARNING:", "BUG:", "Oops", "general protection", "RCU stall",
           "soft lockup")
    return [line for line in out.splitlines() if any(b in line for b in bad)]


# --- doorbell suite: against the vab_testdev device model ------------------

def testdev_writes():
    out = []
    for line in read(TESTDEV + "/writes").splitlines():
        off, length, value = (int(x) for x in line.split())
        out.append((off, length, value))
    return out


def load_pair(testdev_args=(), driver_args=()):
    unload(DRIVER)
    unload("vab_testdev")
    run("insmod", os.environ["VAB_TESTDEV"], *testdev_args)
    run("insmod", os.environ["VAB_DRIVER"], *driver_args)
    return our_device()


def inject(dev, level):
    return write("%s/%s/%s/inject_pressure" % (DEBUGFS, DRIVER,
                                               os.path.basename(dev)), level)


def suite_doorbell():
    tap = Tap(14)
    protect_self()
    no_limit = ["ratelimit_%s_ms=0" % lv for lv in LEVELS]

    dev = load_pair(driver_args=no_limit)
    feats = int(read(TESTDEV + "/features"), 16)
    tap.ok(feats & (1 << DOORBELL_BIT) and read(dev + "/pressure/doorbell")
           == "1", "doorbell: feature %d offered by the device is negotiated"
           % DOORBELL_BIT, "negotiated features %#x, driver doorbell=%s"
           % (feats, read(dev + "/pressure/doorbell")))

    write(TESTDEV + "/clear", "1")
    errs = [inject(dev, lv) for lv in ("low", "medium", "critical")]
    got = testdev_writes()
    want = [(DOORBELL_OFFSET, 4, 1), (DOORBELL_OFFSET, 4, 2),
            (DOORBELL_OFFSET, 4, 3)]
    tap.ok(errs == [0, 0, 0] and got == want,
           "doorbell: levels 1, 2, 3 written as one 4-byte write at offset %d" % DOORBELL_OFFSET,
           "inject errnos %s; device saw (offset, len, value) %s, expected %s"
           % (errs, got, want))

    c = counters(dev)
    tap.ok(all(c["written_" + lv] == 1 and c["detected_" + lv] == 1
               for lv in LEVELS),
           "doorbell: sysfs counters match the writes", c)

    write(TESTDEV + "/clear", "1")
    errs = [inject(dev, v) for v in ("1", "2", "3")]
    got = testdev_writes()
    tap.ok(errs == [0, 0, 0] and got == want,
           "doorbell: numeric injection 1..3 writes the same values",
           "errnos %s, writes %s" % (errs, got))

    write(TESTDEV + "/clear", "1")
    errs = [inject(dev, v) for v in ("0", "4", "bogus", "-1", "2x")]
    got = testdev_writes()
    tap.ok(all(e == errno.EINVAL for e in errs) and not got,
           "doorbell: out-of-range injections are EINVAL and write nothing",
           "errnos %s (want EINVAL), writes %s" % (errs, got))

    # Rate limit: low may be reported once an hour; medium has no limit.
    before = counters(dev)
    write(PARAMS + "/ratelimit_low_ms", "3600000")
    write(TESTDEV + "/clear", "1")
    for _ in range(5):
        inject(dev, "low")
        inject(dev, "medium")
    got = testdev_writes()
    d = delta(counters(dev), before)
    tap.ok(got == [(DOORBELL_OFFSET, 4, 2)] * 5 and
           d["ratelimited_low"] == 5 and d["written_low"] == 0 and
           d["written_medium"] == 5,
           "rate limit: a level inside its interval is dropped and counted",
           "writes %s, counter deltas %s" % (got, d))

    old = read(PARAMS + "/ratelimit_low_ms")
    errs = [write(PARAMS + "/ratelimit_low_ms", "3600001"),
            write(PARAMS + "/pressure_period_ms", "249"),
            write(PARAMS + "/pressure_period_ms", "1001"),
            write(PARAMS + "/low_avail_permille", "1001"),
            write(PARAMS + "/ratelimit_medium_ms", "x")]
    tap.ok(all(e == errno.EINVAL for e in errs) and
           read(PARAMS + "/ratelimit_low_ms") == old,
           "parameters: out-of-range values are EINVAL, old value kept",
           "errnos %s, ratelimit_low_ms now %s (was %s)"
           % (errs, read(PARAMS + "/ratelimit_low_ms"), old))

    # Real pressure through the detector, default rate limits.
    dev = load_pair()
    write(TESTDEV + "/clear", "1")
    ram_mib = meminfo("MemTotal") // 1024
    found = run_hog(dev, ram_mib + 256)
    got = testdev_writes()
    c = counters(dev)
    bell = [w for w in got if w[0] == DOORBELL_OFFSET]
    tap.ok(any(w[2] >= 2 for w in bell),
           "pressure: a memory hog makes the driver ring medium/critical",
           "device saw %s; counters %s" % (got, c))
    hog_note(tap, found, ram_mib + 256, ram_mib)
    tap.ok(all(w[1] == 4 and 1 <= w[2] <= 3 for w in bell) and
           len(bell) == len(got) and
           [sum(1 for w in bell if w[2] == i + 1) for i in range(3)] ==
           [c["written_" + lv] for lv in LEVELS],
           "pressure: every write is a valid level and is counted",
           "writes %s, counters %s" % (got, c))

    # Device without the feature: detection runs, nothing is written.
    dev = load_pair(testdev_args=["doorbell=0"], driver_args=no_limit)
    write(TESTDEV + "/clear", "1")
    errs = [inject(dev, lv) for lv in LEVELS]
    run_hog(dev, ram_mib + 256)
    got = testdev_writes()
    c = counters(dev)
    tap.ok(read(dev + "/pressure/doorbell") == "0" and errs == [0, 0, 0] and
           not got and c["detected_critical"] + c["detected_medium"] >= 3 and
           all(c["written_" + lv] == 0 for lv in LEVELS),
           "no feature: pressure is detected but never written",
           "doorbell=%s, errnos %s, device saw %s, counters %s"
           % (read(dev + "/pressure/doorbell"), errs, got, c))

    # Legacy device (no VIRTIO_F_VERSION_1): the driver declines the bit.
    dev = load_pair(testdev_args=["version_1=0"], driver_args=no_limit)
    write(TESTDEV + "/clear", "1")
    errs = [inject(dev, lv) for lv in LEVELS]
    feats = int(read(TESTDEV + "/features"), 16)
    got = testdev_writes()
    tap.ok(not feats & (1 << DOORBELL_BIT) and not got,
           "legacy device: doorbell not negotiated, nothing written",
           "features %#x, writes %s" % (feats, got))

    unload(DRIVER)
    got = testdev_writes()
    tap.ok(all(w[0] != DOORBELL_OFFSET for w in got),
           "removal: the driver writes no doorbell while unbinding",
           "writes %s" % got)
    unload("vab_testdev")
    trouble = kernel_trouble()
    tap.ok(not trouble, "kernel log: no WARNING/BUG/Oops",
           "\n".join(trouble[:20]))
    tap.ok(not loaded(DRIVER) and not loaded("vab_testdev"),
           "modules unload cleanly", read("/proc/modules"))
    tap.exit()


# --- early suite: warning before reclaim, against vab_testdev --------------

CGROUP = "/sys/fs/cgroup"


def memcg_oom(tap, dev):
    """An OOM kill inside a memory cgroup at its own limit, with the guest
    at large far from short, is no guest-wide critical pressure."""
    name = "early: a memcg-local OOM kill is not critical"
    ctl = CGROUP + "/cgroup.controllers"
    if not os.path.exists(ctl):
        run("mount", "-t", "cgroup2", "none", CGROUP, check=False)
    if not os.path.exists(ctl) or "memory" not in read(ctl).split():
        tap.skip(name, "no cgroup v2 memory controller in this kernel")
        return
    write(CGROUP + "/cgroup.subtree_control", "+memory")
    grp = CGROUP + "/vab_memcg_oom"
    if not os.path.isdir(grp):
        os.mkdir(grp)
    write(grp + "/memory.max", str(32 << 20))
    write(grp + "/memory.swap.max", "0")

    def enter():
        hog_preexec()
        with open(grp + "/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))

    # Keep the detector evaluating all along, so that it would see the
    # kill if it counted OOM_KILL events.
    old_active = read(PARAMS + "/active_avail_permille")
    write(PARAMS + "/active_avail_permille", "1000")
    time.sleep(1.2)
    before = counters(dev)
    ooms0 = vmstat_oom_kills()
    with QuietConsole():
        hog = subprocess.Popen([os.environ["VAB_HOG"], "64"],
                               preexec_fn=enter, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        rc = hog.wait(timeout=120)
        # Two periods for the detector to see whatever there is to see.
        time.sleep(1.2)
    d = delta(counters(dev), before)
    kills = vmstat_oom_kills() - ooms0
    write(PARAMS + "/active_avail_permille", old_active)
    tap.ok(kills > 0 and rc != 0 and d["evaluations"] > 0 and
           d["detected_critical"] == 0, name,
           "hog exit %d, oom_kill +%d (want > 0), counter deltas %s "
           "(want evaluations > 0, detected_critical 0)" % (rc, kills, d))
    os.rmdir(grp)


def vmstat_refaults():
    return vmstat().get("workingset_refault_file", 0)


def refault_thrash(dev, refault_on, seconds=15):
    """Anonymous memory held so that page cache has about 96 MiB, then
    VAB_REFAULT_FILE (192 MiB that run.sh wrote on the host, read here over
    the 9p root, which caches in the page cache) read over and over: each
    pass reads back what the last one evicted. Only the refault rules may
    detect anything (every other rule off, the detector always active);
    with REFAULT_ON false those are off too. Returns (counter deltas,
    file refaults)."""
    path = os.environ["VAB_REFAULT_FILE"]
    params = {"active_avail_permille": "1000", "low_avail_permille": "0",
              "medium_avail_permille": "0", "critical_avail_permille": "0",
              "low_eta_ms": "0", "medium_eta_ms": "0",
              "ratelimit_low_ms": "0", "ratelimit_medium_ms": "0"}
    if not refault_on:
        params.update(refault_low_permille="0", refault_medium_permille="0")
    old = {k: read(PARAMS + "/" + k) for k in
           list(params) + ["refault_low_permille", "refault_medium_permille"]}
    for k, v in params.items():
        write(PARAMS + "/" + k, v)
    hold = max(meminfo("MemAvailable") // 1024 - 96, 16)
    hog = subprocess.Popen([os.environ["VAB_HOG"], str(hold), "600"],
                           preexec_fn=hog_preexec)
    wait_for(lambda: proc_rss_kib(hog.pid) >= (hold << 10) * 0.99, 120,
             step=0.1)
    time.sleep(1.2)
    before = counters(dev)
    refaults0 = vmstat_refaults()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with open(path, "rb") as f:
            while f.read(1 << 20):
                pass
    d = delta(counters(dev), before)
    refaults = vmstat_refaults() - refaults0
    hog.kill()
    hog.wait()
    for k, v in old.items():
        write(PARAMS + "/" + k, v)
    return d, refaults


def suite_early():
    """An anonymous, swapless guest allocating at a steady rate must hear
    the doorbell ring low or medium before its first allocation stall and
    before its first OOM kill. Default parameters, driver reloaded each
    round (so rate limits start afresh)."""
    rounds = int(os.environ.get("VAB_EARLY_ROUNDS", "3"))
    rate = int(os.environ.get("VAB_EARLY_MIB_S", "100"))
    tap = Tap(2 * rounds + 5)
    protect_self()
    swap = read("/proc/swaps").splitlines()[1:]
    leads = []
    for r in range(rounds):
        dev = load_pair()
        write(TESTDEV + "/clear", "1")
        ram_mib = meminfo("MemTotal") // 1024
        mib = ram_mib + 256
        w = watch_paced_hog(dev, mib, rate)
        rings = w["rings"]
        end = min(w.get("stall", float("inf")), w.get("oom", float("inf")))
        early = [t for t, lv in rings if lv in ("low", "medium")]
        first = early[0] if early else None
        tap.ok(end != float("inf") and first is not None and first < end,
               "early round %d: low/medium rings before the first stall "
               "and OOM kill" % (r + 1),
               "rings %s; first stall %s ms, first OOM kill %s ms"
               % (rings, w.get("stall"), w.get("oom")))
        # The driver may ring on after the watch ended: compare counts
        # at a moment the device saw nothing new, and the order of what
        # was watched.
        for _ in range(10):
            writes = [v for off, ln, v in testdev_writes()
                      if off == DOORBELL_OFFSET]
            c = counters(dev)
            if writes == [v for off, ln, v in testdev_writes()
                          if off == DOORBELL_OFFSET]:
                break
        # Rings seen in the same 10 ms poll have no known order.
        groups, pos, in_order = {}, 0, True
        for t, lv in rings:
            groups.setdefault(t, []).append(LEVELS.index(lv) + 1)
        for t in sorted(groups):
            n = len(groups[t])
            in_order &= sorted(writes[pos:pos + n]) == sorted(groups[t])
            pos += n
        tap.ok(in_order and
               [writes.count(i + 1) for i in range(3)] ==
               [c["written_" + lv] for lv in LEVELS],
               "early round %d: the device saw each ring, in order"
               % (r + 1), "device saw %s, driver reported %s while "
               "watched, written counters %s" % (writes, rings, c))
        if first is not None and end != float("inf"):
            leads.append(end - first)
        # The hog touched mib MiB unless the OOM killer ended it first.
        tap.note("early round %d: %d MiB guest, hog %d MiB at %d MiB/s "
                 "(ran %.0f ms); rings %s; first stall %s; first OOM kill "
                 "%s; lead %s" % (
                     r + 1, ram_mib, mib, rate, w["hog_ms"],
                     ", ".join("%s %.0f ms" % (lv, t) for t, lv in rings)
                     or "none",
                     "%.0f ms" % w["stall"] if "stall" in w else "none",
                     "%.0f ms" % w["oom"] if "oom" in w else "none",
                     "%.0f ms" % (end - first) if first is not None and
                     end != float("inf") else "none"))
    if leads:
        tap.note("early: lead from first low/medium ring to first stall or "
                 "OOM kill, median %.0f ms over %d rounds (min %.0f, max "
                 "%.0f)" % (statistics.median(leads), len(leads),
                            min(leads), max(leads)))
    tap.ok(not swap, "early: the guest has no swap (anonymous memory only)",
           "/proc/swaps: %s" % swap)
    memcg_oom(tap, load_pair())
    dev = load_pair()
    if not os.path.isfile(os.environ.get("VAB_REFAULT_FILE", "")):
        for what in ("file refaults alone ring low/medium",
                     "the same thrash with the refault rules off is quiet"):
            tap.skip("early: " + what, "no VAB_REFAULT_FILE from run.sh")
    else:
        d, refaults = refault_thrash(dev, True)
        tap.ok(refaults > 0 and d["detected_low"] + d["detected_medium"] > 0,
               "early: file refaults alone ring low/medium",
               "%d file refaults, counter deltas %s" % (refaults, d))
        tap.note("refault thrash: %d file refaults in 15 s, detected low "
                 "%d, medium %d" % (refaults, d["detected_low"],
                                    d["detected_medium"]))
        d, refaults = refault_thrash(dev, False)
        tap.ok(refaults > 0 and d["evaluations"] > 0 and
               all(d["detected_" + lv] == 0 for lv in LEVELS),
               "early: the same thrash with the refault rules off is quiet",
               "%d file refaults, counter deltas %s" % (refaults, d))
    unload(DRIVER)
    unload("vab_testdev")
    trouble = kernel_trouble()
    tap.ok(not trouble, "kernel log: no WARNING/BUG/Oops",
           "\n".join(trouble[:20]))
    tap.exit()


# --- balloon suite: Debian's QEMU, virtio-balloon-pci ----------------------

STAT_VMSTAT = {12: "pgscan_kswapd", 13: "pgscan_direct",
               14: "pgsteal_kswapd", 15: "pgsteal_direct"}
STAT_COMMITTED = 0x8000


def vmstat():
    with open("/proc/vmstat") as f:
        return {k: int(v) for k, v in (line.split() for line in f)}


def stats_units(tap, dev):
    """Tags QEMU 7.2 does not show (12..15, committed), through debugfs: a
    fill of the stats buffer must lie between /proc/vmstat read before and
    after it, in bytes."""
    path = "%s/%s/%s/stats" % (DEBUGFS, DRIVER, os.path.basename(dev))
    before = vmstat()
    committed0 = meminfo("Committed_AS") << 10
    got = dict(tuple(int(x) for x in line.split())
               for line in read(path).splitlines())
    after = vmstat()
    committed1 = meminfo("Committed_AS") << 10
    if not any(after[v] for v in STAT_VMSTAT.values()):
        tap.skip("stats: scan and reclaim tags 12..15 are in bytes",
                 "no page was scanned by reclaim in this VM")
    else:
        bad = {t: (got.get(t), before[v] * 4096, after[v] * 4096)
               for t, v in STAT_VMSTAT.items()
               if not before[v] * 4096 <= got.get(t, -1) <= after[v] * 4096}
        tap.ok(not bad, "stats: scan and reclaim tags 12..15 are in bytes",
               "tag: (value, vmstat before x 4096, after x 4096): %s" % bad)
    c = got.get(STAT_COMMITTED, -1)
    tap.ok(0.5 * min(committed0, committed1) <= c <=
           2 * max(committed0, committed1) and
           got.get(5) == meminfo("MemTotal") << 10,
           "stats: committed memory (tag %#x) in bytes, MemTotal exact"
           % STAT_COMMITTED,
           "committed %d bytes, Committed_AS %d..%d bytes; tag 5 %s, "
           "MemTotal %d bytes" % (c, committed0, committed1, got.get(5),
                                  meminfo("MemTotal") << 10))

class Qmp:
    """QMP through the host's qmp_relay.py and the shared directory."""

    def __init__(self, shared):
        self.dir = shared
        self.seq = 0

    def __call__(self, cmd, timeout_s=60, **args):
        self.seq += 1
        name = "%s/req.%08d" % (self.dir, self.seq)
        with open(name + ".tmp", "w") as f:
            json.dump({"execute": cmd, "arguments": args}, f)
        os.rename(name + ".tmp", name)
        resp = "%s/resp.%08d" % (self.dir, self.seq)
        deadline = time.monotonic() + timeout_s
        while not os.path.exists(resp):
            if time.monotonic() > deadline:
                raise TimeoutError("no QMP answer to %s" % cmd)
            time.sleep(0.005)
        with open(resp) as f:
            reply = json.load(f)
        os.unlink(resp)
        if "error" in reply:
            raise RuntimeError("QMP %s: %s" % (cmd, reply["error"]))
        return reply["return"]


def busy(seconds):
    """Keep the CPU busy (no idle wake-up deferral) for SECONDS."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def wait_for(pred, timeout_s, step=0.01):
    deadline = time.monotonic() + timeout_s
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def suite_balloon():
    tap = Tap(20)
    protect_self()
    qmp = Qmp(os.environ["VAB_QMP_DIR"])
    ram = int(os.environ["VAB_RAM_MIB"]) << 20
    step_mib = 256

    run("insmod", os.environ["VAB_DRIVER"])
    dev = our_device()
    tap.ok(not loaded("virtio_balloon") and os.path.exists(dev + "/balloon"),
           "bind: our driver, not virtio_balloon, owns the balloon device",
           "virtio_balloon loaded: %s" % loaded("virtio_balloon"))
    tap.ok(read(dev + "/pressure/doorbell") == "0",
           "stock QEMU: the doorbell feature is not negotiated",
           "doorbell=%s" % read(dev + "/pressure/doorbell"))

    base = meminfo("MemTotal")
    t0 = time.monotonic()
    qmp("balloon", value=ram - (step_mib << 20))
    units = step_mib << 8
    done = wait_for(lambda: read(dev + "/balloon/units") == str(units), 120)
    secs = time.monotonic() - t0
    now = meminfo("MemTotal")
    tap.ok(done and now == base - (step_mib << 10),
           "inflate: MemTotal drops by the balloon size",
           "MemTotal %d kB -> %d kB, expected %d kB; units %s"
           % (base, now, base - (step_mib << 10),
              read(dev + "/balloon/units")))
    tap.note("inflated %d MiB in %.2f s" % (step_mib, secs))
    # An idle guest has whole free blocks: the balloon takes them whole
    # and leaves the guest's (and the host's) huge pages in one piece.
    blocks = int(read(dev + "/balloon/inflated_blocks"))
    tap.ok(blocks * 512 >= units * 9 // 10,
           "inflate: an idle guest's balloon comes in whole 2 MiB blocks",
           "%d blocks of 2 MiB for %d MiB" % (blocks, step_mib))
    actual = qmp("query-balloon")["actual"]
    tap.ok(actual == ram - (step_mib << 20),
           "inflate: query-balloon agrees",
           "actual %d, expected %d" % (actual, ram - (step_mib << 20)))
    # Busy, not asleep: the detector's timer is deferrable and waits for
    # an idle CPU's next wake-up.
    e0 = counters(dev)["evaluations"]
    busy(3)
    e1 = counters(dev)["evaluations"]
    period = int(read(PARAMS + "/pressure_period_ms"))
    tap.ok(e1 - e0 >= 3000 // period - 2,
           "active: the detector evaluates each period while ballooned",
           "%d evaluations in 3 busy s, period %d ms" % (e1 - e0, period))

    qmp("balloon", value=ram)
    done = wait_for(lambda: read(dev + "/balloon/units") == "0", 120)
    now = meminfo("MemTotal")
    tap.ok(done and now == base, "deflate: MemTotal back to full size",
           "MemTotal %d kB, expected %d kB" % (now, base))
    actual = qmp("query-balloon")["actual"]
    tap.ok(actual == ram, "deflate: query-balloon agrees",
           "actual %d, expected %d" % (actual, ram))
    busy(1)
    e0 = counters(dev)["evaluations"]
    busy(3)
    e1 = counters(dev)["evaluations"]
    tap.ok(e1 == e0 and meminfo("MemAvailable") > meminfo("MemTotal") // 2,
           "gate: no evaluation with an empty balloon and memory to spare",
           "%d evaluations in 3 busy s, MemAvailable %d of %d kB"
           % (e1 - e0, meminfo("MemAvailable"), meminfo("MemTotal")))

    # Compaction moves balloon pages (vab_migratepage) when they sit among
    # free memory: inflate into the last free memory left by a hog, free
    # the hog, compact. The balloon must keep its size, towards the guest
    # and towards QEMU.
    free_mib = meminfo("MemFree") // 1024
    hog_mib = max(free_mib - step_mib - 64, 16)
    hog = subprocess.Popen([os.environ["VAB_HOG"], str(hog_mib), "600"],
                           preexec_fn=hog_preexec)
    wait_for(lambda: meminfo("MemFree") // 1024 < free_mib - hog_mib * 0.95,
             120, step=0.1)
    qmp("balloon", value=ram - (step_mib << 20))
    wait_for(lambda: read(dev + "/balloon/units") == str(units), 120)
    hog.kill()
    hog.wait()
    migrated = int(read(dev + "/balloon/migrated"))
    write("/proc/sys/vm/compact_memory", "1")
    migrated = int(read(dev + "/balloon/migrated")) - migrated
    units_now = read(dev + "/balloon/units")
    actual = qmp("query-balloon")["actual"]
    now = meminfo("MemTotal")
    if migrated:
        tap.ok(units_now == str(units) and actual == ram - (step_mib << 20)
               and now == base - (step_mib << 10),
               "compaction: balloon pages moved, balloon size unchanged",
               "units %s (want %d), actual %d, MemTotal %d kB"
               % (units_now, units, actual, now))
        tap.note("compaction moved %d balloon pages" % migrated)
    else:
        tap.skip("compaction: balloon pages moved, balloon size unchanged",
                 "compaction moved no balloon page this time")
    qmp("balloon", value=ram)
    wait_for(lambda: read(dev + "/balloon/units") == "0", 120)

    path = "/machine/peripheral/balloon0"
    qmp("qom-set", path=path, property="guest-stats-polling-interval",
        value=1)

    def fresh_stats():
        s = qmp("qom-get", path=path, property="guest-stats")
        return s if s.get("last-update", 0) > 0 else None
    stats = wait_for(fresh_stats, 30, step=0.2)
    st = (stats or {}).get("stats", {})
    total = meminfo("MemTotal") << 10
    tap.ok(stats and st.get("stat-total-memory") == total and
           0 < st.get("stat-available-memory", 0) <= total and
           0 < st.get("stat-free-memory", 0) <= total and
           st.get("stat-minor-faults", 0) > 0,
           "stats: QEMU's guest-stats carry the guest's figures",
           "guest-stats %s, MemTotal %d bytes" % (stats, total))
    # Bytes, not pages: a figure in pages would be 4096 times too small.
    want = {"stat-available-memory": meminfo("MemAvailable") << 10,
            "stat-free-memory": meminfo("MemFree") << 10,
            "stat-disk-caches": (meminfo("Cached") + meminfo("Buffers") +
                                 meminfo("SwapCached")) << 10}
    off = {k: (st.get(k, 0), v) for k, v in want.items()
           if not 0.5 * v <= st.get(k, 0) <= 2 * v}
    tap.ok(stats and not off,
           "stats: available, free and caches are in bytes",
           "(device value, /proc/meminfo in bytes) out of 0.5..2x: %s" % off)
    qmp("qom-set", path=path, property="guest-stats-polling-interval",
        value=0)

    # The balloon's own motion is not the guest running out: a fast
    # inflation to 60 % of RAM, in an idle guest left with a quarter or
    # more of what remains available, rings nothing while the detector
    # runs.
    big = ram * 6 // 10 >> 20 << 20
    before = counters(dev)
    t0 = time.monotonic()
    qmp("balloon", value=ram - big)
    done = wait_for(lambda: read(dev + "/balloon/units") == str(big >> 12),
                    120)
    secs = time.monotonic() - t0
    busy(2)
    avail, total_kb = meminfo("MemAvailable"), meminfo("MemTotal")
    qmp("balloon", value=ram)
    done = done and wait_for(lambda: read(dev + "/balloon/units") == "0",
                             120)
    busy(1)
    d = delta(counters(dev), before)
    # Well above low_avail_permille (10 %): no real shortage to report.
    tap.ok(done and d["evaluations"] > 0 and avail > total_kb // 4 and
           all(d["detected_" + lv] == 0 for lv in LEVELS),
           "trend: the balloon's own inflation and deflation ring nothing",
           "%d MiB in %.1f s, MemAvailable %d of %d kB inflated, counter "
           "deltas %s" % (big >> 20, secs, avail, total_kb, d))
    tap.note("trend: inflated %d MiB in %.1f s (%.0f MiB/s): %d evaluations, "
             "detected low %d medium %d critical %d" % (
                 big >> 20, secs, (big >> 20) / max(secs, 0.01),
                 d["evaluations"], d["detected_low"], d["detected_medium"],
                 d["detected_critical"]))

    idle_s = int(os.environ.get("VAB_IDLE_S", "60"))
    before = counters(dev)
    time.sleep(idle_s)
    d = delta(counters(dev), before)
    tap.ok(all(d["detected_" + lv] == 0 for lv in LEVELS) and
           d["evaluations"] == 0,
           "idle: no evaluation and no pressure in %d s (empty balloon)"
           % idle_s, d)
    tap.note("idle %d s: %d evaluations" % (idle_s, d["evaluations"]))

    ram_mib = meminfo("MemTotal") // 1024
    found = run_hog(dev, ram_mib + 256)
    c = counters(dev)
    tap.ok("medium" in found or "critical" in found,
           "pressure: a memory hog is detected as medium/critical",
           "counters %s" % c)
    hog_note(tap, found, ram_mib + 256, ram_mib)
    tap.ok(all(c["written_" + lv] == 0 for lv in LEVELS),
           "pressure: nothing written without the feature", c)
    stats_units(tap, dev)

    qmp("balloon", value=ram - (64 << 20))
    wait_for(lambda: read(dev + "/balloon/units") == str(64 << 8), 60)
    run("rmmod", DRIVER)
    actual = qmp("query-balloon")["actual"]
    now = meminfo("MemTotal")
    tap.ok(now == base and actual == ram,
           "removal: every ballooned page comes back to the guest",
           "MemTotal %d kB (want %d), actual %d (want %d)"
           % (now, base, actual, ram))
    trouble = kernel_trouble()
    tap.ok(not trouble, "kernel log: no WARNING/BUG/Oops",
           "\n".join(trouble[:20]))
    tap.exit()


# --- reporting suites: free page reporting under Debian's QEMU -------------

REPORTING_BIT = 5


def proc_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def suite_reporting(on):
    """256 MiB allocated, touched and freed in the guest: with
    free-page-reporting=on the RSS of the QEMU running this VM falls by at
    least 3/4 of it within 10 s; with it off, by less than 1/4."""
    mib = 256
    bound_s = 10
    name = "reporting" if on else "noreporting"
    tap = Tap(4)
    protect_self()
    qmp = Qmp(os.environ["VAB_QMP_DIR"])

    def host_mib():
        return qmp("x-vab-host-rss")["vmrss-kib"] / 1024

    run("insmod", os.environ["VAB_DRIVER"])
    dev = our_device()
    feats = read(dev + "/features")
    tap.ok(feats[REPORTING_BIT] == ("1" if on else "0"),
           "%s: feature %d %snegotiated" % (name, REPORTING_BIT,
                                            "" if on else "not "),
           "features %s" % feats)

    # Let the reporting of the memory free since boot settle first.
    history = [host_mib()]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(1)
        history.append(host_mib())
        if len(history) > 4 and max(history[-4:]) - min(history[-4:]) < 8:
            break
    rss0 = history[-1]
    reported0 = int(read(dev + "/balloon/reported"))
    hog = subprocess.Popen([os.environ["VAB_HOG"], str(mib), "600"],
                           preexec_fn=hog_preexec)
    wait_for(lambda: proc_rss_kib(hog.pid) >= (mib << 10) * 0.99, 120,
             step=0.1)
    time.sleep(1)
    rss1 = host_mib()
    hog.kill()
    hog.wait()
    t0 = time.monotonic()
    lowest, back_s = rss1, None
    while time.monotonic() - t0 < bound_s:
        now = host_mib()
        lowest = min(lowest, now)
        if back_s is None and rss1 - now >= mib * 0.75:
            back_s = time.monotonic() - t0
            if on:
                break
        time.sleep(0.25)
    reported = (int(read(dev + "/balloon/reported")) - reported0) // 256
    fig = ("QEMU RSS %.0f MiB settled, %.0f MiB with the %d MiB hog, "
           "lowest %.0f MiB within %d s after it ended (%.0f MiB back%s); "
           "driver reported %d MiB after the hog started"
           % (rss0, rss1, mib, lowest, bound_s, rss1 - lowest,
              ", 3/4 back after %.1f s" % back_s if back_s is not None
              else "", reported))
    if on:
        tap.ok(back_s is not None,
               "%s: the freed %d MiB leave QEMU's RSS within %d s"
               % (name, mib, bound_s), fig)
        tap.ok(reported >= mib * 0.75,
               "%s: the driver reported the freed memory" % name,
               "reported %d MiB" % reported)
    else:
        tap.ok(rss1 - lowest < mib * 0.25,
               "%s: without reporting QEMU's RSS stays" % name, fig)
        tap.ok(reported == 0, "%s: the driver reported nothing" % name,
               "reported %d MiB" % reported)
    tap.note("%s: %s" % (name, fig))
    run("rmmod", DRIVER)
    trouble = kernel_trouble()
    tap.ok(not trouble, "kernel log: no WARNING/BUG/Oops",
           "\n".join(trouble[:20]))
    tap.exit()


# --- qemudoorbell suite: our QEMU's x-pressure-doorbell=on, virtio-pci ----

def suite_qemudoorbell():
    tap = Tap(6)
    protect_self()
    qmp = Qmp(os.environ["VAB_QMP_DIR"])
    path = "/machine/peripheral/balloon0/virtio-backend"
    no_limit = ["ratelimit_%s_ms=0" % lv for lv in LEVELS]

    def qemu_counts():
        return {lv: qmp("qom-get", path=path,
                        property="guest-pressure-" + lv)
                for lv in LEVELS + ("invalid",)}

    run("insmod", os.environ["VAB_DRIVER"], *no_limit)
    dev = our_device()
    tap.ok(read(dev + "/pressure/doorbell") == "1",
           "virtio-pci: feature 23 offered by QEMU is negotiated",
           "doorbell=%s, features %s" % (read(dev + "/pressure/doorbell"),
                                         read(dev + "/features")))

    base = qemu_counts()
    sent = {"low": 1, "medium": 2, "critical": 3}
    errs = [inject(dev, lv) for lv, n in sent.items() for _ in range(n)]
    want = {lv: base[lv] + sent.get(lv, 0) for lv in base}
    got = wait_for(lambda: (lambda c: c if c == want else None)(
        qemu_counts()), 10, step=0.05) or qemu_counts()
    tap.ok(errs == [0] * 6 and got == want,
           "virtio-pci: QEMU counts each level the driver wrote",
           "inject errnos %s; QEMU counters %s, expected %s"
           % (errs, got, want))

    c = counters(dev)
    tap.ok([c["written_" + lv] for lv in LEVELS] ==
           [got[lv] - base[lv] for lv in LEVELS],
           "virtio-pci: driver and QEMU counters agree",
           "driver %s, QEMU %s" % (c, got))

    before = counters(dev)
    base = qemu_counts()
    write(PARAMS + "/ratelimit_low_ms", "10000")
    write(PARAMS + "/ratelimit_medium_ms", "2000")
    write(PARAMS + "/ratelimit_critical_ms", "500")
    ram_mib = meminfo("MemTotal") // 1024
    found = run_hog(dev, ram_mib + 256)
    d = delta(counters(dev), before)
    want = {lv: base[lv] + d["written_" + lv] for lv in LEVELS}
    want["invalid"] = base["invalid"]
    got = wait_for(lambda: (lambda c: c if c == want else None)(
        qemu_counts()), 10, step=0.05) or qemu_counts()
    tap.ok(d["written_medium"] + d["written_critical"] > 0 and got == want,
           "virtio-pci: a memory hog rings medium/critical, QEMU sees each",
           "driver deltas %s; QEMU %s, expected %s" % (d, got, want))
    hog_note(tap, found, ram_mib + 256, ram_mib)

    run("rmmod", DRIVER)
    tap.ok(qemu_counts()["invalid"] == 0,
           "virtio-pci: QEMU saw no invalid doorbell write",
           qemu_counts())
    trouble = kernel_trouble()
    tap.ok(not trouble, "kernel log: no WARNING/BUG/Oops",
           "\n".join(trouble[:20]))
    tap.exit()


# --- oom suite: Debian's QEMU, virtio-balloon-pci,deflate-on-oom=on --------

def suite_oom():
    tap = Tap(6)
    protect_self()
    qmp = Qmp(os.environ["VAB_QMP_DIR"])
    ram = int(os.environ["VAB_RAM_MIB"]) << 20
    step_mib = 256
    units = step_mib << 8

    # More than one deflate batch (256 units) per notification.
    oom_pages = 1024
    run("insmod", os.environ["VAB_DRIVER"], "oom_pages=%d" % oom_pages)
    dev = our_device()
    feats = read(dev + "/features")
    tap.ok(feats[2] == "1", "deflate-on-oom: feature 2 negotiated",
           "features %s" % feats)

    base = meminfo("MemTotal")
    qmp("balloon", value=ram - (step_mib << 20))
    done = wait_for(lambda: read(dev + "/balloon/units") == str(units), 120)
    now = meminfo("MemTotal")
    tap.ok(done and now == base,
           "deflate-on-oom: ballooned pages stay in MemTotal",
           "units %s (want %d), MemTotal %d kB (want %d)"
           % (read(dev + "/balloon/units"), units, now, base))

    # One notification exactly: a manual OOM kill (sysrq f) runs the OOM
    # notifier once, then kills a sacrificial process.
    victim = subprocess.Popen([os.environ["VAB_HOG"], "1", "600"],
                              preexec_fn=hog_preexec)
    time.sleep(0.5)
    calls0 = int(read(dev + "/balloon/oom_notifications"))
    with QuietConsole():
        write("/proc/sys/kernel/sysrq", "1")
        write("/proc/sysrq-trigger", "f")
        try:
            victim.wait(timeout=30)
        except subprocess.TimeoutExpired:
            victim.kill()
            victim.wait()
    calls = int(read(dev + "/balloon/oom_notifications")) - calls0
    once = int(read(dev + "/balloon/oom_deflated"))
    tap.ok(calls == 1 and once == oom_pages,
           "deflate-on-oom: one notification gives oom_pages=%d back, more "
           "than one deflate batch" % oom_pages,
           "%d notifications gave %d units, expected 1 and %d"
           % (calls, once, oom_pages))

    found = run_hog(dev, meminfo("MemTotal") // 1024 + 256)
    given = int(read(dev + "/balloon/oom_deflated"))
    left = int(read(dev + "/balloon/units"))
    tap.ok(given > 0 and left == units - given,
           "deflate-on-oom: the OOM notifier gives balloon pages back",
           "oom_deflated %d, units %d -> %d" % (given, units, left))
    tap.note("OOM gave back %d KiB of the %d MiB balloon (%s)"
             % (given * 4, step_mib,
                ", ".join("%s at %.0f ms" % (k, v * 1000)
                          for k, v in sorted(found.items()))))
    actual = qmp("query-balloon")["actual"]
    tap.ok(actual == ram - (left << 12),
           "deflate-on-oom: query-balloon follows the smaller balloon",
           "actual %d, expected %d" % (actual, ram - (left << 12)))

    run("rmmod", DRIVER)
    trouble = kernel_trouble()
    tap.ok(not trouble, "kernel log: no WARNING/BUG/Oops",
           "\n".join(trouble[:20]))
    tap.exit()


# --- benchmark: inflate/deflate speed, ours against virtio_balloon ---------

def time_resize(qmp, target_bytes, want_memtotal_kb, timeout_s=300):
    t0 = time.monotonic()
    qmp("balloon", value=target_bytes)
    # Polling lightly (20 ms) leaves the vCPUs to the balloon's worker.
    ok = wait_for(lambda: meminfo("MemTotal") == want_memtotal_kb, timeout_s,
                  step=0.02)
    return time.monotonic() - t0 if ok else None


def suite_bench():
    mib = int(os.environ.get("VAB_BENCH_MIB", "512"))
    rounds = int(os.environ.get("VAB_BENCH_ROUNDS", "3"))
    tap = Tap(2 * rounds)
    qmp = Qmp(os.environ["VAB_QMP_DIR"])
    ram = int(os.environ["VAB_RAM_MIB"]) << 20
    drivers = {"virtio_balloon": ("modprobe", "virtio_balloon"),
               DRIVER: ("insmod", os.environ["VAB_DRIVER"])}
    figures = {name: {"inflate": [], "deflate": []} for name in drivers}
    for r in range(rounds):
        # Alternate which driver goes first, so drift favours neither.
        order = list(drivers.items())
        if r % 2:
            order.reverse()
        for name, load in order:
            for other in drivers:
                unload(other)
            run(*load)
            base = meminfo("MemTotal")
            t_in = time_resize(qmp, ram - (mib << 20), base - (mib << 10))
            t_out = time_resize(qmp, ram, base)
            ok = t_in is not None and t_out is not None
            tap.ok(ok, "bench: %s round %d inflated and deflated %d MiB"
                   % (name, r + 1, mib), "inflate %s s, deflate %s s"
                   % (t_in, t_out))
            if ok:
                figures[name]["inflate"].append(mib / t_in)
                figures[name]["deflate"].append(mib / t_out)
                tap.note("%s round %d: inflate %.1f MiB/s, deflate %.1f MiB/s"
                         % (name, r + 1, mib / t_in, mib / t_out))
    for other in drivers:
        unload(other)
    for name, fig in figures.items():
        if fig["inflate"]:
            tap.note("%-18s %d MiB: inflate median %.1f MiB/s, deflate "
                     "median %.1f MiB/s (%d rounds)"
                     % (name, mib, statistics.median(fig["inflate"]),
                        statistics.median(fig["deflate"]),
                        len(fig["inflate"])))
    tap.exit()


def main():
    suites = {"doorbell": suite_doorbell, "early": suite_early,
              "balloon": suite_balloon,
              "reporting": lambda: suite_reporting(True),
              "noreporting": lambda: suite_reporting(False),
              "qemudoorbell": suite_qemudoorbell, "oom": suite_oom,
              "bench": suite_bench}
    if len(sys.argv) != 2 or sys.argv[1] not in suites:
        sys.exit("usage: tests.py doorbell|early|balloon|qemudoorbell|oom|"
                 "reporting|noreporting|bench")
    suites[sys.argv[1]]()


if __name__ == "__main__":
    main()
