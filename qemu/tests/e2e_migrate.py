#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Live migration, savevm/loadvm and guest reset with automatic=on.

Runs in the test VM (qemu/tests/e2e-migrate.sh boots it with
kvm_autoballoon loaded) as

  e2e_migrate.py host QEMU KERNEL INITRAMFS

with the nested guests of kab_l2.py (a stock Debian kernel, our guest
driver, the kab_guest workload), under nested KVM (KAB_E2E_ACCEL=tcg for
TCG). Two QEMUs on the one host stand for the two ends of a migration,
over a unix socket; both register with the same module, as two hosts'
QEMUs would each with its own. Every step asserts what a user sees: QMP,
the module's sysfs, the guest's own MemTotal and workload.

  migration: a guest with its balloon partly inflated by host pressure
    1. a destination on a host without the module (a mount namespace with
       no /dev/kvm_autoballoon) refuses to start, saying why; migrating
       there fails at once, the guest runs on, still registered;
    2. a destination without automatic=on takes the stream and refuses it
       at the end; the guest resumes on the source, still registered;
    3. a destination with automatic=on: the migration completes; the
       module shows exactly one registration, the destination's, with the
       balloon's target and actual as they were; QMP and the guest agree;
    4. the migrated guest's doorbell deflates it, host pressure inflates it;
    5. the migration downtime (query-migrate "downtime") with and without
       automatic=on, the same guest and balloon, a few migrations each,
       printed as a figure (TAP comment), not asserted;
  savevm/loadvm: savevm succeeds with automatic=on; after the module
    moved the balloon on, loadvm brings target and actual back, in QEMU
    and in the module, and the module's next decision reaches the guest;
  reset: host pressure starts a large inflation; in the middle of it the
    guest reboots: QEMU's actual and the module's fall to 0 (the guest
    owns all its memory), the module forgets the guest's figures, keeps
    its target, and once the driver is back the guest inflates to that
    target.

Prints TAP; exits 0 all passed, 1 some failed, 4 all skipped.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from kab_l2 import (MIB, PPM, SYS, Guest, OUT,  # noqa: E402
                    default_accel, say, sysfs, sysfs_write, wait_for)

RAM = 512                       # MiB
FLOOR = 160
CEILING = 448
WAIT = 120                      # bound on each wait, seconds
STEP = 96                       # MiB of one host pressure inflation
RESET_STEP = 224                # MiB of the inflation a reboot interrupts
ROUNDS = 3                      # migrations per arm for the downtime
SOCK = "/tmp/kab-mig.sock"
POLICY = {"host_hold_ms": 2000, "guest_hold_ms": 2000, "mark_ms": 0,
          "block_after_inflate_ms": 0, "block_after_deflate_ms": 0,
          "block_after_critical_ms": 0, "relax_after_ms": 0,
          "stall_ms": 0, "need_decay_ms": 1000, "max_step_percent": 100,
          # A guest whose use rose by 1 % between two reports keeps its
          # free memory against host pressure for 2 s: a guest fresh from
          # boot often is, and an injected event then took nothing.
          "grow_percent": 0,
          "host_step_pages_critical": STEP * PPM}

# A host without the module: /dev without /dev/kvm_autoballoon.
NO_MODULE_WRAPPER = """#!/bin/sh
set -e
mkdir -p /tmp/kab-hostdev
mount --bind /dev /tmp/kab-hostdev
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero full random urandom kvm; do
	[ -e /tmp/kab-hostdev/$n ] || continue
	touch /dev/$n
	mount --bind /tmp/kab-hostdev/$n /dev/$n
done
exec "$@"
"""


def vm_dirs():
    return sorted(int(d) for d in os.listdir(os.path.join(SYS, "vms")))


def inject(g, level="critical"):
    g.qmp.cmd("balloon-inject-host-pressure", level=level)


def balloon_mib(g):
    """The balloon as QMP shows it (RAM - actual), MiB."""
    return (g.ram * MIB - g.qmp.cmd("query-balloon")["actual"]) // MIB


def runstate(g):
    return g.qmp.cmd("query-status")["status"]


def alive(g, timeout=30):
    """The guest runs on this QEMU: a new state line from its workload."""
    n = len(g.lines)
    t = g.state.get("t")
    g.send("free")
    return bool(wait_for(lambda: g.state.get("t") != t or
                         len(g.lines) > n, timeout))


def settled_mt(g):
    """MemTotal from a report the guest made after the balloon settled (it
    reports every second: an older line may show a balloon half way)."""
    t0 = int(g.state.get("t", 0))
    wait_for(lambda: int(g.state.get("t", 0)) >= t0 + 1500, 30)
    return g.get("mt")


def migrate(src, uri):
    """Migrate src to uri; the final query-migrate (or an error dict)."""
    src.qmp.cmd("migrate-set-parameters", **{"max-bandwidth": 1 << 30})
    try:
        src.qmp.cmd("migrate", uri=uri)
    except RuntimeError as e:
        return {"status": "failed", "error-desc": str(e)}
    info = {}

    def done():
        info.update(src.qmp.cmd("query-migrate"))
        return info.get("status") in ("completed", "failed", "cancelled")
    wait_for(done, 3 * WAIT)
    return info


def incoming(name, qemu, kernel, initrd, accel, automatic=True, extra=()):
    if os.path.exists(SOCK):
        os.unlink(SOCK)
    g = Guest(name, qemu, kernel, initrd, accel, ram=RAM, floor=FLOOR,
              ceiling=CEILING, automatic=automatic,
              qemu_extra=["-incoming", "unix:" + SOCK] + list(extra))
    return g


def stop(g):
    if g.proc.poll() is None:
        try:
            g.qmp.cmd("quit")
        except Exception:         # noqa: BLE001 (already gone)
            pass
        try:
            g.proc.wait(30)
        except subprocess.TimeoutExpired:
            g.proc.kill()
    g.proc.wait()


def boot(tap, name, qemu, kernel, initrd, accel, automatic=True,
         extra=()):
    g = Guest(name, qemu, kernel, initrd, accel, ram=RAM, floor=FLOOR,
              ceiling=CEILING, automatic=automatic, qemu_extra=list(extra))
    g.connect()
    ok = wait_for(lambda: g.ready, WAIT)
    tap.ok(ok, "%s: the guest boots and loads the driver" % name,
           "last lines %s" % g.lines[-3:])
    if not ok:
        raise RuntimeError("guest %s did not come up" % name)
    if automatic:
        init = RAM - CEILING
        ok = wait_for(lambda: g.settled() and g.target() == init)
        tap.ok(ok, "%s: at the initial target, %d MiB" % (name, init),
               "target %d actual %d" % (g.target(), g.actual()))
    return g


def inflate(tap, g, label):
    """One host pressure inflation of STEP MiB, followed by the guest."""
    before = g.target()
    inject(g)
    ok = wait_for(lambda: g.target() > before and g.settled())
    tap.ok(ok, "%s: host pressure inflates, the guest follows" % label,
           "target %d -> %d MiB, actual %d" % (before, g.target(),
                                               g.actual()))
    return ok


def relax(tap, g, label):
    """A decision of the module's own: with relax_after_ms on, each tick
    gives some memory back; off again once the target moved by 8 MiB."""
    before = g.target()
    sysfs_write("policy/relax_after_ms", 300)
    ok = wait_for(lambda: g.target() <= before - 8, 60)
    sysfs_write("policy/relax_after_ms", 0)
    ok = ok and wait_for(g.settled)
    tap.ok(ok, "%s: the module relaxes the balloon, the guest follows"
           % label, "target %d -> %d MiB, actual %d, reason %s" % (
               before, g.target(), g.actual(),
               sysfs("vms/%d/last_reason" % g.vm_id)))
    return ok


def check_migrated(tap, src, dst, tgt, act, mt):
    """After a completed migration: one registration, the balloon kept."""
    src_gone = wait_for(lambda: src.vm_id not in vm_dirs(), 30)
    tap.ok(src_gone and vm_dirs() == [dst.vm_id] and
           sysfs("nr_vms") == "1",
           "migration: the module shows exactly one registration, the "
           "destination's", "vms %s (source %d, destination %d), nr_vms %s"
           % (vm_dirs(), src.vm_id, dst.vm_id, sysfs("nr_vms")))
    tap.ok(runstate(src) == "postmigrate",
           "migration: the source stops after handing over",
           "source runstate %s" % runstate(src))
    ok = wait_for(lambda: dst.target() == tgt and dst.settled(), 30)
    tap.ok(ok and dst.actual() == act and balloon_mib(dst) == act,
           "migration: target and actual come back on the destination, in "
           "the module and in QMP", "target %d MiB (was %d), actual %d "
           "(was %d), QMP balloon %d, reason %s" % (
               dst.target(), tgt, dst.actual(), act, balloon_mib(dst),
               sysfs("vms/%d/last_reason" % dst.vm_id)))
    dst.ready = True
    ok = alive(dst)
    now_mt = settled_mt(dst)
    tap.ok(ok and now_mt == mt,
           "migration: the guest runs on the destination, its MemTotal "
           "as it was, without the balloon", "MemTotal %d MiB (%d on the "
           "source), balloon %d" % (now_mt, mt, act))


def doorbell_deflates(tap, g, label):
    """The workload wants more than the guest has: its doorbell deflates."""
    tgt, ev = g.target(), g.events()
    room = tgt - (RAM - CEILING)
    want = (g.get("av") + min(64, room // 2)) // 8 * 8
    g.send("grow %d" % want)
    ok = wait_for(lambda: g.events() > ev and g.target() < tgt)
    tap.ok(ok, "%s: the guest's doorbell rings and deflates it" % label,
           "guest events %d -> %d, target %d -> %d MiB, reason %s"
           % (ev, g.events(), tgt, g.target(),
              sysfs("vms/%d/last_reason" % g.vm_id)))
    ok = wait_for(lambda: g.get("held") >= want, 2 * WAIT)
    tap.ok(ok, "%s: the workload gets its %d MiB" % (label, want),
           "held %d MiB" % g.get("held"))
    g.send("free")
    wait_for(lambda: g.get("held") == 0)


def downtime_round(src, dst, label):
    info = migrate(src, "unix:" + SOCK)
    if info.get("status") != "completed":
        raise RuntimeError("%s: migration %s: %s" % (
            label, info.get("status"), info.get("error-desc")))
    return info.get("downtime"), info.get("total-time")


def test_migration(tap, qemu, kernel, initrd, accel):
    guests = []
    try:
        src = boot(tap, "M1", qemu, kernel, initrd, accel)
        guests.append(src)
        inflate(tap, src, "migration")
        tgt, act = src.target(), src.actual()
        mt = settled_mt(src)
        tap.ok(RAM - CEILING < act < RAM - FLOOR,
               "migration: the balloon is partly inflated (%d MiB)" % act,
               "actual %d, limits %d..%d" % (act, RAM - CEILING,
                                             RAM - FLOOR))

        # 1. No module on the destination's host.
        wrapper = "/tmp/kab-nomodule.sh"
        with open(wrapper, "w") as f:
            f.write(NO_MODULE_WRAPPER)
        os.chmod(wrapper, 0o755)
        if os.path.exists(SOCK):
            os.unlink(SOCK)
        nm = subprocess.run(
            ["unshare", "-m", "--propagation", "private", wrapper, qemu,
             "-L", "/usr/share/qemu", "-L", "/usr/share/seabios", "-M", "pc",
             "-accel", accel, "-m", str(RAM), "-nodefaults",
             "-display", "none", "-device",
             "virtio-balloon-pci,automatic=on", "-incoming",
             "unix:" + SOCK], capture_output=True, text=True, timeout=60)
        tap.ok(nm.returncode != 0 and "modprobe kvm_autoballoon" in
               nm.stderr, "no module: the destination refuses to start "
               "and says why", "exit %d: %s" % (nm.returncode,
                                                nm.stderr.strip()))
        info = migrate(src, "unix:" + SOCK)
        tap.ok(info.get("status") == "failed" and
               runstate(src) == "running" and src.present() and
               sysfs("nr_vms") == "1" and alive(src),
               "no module: the migration fails before it starts, the guest "
               "runs on, still registered", "migrate %s (%s), runstate %s, "
               "vms %s" % (info.get("status"), info.get("error-desc"),
                           runstate(src), vm_dirs()))

        # 2. A destination without automatic=on. Without the return path
        # the source cannot tell that the destination refused the stream:
        # it completes, and management resumes it (cont).
        plain = incoming("M1-plain", qemu, kernel, initrd, accel,
                         automatic=False)
        guests.append(plain)
        plain.connect()
        info = migrate(src, "unix:" + SOCK)
        wait_for(lambda: plain.proc.poll() is not None, 30)
        tap.ok(plain.proc.poll() not in (None, 0),
               "plain destination: the stream of an automatic=on balloon "
               "is refused", "destination exit %s: %s" % (
                   plain.proc.poll(), plain.lines[-3:]))
        if runstate(src) != "running":
            src.qmp.cmd("cont")
        ok = wait_for(lambda: runstate(src) == "running", 30)
        ok = ok and wait_for(lambda: "auto" in src.qmp.cmd("query-balloon"),
                             30)
        old_id = src.vm_id
        src.vm_id = src.qmp.cmd("query-balloon")["auto"]["vm-id"]
        ok = ok and wait_for(lambda: src.target() == tgt and src.settled(),
                             30)
        tap.ok(ok and vm_dirs() == [src.vm_id] and alive(src) and
               src.actual() == act,
               "plain destination: resumed with cont, the guest runs on the "
               "source, registered with its balloon as it was",
               "migrate %s, runstate %s, vms %s (was %d), target %d MiB "
               "(was %d), actual %d (was %d)" % (
                   info.get("status"), runstate(src), vm_dirs(), old_id,
                   src.target(), tgt, src.actual(), act))

        # 3. A destination with automatic=on.
        dst = incoming("M2", qemu, kernel, initrd, accel)
        guests.append(dst)
        dst.connect()
        tap.ok(sorted(vm_dirs()) == sorted([src.vm_id, dst.vm_id]),
               "migration: the incoming QEMU registers with its module at "
               "start", "vms %s" % vm_dirs())
        info = migrate(src, "unix:" + SOCK)
        if not tap.ok(info.get("status") == "completed",
                      "migration: completes with automatic=on (no blocker)",
                      "query-migrate %s" % info):
            return
        downtime_on = [info.get("downtime")]
        say("migration completed: downtime %s ms, total %s ms"
            % (info.get("downtime"), info.get("total-time")))
        check_migrated(tap, src, dst, tgt, act, mt)
        stop(src)
        tap.ok(vm_dirs() == [dst.vm_id],
               "migration: the source QEMU exits, the destination stays "
               "registered", "vms %s" % vm_dirs())

        # 4. The migrated guest is ballooned as before: its doorbell
        # deflates it, then host pressure inflates it (in this order: the
        # first inflation may have taken all the guest could spare).
        doorbell_deflates(tap, dst, "after migration")
        time.sleep(POLICY["guest_hold_ms"] / 1000 + 1)
        inflate(tap, dst, "after migration")

        # 5. Downtime: more rounds with automatic=on, then without.
        cur = dst
        for i in range(ROUNDS - 1):
            nxt = incoming("M%d" % (i + 3), qemu, kernel, initrd, accel)
            guests.append(nxt)
            nxt.connect()
            downtime_on.append(downtime_round(cur, nxt, "on")[0])
            wait_for(lambda: cur.vm_id not in vm_dirs(), 30)
            stop(cur)
            cur = nxt
            cur.ready = True
        tap.ok(vm_dirs() == [cur.vm_id] and alive(cur),
               "migration: after %d migrations, one registration and the "
               "guest runs" % ROUNDS, "vms %s" % vm_dirs())
        stop(cur)

        p = boot(tap, "P1", qemu, kernel, initrd, accel, automatic=False)
        guests.append(p)
        p.qmp.cmd("balloon", value=(RAM - act) * MIB)
        wait_for(lambda: balloon_mib(p) == act, WAIT)
        downtime_off = []
        cur = p
        for i in range(ROUNDS):
            nxt = incoming("P%d" % (i + 2), qemu, kernel, initrd, accel,
                           automatic=False)
            guests.append(nxt)
            nxt.connect()
            downtime_off.append(downtime_round(cur, nxt, "off")[0])
            stop(cur)
            cur = nxt
        tap.ok(balloon_mib(cur) == act and alive(cur),
               "plain balloon: %d migrations, the balloon kept" % ROUNDS,
               "balloon %d MiB" % balloon_mib(cur))
        text = ("migration downtime (query-migrate downtime, ms; %d MiB "
                "guest, %d MiB balloon, %s, %d migrations each): "
                "automatic=on %s (median %s), automatic=off %s (median %s)"
                % (RAM, act, accel, ROUNDS, downtime_on,
                   statistics.median(downtime_on), downtime_off,
                   statistics.median(downtime_off)))
        say(text)
        print("# " + text)
    finally:
        for g in guests:
            if g.proc.poll() is None:
                g.proc.kill()
            g.proc.wait()


def test_savevm(tap, qemu, kernel, initrd, accel):
    img = "/tmp/kab-snap.qcow2"
    if not shutil.which("qemu-img"):
        tap.skip("savevm/loadvm", "no qemu-img (package qemu-utils) to make "
                 "a qcow2 for the snapshot")
        return
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", img, "64M"],
                   check=True)
    g = None
    try:
        g = boot(tap, "S1", qemu, kernel, initrd, accel,
                 extra=["-drive", "if=none,id=snap,format=qcow2,file=" +
                        img])
        inflate(tap, g, "savevm")
        tgt, act = g.target(), g.actual()
        out = g.qmp.cmd("human-monitor-command", **{"command-line":
                                                    "savevm s1"})
        tap.ok(out.strip() == "" and runstate(g) == "running",
               "savevm: succeeds with automatic=on", "savevm said %r" % out)
        relax(tap, g, "savevm")
        moved = g.target()
        out = g.qmp.cmd("human-monitor-command", **{"command-line":
                                                    "loadvm s1"})
        ok = wait_for(lambda: g.target() == tgt and g.settled(), 30)
        tap.ok(out.strip() == "" and ok and g.actual() == act and
               balloon_mib(g) == act,
               "loadvm: target and actual come back, in the module and in "
               "QMP", "loadvm said %r; target %d MiB (saved %d, moved to %d)"
               ", actual %d (saved %d), QMP balloon %d, reason %s" % (
                   out, g.target(), tgt, moved, g.actual(), act,
                   balloon_mib(g), sysfs("vms/%d/last_reason" % g.vm_id)))
        tap.ok(vm_dirs() == [g.vm_id] and alive(g),
               "loadvm: one registration, the guest runs",
               "vms %s" % vm_dirs())
        relax(tap, g, "after loadvm")
    finally:
        if g:
            stop(g)
        os.unlink(img)


def test_reset(tap, qemu, kernel, initrd, accel):
    g = None
    sysfs_write("policy/host_step_pages_critical", RESET_STEP * PPM)
    try:
        g = boot(tap, "R1", qemu, kernel, initrd, accel)
        start = g.actual()
        # MemTotal plus the balloon: the guest's memory, whatever the
        # balloon holds (the driver takes ballooned pages off MemTotal).
        whole = settled_mt(g) + start
        # Host pressure gives a VM whose figures have not come yet (blind)
        # half a step: the figures first.
        wait_for(lambda: sysfs("vms/%d/guest_available_pages" % g.vm_id)
                 != "unknown")
        inject(g)
        ok = wait_for(lambda: g.target() >= start + RESET_STEP // 2)
        tgt = g.target()
        # The middle: the guest has given some, far from all.
        mid = wait_for(lambda: start + 8 <= g.actual() <= tgt - 32,
                       WAIT, 0.05)
        seq = g.attr("target_seq")
        act = g.actual()
        if not tap.ok(ok and mid, "reset: a large inflation is under way",
                      "target %d MiB, actual %d (from %d)"
                      % (tgt, act, start)):
            return
        g.ready = False
        g.send("reboot")
        say("reset: the guest reboots with %d of %d MiB inflated"
            % (act, tgt))
        ok = wait_for(lambda: g.actual() == 0, WAIT, 0.05)
        qmp0 = balloon_mib(g)
        figures = sysfs("vms/%d/guest_total_pages" % g.vm_id)
        tap.ok(ok and qmp0 == 0, "reset: QEMU and the module see the guest "
               "own all its memory (actual 0)",
               "module actual %d MiB, QMP balloon %d" % (g.actual(), qmp0))
        tap.ok(g.target() == tgt and g.attr("target_seq") == seq,
               "reset: the module keeps its target through the reboot",
               "target %d MiB (was %d), seq %d (was %d)"
               % (g.target(), tgt, g.attr("target_seq"), seq))
        tap.ok(figures == "unknown" or not g.ready,
               "reset: the module forgot the old guest's figures",
               "guest_total_pages %s" % figures)
        ok = wait_for(lambda: g.ready, WAIT)
        tap.ok(ok, "reset: the guest boots again and loads the driver",
               "last lines %s" % g.lines[-3:])
        # The module's target of now: the new guest's figures may have
        # moved it since (its reserve), never below the initial one.
        ok = wait_for(lambda: g.actual() >= RAM - CEILING and g.settled(),
                      WAIT)
        now_tgt = g.target()
        tap.ok(ok and RAM - CEILING <= now_tgt <= tgt,
               "reset: once the driver is back the guest inflates again, to "
               "the module's target", "target %d MiB (%d before the reboot, "
               "reason %s), actual %d, QMP balloon %d" % (
                   now_tgt, tgt, sysfs("vms/%d/last_reason" % g.vm_id),
                   g.actual(), balloon_mib(g)))
        say("reset: the guest is back at %d MiB of balloon (target %d "
            "before the reboot, last reason %s)" % (
                g.actual(), tgt, sysfs("vms/%d/last_reason" % g.vm_id)))
        mt = settled_mt(g)
        tap.ok(abs(mt + g.actual() - whole) <= 8,
               "reset: the rebooted guest's MemTotal is without the "
               "balloon", "MemTotal %d MiB + balloon %d MiB, %d before the "
               "reboot" % (mt, g.actual(), whole))
    finally:
        sysfs_write("policy/host_step_pages_critical", STEP * PPM)
        if g:
            stop(g)


def host_main(qemu, kernel, initrd):
    from balloon_auto import Tap
    tap = Tap()
    if not os.path.exists("/dev/kvm_autoballoon") or os.getuid() != 0:
        tap.skip("migration, savevm, reset", "needs root and "
                 "kvm_autoballoon loaded")
        return tap.finish()
    accel = default_accel()
    for k, v in POLICY.items():
        sysfs_write("policy/" + k, v)
    say("guests under %s, %d MiB, floor %d, ceiling %d; output in %s"
        % (accel, RAM, FLOOR, CEILING, OUT))
    for test in (test_migration, test_savevm, test_reset):
        try:
            test(tap, qemu, kernel, initrd, accel)
        except Exception as e:          # a step that could not go on
            tap.ok(False, "%s: ran to completion" % test.__name__,
                   "%s: %s" % (type(e).__name__, e))
        wait_for(lambda: sysfs("nr_vms") == "0", 30)
    tap.ok(sysfs("nr_vms") == "0", "no registration left behind",
           "vms %s" % vm_dirs())
    return tap.finish()


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "host":
        return host_main(*sys.argv[2:5])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
