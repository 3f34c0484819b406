#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""End to end with real guests: module, patched QEMU, guest driver.

Three levels. qemu/tests/e2e-guest.sh boots the test VM (level 1, "the
host") with kvm_autoballoon loaded and runs this file there as

  e2e_guest.py host QEMU KERNEL INITRAMFS STOCK_INITRAMFS

(STOCK_INITRAMFS: the same with the kernel's virtio_balloon instead of our
driver, or "none:REASON" to skip that check)

which starts two guests (level 2) with the patched QEMU,
-device virtio-balloon-pci,automatic=on and KVM (nested SVM in the test
VM, so the doorbell is a real KVM ioeventfd; KAB_E2E_ACCEL=tcg for TCG).
Each guest is a stock Debian kernel whose initramfs holds our guest driver
and kab_guest (qemu/tests/guest/kab_guest.c), a workload that the test
drives over the guest's serial port and that reports MemTotal and its held
memory there. Without /dev/kvm in the test VM the guests run under TCG,
where QEMU signals the doorbell's eventfds itself: the checks that claim a
KVM ioeventfd are then reported as SKIP, not passed.

Guest A has weight 200, guest B weight 100; both have 512 MiB, floor
160 MiB and ceiling 448 MiB. The steps, each asserted from sysfs, QMP and
the guests' MemTotal:
  0. both guests come up at their initial target (total - ceiling);
     each touches 320 MiB once, so that their memory is backed on the host;
     rmmod kvm_autoballoon is refused while their QEMUs hold registrations,
     and changes nothing
  1. host pressure: a hog in the host grows past the host's free memory;
     real vmpressure inflates both balloons, A by more than B (weight),
     neither below its floor, MemTotal follows; the hog is never
     OOM-killed and the host's reclaim stops
  2. guest pressure: A's workload grows past what A has; its doorbell
     rings, the module deflates A until the workload has its memory;
     B's target and pressure counters do not move
  3. A's demand falls, host pressure again: A re-inflates
  4. A's QEMU is killed with SIGKILL mid-inflation (A's vCPUs are paused
     while balloon-inject-host-pressure raises its target, then resumed;
     the kill comes once A's balloon has moved part of the way): the module
     drops A (sysfs directory gone), B is untouched and still follows;
     then B's QEMU is killed mid-deflation (paused, a manual balloon to
     its full size, resumed, killed once its balloon has moved part of the
     way): the module has no VM left;
  5. the guests' own figures: in step 0 each guest's MemTotal and
     MemAvailable reach vms/<id>/guest_total_pages and
     guest_available_pages (QEMU polls the statistics every second), and
     when A touches its memory the time from A's own report of the drop
     (its serial line) to sysfs showing it is printed as a figure; after
     step 4 a guest with Debian's stock virtio_balloon (no doorbell, no
     driver of ours) registers after the kills, gets its figures into
     vms/<id>/ too, is inflated by the host's headroom from those figures
     alone (host_headroom_percent raised above the host's available
     memory: reason headroom, no host event), powers off and its QEMU
     exits 0;
  then the module unloads.
Steps 1-4 run with the headroom off (host_headroom_percent 0), so that
they see host pressure. The policy's hold and blocking timers are shortened so that the steps take
seconds, and its host steps are 8/16/32 MiB per VM without the 5 % cap, so
that the split by weight shows (the rest, cooldown included, keeps its
defaults). Before each hog, the host reads 160 MiB of files into its page
cache: every real host has page cache, which reclaim takes first and
vmpressure reports first; without it the first report came at the min
watermark, and once (6.12) the hog outran the guests' inflation.

A timeline is printed as it goes; every 0.5 s a sample goes to
$KAB_OUT/e2e-samples.csv (make demo plots it). Prints TAP; exits 0 all
passed, 1 some failed, 4 all skipped.
"""

import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from kab_l2 import (MIB, PPM, SCALE, SYS, Guest, Hog, OUT,  # noqa: E402
                    Recorder, default_accel, host_meminfo, now, say, sysfs,
                    sysfs_write, vmstat, wait_for)

RAM = 512                       # MiB per guest
FLOOR = 160
CEILING = 448
WARM = 320                      # MiB each guest touches once
CACHE_MIB = 160                 # host page cache before each hog
CACHE_DIR = "/"                 # read for it: the guest kernel's directory
WAIT = 120                      # bound on each step, seconds
POLICY = {"host_hold_ms": 2000, "guest_hold_ms": 2000, "mark_ms": 0,
          "block_after_inflate_ms": 0, "block_after_deflate_ms": 0,
          "block_after_critical_ms": 0, "relax_after_ms": 0,
          "stall_ms": 0,
          # The guests' need forgets the warm-up touch within a second:
          # step 1 is about the split by weight, not the need's memory
          # (with the default minute, both guests stop at need + reserve
          # and B catches up with A).
          "need_decay_ms": 1000,
          # Steps small enough that the per-inflation cap (max_step_*)
          # does not hide the split by weight * room.
          "host_step_pages_low": 2 * 1024, "host_step_pages_medium": 4 * 1024,
          "host_step_pages_critical": 8 * 1024, "max_step_percent": 100,
          # Steps 1-4 are about host and guest pressure: with the default
          # headroom (20 %) the tick takes the guests' free memory before
          # vmpressure reports (host events 0, sources none), and step 3
          # may leave A at its floor, with nothing left for step 4. The
          # headroom has its own step, on the stock driver's guest.
          "host_headroom_percent": 0}

def reclaim_quiet(window=5, timeout=WAIT):
    """Wait for a window of seconds without page scanning; the time or 0."""
    deadline = time.monotonic() + timeout * SCALE
    while time.monotonic() < deadline:
        a = vmstat("pgscan")
        time.sleep(window)
        if vmstat("pgscan") == a:
            return now()
    return 0


def fill_page_cache(top, mib):
    """Read files under TOP until MIB MiB went through the page cache.

    Every real host has page cache that reclaim takes first, and whose
    reclaim is what vmpressure first reports. The test VM has next to none
    (its root is 9p, its /tmp tmpfs), so the first scan would come at the
    min watermark, a second or two before the OOM killer. Reading the guest
    kernel's files (9p with cache=loose) gives it that reservoir.
    """
    left = mib * MIB
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files):
            try:
                with open(os.path.join(root, name), "rb") as f:
                    while left > 0:
                        chunk = f.read(1 << 20)
                        if not chunk:
                            break
                        left -= len(chunk)
            except OSError:
                continue
            if left <= 0:
                return


def host_events(g):
    return sum(g.attr("host_events_" + lv)
               for lv in ("low", "medium", "critical"))


def host_pressure(tap, guests, rec, extra, label):
    """Grow a hog EXTRA MiB past the host's available memory."""
    fill_page_cache(CACHE_DIR, CACHE_MIB)
    avail = host_meminfo("MemAvailable")
    before = {g.name: g.target() for g in guests}
    ev = {g.name: host_events(g) for g in guests}
    hog = Hog(avail + extra, 32)
    rec.hog = hog
    say("%s: host hog grows to %d MiB (MemAvailable %d MiB, page cache "
        "%d MiB) at 32 MiB/s" % (label, avail + extra, avail,
                                 host_meminfo("Cached")))
    wait_for(lambda: hog.done or hog.proc.poll() is not None,
             (avail + extra) / 32 + 3 * WAIT)
    alive = hog.proc.poll() is None
    tap.ok(alive and hog.done, "%s: the host hog got all its memory, "
           "never OOM-killed" % label,
           "hog exit %s, held %d of %d MiB" % (hog.proc.poll(), hog.held,
                                               hog.mib))
    for g in guests:
        say("%s: %s target %d MiB balloon (was %d), actual %d, MemTotal %d"
            % (label, g.name, g.target(), before[g.name], g.actual(),
               g.get("mt")))
    quiet = reclaim_quiet()
    tap.ok(quiet > 0, "%s: host reclaim stops (5 s without page scans) "
           "while the hog holds" % label, "pgscan still counting")
    if quiet:
        say("%s: host reclaim quiet" % label)
    src = {g.name: sysfs("vms/%d/host_last_source" % g.vm_id)
           for g in guests}
    evn = {g.name: host_events(g) for g in guests}
    say("%s: host events %s, sources %s" % (
        label, {n: evn[n] - ev[n] for n in evn}, src))
    return hog, before


def guest_figure(g, name):
    """vms/<id>/guest_NAME_pages in MiB, or None while "unknown"."""
    v = sysfs("vms/%d/guest_%s_pages" % (g.vm_id, name))
    return None if v == "unknown" else int(v) // PPM


def figures_match(g):
    """sysfs has the guest's MemTotal, and a MemAvailable within its last
    report's reach (the guest reports every second, QEMU polls every
    second: the two may be a report apart)."""
    tot, av = guest_figure(g, "total"), guest_figure(g, "available")
    return (tot is not None and av is not None and
            abs(tot - g.get("mt")) <= 1 and 0 < av <= tot)


def check_figures(tap, g, label):
    ok = wait_for(lambda: figures_match(g), 30)
    tap.ok(ok, "%s: %s's MemTotal and MemAvailable reach vms/<id>/" %
           (label, g.name),
           "sysfs total %s available %s free %s cache %s MiB, updates %s; "
           "guest MemTotal %d MemAvailable %d MiB" % (
               guest_figure(g, "total"), guest_figure(g, "available"),
               guest_figure(g, "free"), guest_figure(g, "cache"),
               sysfs("vms/%d/guest_stats_updates" % g.vm_id),
               g.get("mt"), g.get("av")))
    return ok


def stats_round_trip(g, mib):
    """Grow g's workload by MIB; from the moment the command is sent, time
    the guest's own report of MemAvailable falling by 3/4 of it (its serial
    line, every 250 ms while it changes) and sysfs showing the same fall
    (QEMU asks for statistics every 1000 ms). Figures, not assertions:
    (ms to the guest's report, ms to sysfs), None for one that never came.
    """
    av_guest, av_sys = g.get("av"), guest_figure(g, "available")
    drop = mib * 3 // 4
    t_guest = t_sys = None
    t0 = now()
    g.send("grow %d" % mib)
    deadline = t0 + WAIT
    while now() < deadline and (t_guest is None or t_sys is None):
        if t_guest is None and 0 <= g.get("av") <= av_guest - drop:
            t_guest = (now() - t0) * 1000
        v = guest_figure(g, "available")
        if t_sys is None and v is not None and v <= av_sys - drop:
            t_sys = (now() - t0) * 1000
        time.sleep(0.01)
    return t_guest, t_sys


def print_round_trip(label, rtt):
    """TAP comment: both times, and sysfs minus the guest's report."""
    fmt = (lambda v: "%.0f ms" % v if v is not None else "never")
    diff = ("%+.0f ms" % (rtt[1] - rtt[0])
            if None not in rtt else "not measured")
    text = ("stats round trip, %s: grow sent -> guest's own report %s, "
            "-> sysfs %s (sysfs - guest report %s)"
            % (label, fmt(rtt[0]), fmt(rtt[1]), diff))
    say(text)
    print("# " + text)


def stock_headroom(tap, g):
    """A guest with the stock driver is ballooned from its figures alone:
    with the host's headroom line set 8 % of its RAM above what it has
    available, the tick inflates S (reason headroom) without any host
    pressure event, by no more than S had free, and S's balloon follows."""
    tot, av = host_meminfo("MemTotal"), host_meminfo("MemAvailable")
    pct = min(100, av * 100 // tot + 8)
    tgt0, ev0, free0 = g.target(), host_events(g), guest_figure(g, "free")
    sysfs_write("policy/host_headroom_percent", pct)
    try:
        ok = wait_for(lambda: g.target() > tgt0, 30)
    finally:
        sysfs_write("policy/host_headroom_percent", 0)
    settled = wait_for(g.settled, 60)
    reason = sysfs("vms/%d/last_reason" % g.vm_id)
    took = g.target() - tgt0
    say("stock driver: headroom %d %% (host MemAvailable %d of %d MiB): S "
        "target %d -> %d MiB, actual %d, last_reason %s, free was %s MiB"
        % (pct, av, tot, tgt0, g.target(), g.actual(), reason, free0))
    tap.ok(ok and settled and reason == "headroom" and
           host_events(g) == ev0 and free0 is not None and took <= free0,
           "stock driver: below the host's headroom the tick inflates S "
           "from its figures alone, no host event, at most its free memory",
           "target %d -> %d MiB (free %s), settled %s, last_reason %s, "
           "host events %d -> %d" % (tgt0, g.target(), free0, settled,
                                     reason, ev0, host_events(g)))


def stock_driver(tap, qemu, kernel, initrd, accel):
    """A guest with Debian's virtio_balloon gets its figures into sysfs."""
    if initrd.startswith("none:"):
        tap.skip("stock driver: figures reach vms/<id>/", initrd[5:])
        return
    g = Guest("S", qemu, kernel, initrd, accel, ram=RAM, floor=FLOOR,
              ceiling=CEILING, weight=100)
    try:
        g.connect()
        ok = wait_for(lambda: g.ready, WAIT)
        tap.ok(ok, "stock driver: the guest boots with virtio_balloon",
               "last lines %s" % g.lines[-3:])
        if not ok:
            return
        wait_for(lambda: g.get("mt") > 0, 30)
        check_figures(tap, g, "stock driver")
        say("stock driver: sysfs total %s available %s free %s cache %s "
            "MiB, committed %s" % (
                guest_figure(g, "total"), guest_figure(g, "available"),
                guest_figure(g, "free"), guest_figure(g, "cache"),
                sysfs("vms/%d/guest_committed_pages" % g.vm_id)))
        n0 = g.attr("guest_stats_updates")
        time.sleep(3)
        n1 = g.attr("guest_stats_updates")
        tap.ok(n1 > n0, "stock driver: QEMU keeps asking, the figures "
               "keep coming", "guest_stats_updates %d -> %d in 3 s"
               % (n0, n1))
        stock_headroom(tap, g)
        print_round_trip("stock virtio_balloon", stats_round_trip(g, 64))
        g.send("off")
        ok = wait_for(lambda: g.proc.poll() is not None, 60)
        gone = wait_for(lambda: sysfs("nr_vms") == "0", 30)
        tap.ok(ok and g.proc.returncode == 0 and gone,
               "stock driver: the guest powers off, QEMU exits 0, the "
               "module has no VM", "QEMU exit %s, nr_vms %s"
               % (g.proc.poll(), sysfs("nr_vms")))
    finally:
        if g.proc.poll() is None:
            g.proc.kill()
        g.proc.wait()


def rmmod_refused(tap, guests):
    """While QEMUs hold registrations the module cannot go, and trying
    changes nothing."""
    rm = subprocess.run(["rmmod", "kvm_autoballoon"], capture_output=True,
                        text=True)
    tap.ok(rm.returncode != 0 and "in use" in rm.stderr and
           os.path.exists("/dev/kvm_autoballoon") and
           sysfs("nr_vms") == str(len(guests)) and
           all(g.present() for g in guests),
           "step 0: rmmod is refused while QEMUs hold registrations, "
           "nothing changes", "rmmod exit %d: %s; nr_vms %s"
           % (rm.returncode, rm.stderr.strip(), sysfs("nr_vms")))


def qmp_balloon(g):
    """The balloon's size as QEMU last heard it from the guest, MiB."""
    return g.ram - g.qmp.cmd("query-balloon")["actual"] // MIB


def kill_on_the_way(g, start, end):
    """Resume g's vCPUs and SIGKILL its QEMU once the balloon, which was
    START MiB and is asked to become END MiB, has moved and not arrived.
    Returns the size seen just before the kill, or None if the balloon
    arrived (or never moved) first."""
    g.qmp.cmd("cont")
    deadline = time.monotonic() + WAIT * SCALE
    size = start
    while size == start and time.monotonic() < deadline:
        size = qmp_balloon(g)
    g.proc.send_signal(signal.SIGKILL)
    g.proc.wait()
    return None if size in (start, end) else size


def kill_mid_inflation(tap, a, b):
    """Step 4, A: SIGKILL with its balloon inflating. False when the
    inflation could not be set up."""
    a_dir = "vms/%d" % a.vm_id
    a.qmp.cmd("stop")
    start, tgt0 = qmp_balloon(a), a.target()
    a.qmp.cmd("balloon-inject-host-pressure", level="critical")
    raised = wait_for(lambda: a.target() > tgt0, 30)
    end = a.target()
    tap.ok(raised and qmp_balloon(a) == start,
           "step 4: host pressure raises paused A's target, its balloon "
           "stays", "A target %d -> %d MiB, balloon %d MiB (was %d)"
           % (tgt0, end, qmp_balloon(a), start))
    if not raised:
        a.qmp.cmd("cont")
        return False
    b_tgt = b.target()
    size = kill_on_the_way(a, start, end)
    if size is None:
        tap.skip("step 4: A's QEMU killed with the balloon on its way",
                 "the kill did not come between %d and %d MiB"
                 % (start, end))
    ok = wait_for(lambda: not os.path.isdir(os.path.join(SYS, a_dir)), 30)
    tap.ok(ok and sysfs("nr_vms") == "1",
           "step 4: SIGKILL of A's QEMU mid-inflation (balloon at %s MiB "
           "from %d to %d): the module drops A, sysfs directory gone"
           % (size, start, end), "nr_vms %s" % sysfs("nr_vms"))
    say("step 4: A killed with its balloon at %s MiB on the way from %d to "
        "%d MiB, its VM dropped" % (size, start, end))
    ok = b.present() and wait_for(b.settled, 60)
    tap.ok(ok and b.target() >= b_tgt,
           "step 4: B still registered and at its target",
           "B present %s, target %d MiB (was %d), actual %d"
           % (b.present(), b.target(), b_tgt, b.actual()))
    return True


def kill_mid_deflation(tap, b):
    """Step 4, B: SIGKILL with its balloon deflating (a manual balloon
    command to B's full size, which wins until the module's next change)."""
    b.qmp.cmd("stop")
    start = qmp_balloon(b)
    b.qmp.cmd("balloon", value=b.ram * MIB)
    if start == 0:
        b.qmp.cmd("cont")
        tap.ok(False, "step 4: B has a balloon to deflate",
               "B's balloon is empty after two rounds of host pressure")
        return
    size = kill_on_the_way(b, start, 0)
    if size is None:
        tap.skip("step 4: B's QEMU killed with the balloon on its way",
                 "the kill did not come between %d and 0 MiB" % start)
    gone = wait_for(lambda: sysfs("nr_vms") == "0", 30)
    tap.ok(gone and not b.present(),
           "step 4: SIGKILL of B's QEMU mid-deflation (balloon at %s MiB "
           "from %d to 0): the module has no VM" % (size, start),
           "nr_vms %s" % sysfs("nr_vms"))
    say("step 4: B killed with its balloon at %s MiB on the way from %d to "
        "0 MiB" % (size, start))


def run_steps(tap, a, b, rec, accel):
    guests = [a, b]
    # 0: up, initial targets, memory backed.
    for g in guests:
        g.connect()
    ok = wait_for(lambda: a.ready and b.ready, WAIT)
    tap.ok(ok, "both guests boot and load the driver",
           "A: %s; B: %s" % (a.lines[-3:], b.lines[-3:]))
    if not ok:
        raise RuntimeError("guests did not come up")
    say("guests up (A vm %d, B vm %d)" % (a.vm_id, b.vm_id))
    init = RAM - CEILING
    ok = wait_for(lambda: all(g.settled() and g.target() == init and
                              0 < g.get("mt") <= RAM - init
                              for g in guests))
    tap.ok(ok, "both at the initial target total - ceiling, MemTotal "
           "follows", "targets %s, actual %s, MemTotal %s" % (
               [g.target() for g in guests], [g.actual() for g in guests],
               [g.get("mt") for g in guests]))
    for g in guests:
        check_figures(tap, g, "step 0")
    rmmod_refused(tap, guests)
    print_round_trip("virtio_autoballoon (A)", stats_round_trip(a, WARM))
    for g in guests:
        g.send("grow %d" % WARM)
    wait_for(lambda: all(g.get("held") == WARM for g in guests))
    for g in guests:
        g.send("free")
    wait_for(lambda: all(g.get("held") == 0 for g in guests))
    say("guests touched %d MiB each and freed it; host MemAvailable %d MiB"
        % (WARM, host_meminfo("MemAvailable")))
    ev_warm = {g.name: g.events() for g in guests}
    mt0 = {g.name: g.get("mt") for g in guests}

    # 1: host pressure inflates both, by weight, within the floors.
    hog, before = host_pressure(tap, guests, rec, 160, "step 1")
    ok = wait_for(lambda: all(g.settled() for g in guests), 60)
    infl = {g.name: g.target() - before[g.name] for g in guests}
    tap.ok(ok and infl["A"] >= 32 and infl["B"] > 0,
           "step 1: vmpressure inflates both balloons, the guests follow",
           "inflation %s MiB, settled %s" % (infl, ok))
    tap.ok(infl["A"] > infl["B"],
           "step 1: A (weight 200) inflates more than B (weight 100)",
           "inflation %s MiB" % infl)
    limit = RAM - FLOOR
    tap.ok(all(g.target() <= limit and g.actual() <= limit
               for g in guests),
           "step 1: no balloon beyond total - floor (%d MiB)" % limit,
           "targets %s" % [g.target() for g in guests])
    ok = wait_for(lambda: all(abs(g.get("mt") - (mt0[g.name] - infl[g.name]))
                              <= 1 for g in guests), 30)
    tap.ok(ok, "step 1: each guest's MemTotal drops by its inflation",
           "MemTotal %s, was %s, inflation %s" % (
               {g.name: g.get("mt") for g in guests}, mt0, infl))
    tap.ok(all(sysfs("vms/%d/host_last_source" % g.vm_id) == "vmpressure"
               for g in guests),
           "step 1: the inflation came from the vmpressure source",
           "sources %s" % [sysfs("vms/%d/host_last_source" % g.vm_id)
                           for g in guests])
    hog.stop()
    rec.hog = None
    say("step 1: hog gone; A %d MiB balloon, B %d MiB"
        % (a.target(), b.target()))
    time.sleep(POLICY["host_hold_ms"] / 1000 + 1)

    # 2: A's workload wants more than A has; only A deflates.
    b_tgt, b_ev = b.target(), b.events()
    a_tgt, a_ev = a.target(), a.events()
    # More than A has available, less than it would have with the balloon
    # at its smallest (each MiB deflated is a MiB available); the workload
    # grows in 8 MiB steps.
    room = a_tgt - (RAM - CEILING)
    want = (a.get("av") + min(64, room // 2)) // 8 * 8
    oom0 = a.get("oom")
    a.send("grow %d" % want)
    t_grow = now()
    say("step 2: A's workload grows to %d MiB (A has MemTotal %d MiB, "
        "%d MiB available)" % (want, a.get("mt"), a.get("av")))
    ok = wait_for(lambda: a.events() > a_ev)
    if accel == "kvm":
        tap.ok(ok, "step 2: A's doorbell rings through a KVM ioeventfd, the "
               "module counts it", "A guest events %d -> %d"
               % (a_ev, a.events()))
    else:
        tap.ok(ok, "step 2: A's doorbell rings (QEMU signals the eventfd "
               "under %s), the module counts it" % accel,
               "A guest events %d -> %d" % (a_ev, a.events()))
        tap.skip("step 2: the doorbell is a KVM ioeventfd",
                 "guests under %s (no /dev/kvm in the test VM)" % accel)
    ok = wait_for(lambda: a.target() < a_tgt, step=0.05)
    tap.ok(ok, "step 2: the module deflates A",
           "A target %d -> %d MiB, last_reason %s"
           % (a_tgt, a.target(), sysfs("vms/%d/last_reason" % a.vm_id)))
    say("step 2: A deflated to %d MiB %.1fs after the workload started "
        "(guest events low/medium/critical %s, last_reason %s)"
        % (a.target(), now() - t_grow,
           "/".join(str(a.attr("guest_events_" + lv))
                    for lv in ("low", "medium", "critical")),
           sysfs("vms/%d/last_reason" % a.vm_id)))
    t = now()
    ok = wait_for(lambda: a.get("held") >= want, 2 * WAIT)
    # The outcome a user cares about: the memory came from the balloon,
    # not from the OOM killer restarting the workload.
    tap.ok(ok and a.get("oom") == oom0,
           "step 2: A's workload gets its %d MiB without an OOM kill" % want,
           "held %d MiB, A target %d MiB, OOM kills %d during the step"
           % (a.get("held"), a.target(), a.get("oom") - oom0))
    say("step 2: A's workload has %d MiB after %.1fs, A balloon %d MiB, "
        "%d OOM kills in A" % (a.get("held"), now() - t, a.target(),
                               a.get("oom")))
    tap.ok(b.target() == b_tgt and b.events() == b_ev,
           "step 2: B untouched (target, pressure events)",
           "B target %d -> %d, events %d -> %d"
           % (b_tgt, b.target(), b_ev, b.events()))
    tap.ok(all(g.events() >= ev_warm[g.name] for g in guests),
           "pressure counters never go back", "")

    # 3: A's demand falls; host pressure again re-inflates A.
    a.send("free")
    wait_for(lambda: a.get("held") == 0)
    time.sleep(POLICY["guest_hold_ms"] / 1000 + 1)
    low = a.target()
    say("step 3: A's workload freed its memory; A balloon %d MiB" % low)
    hog, _ = host_pressure(tap, guests, rec, 96, "step 3")
    ok = wait_for(lambda: a.target() > low and a.settled(), 60)
    tap.ok(ok, "step 3: A re-inflates on renewed host pressure",
           "A target %d MiB, was %d" % (a.target(), low))

    # 4: SIGKILL A's QEMU mid-inflation, then B's mid-deflation.
    killed = kill_mid_inflation(tap, a, b)
    hog.stop()
    rec.hog = None
    if killed:
        kill_mid_deflation(tap, b)


def host_main(qemu, kernel, initrd, stock_initrd):
    global CACHE_DIR
    from balloon_auto import Tap
    tap = Tap()
    CACHE_DIR = os.path.dirname(kernel)
    if not os.path.exists("/dev/kvm_autoballoon") or os.getuid() != 0:
        tap.skip("e2e guests", "needs root and kvm_autoballoon loaded")
        return tap.finish()
    accel = default_accel()
    for k, v in POLICY.items():
        sysfs_write("policy/" + k, v)
    say("two guests under %s, %d MiB each, floor %d, ceiling %d; host "
        "MemAvailable %d MiB" % (accel, RAM, FLOOR, CEILING,
                                 host_meminfo("MemAvailable")))
    # KAB_E2E_DEVICE: more balloon device properties, e.g.
    # ",deflate-on-oom=on".
    extra = os.environ.get("KAB_E2E_DEVICE", "")
    a, b = (Guest(name, qemu, kernel, initrd, accel, ram=RAM, floor=FLOOR,
                  ceiling=CEILING, weight=w, device_extra=extra)
            for name, w in (("A", 200), ("B", 100)))
    rec = Recorder([a, b], os.path.join(OUT, "e2e-samples.csv"))
    try:
        run_steps(tap, a, b, rec, accel)
    except Exception as e:          # a step that could not go on
        tap.ok(False, "steps ran to completion", "%s: %s"
               % (type(e).__name__, e))
    finally:
        rec.stop_ = True
        if rec.hog:
            rec.hog.stop()
        for g in (a, b):
            if g.proc.poll() is None:
                g.proc.kill()
            g.proc.wait()
    wait_for(lambda: sysfs("nr_vms") == "0", 30)
    try:
        stock_driver(tap, qemu, kernel, stock_initrd, accel)
    except Exception as e:
        tap.ok(False, "stock driver: ran to completion", "%s: %s"
               % (type(e).__name__, e))
    splats = ["%s: %s" % (g.name, line) for g in (a, b) for line in g.splats]
    tap.ok(not splats, "the nested guests' consoles show no WARN, BUG or "
           "oops", "\n".join(splats[:20]))
    gone = wait_for(lambda: sysfs("nr_vms") == "0", 30)
    nr = sysfs("nr_vms")
    rm = subprocess.run(["rmmod", "kvm_autoballoon"], capture_output=True,
                        text=True)
    tap.ok(gone and rm.returncode == 0 and
           not os.path.exists("/dev/kvm_autoballoon"),
           "the module unloads once its VMs are gone",
           "nr_vms %s, rmmod: %s" % (nr, rm.stderr.strip()))
    say("done; samples in %s" % os.path.join(OUT, "e2e-samples.csv"))
    return tap.finish()


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "host":
        return host_main(*sys.argv[2:6])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
