#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""End to end: the patched QEMU with automatic=on against the real module.

Runs inside the test VM (qemu/tests/e2e-auto.sh starts it there), as root,
with kvm_autoballoon loaded:

  qemu/tests/e2e_auto.py QEMU_BINARY

The balloon's guest side is a tiny virtio-pci driver over qtest (see
balloon_auto.py), so every step is deterministic and needs no guest kernel:

  1. automatic=on realizes; the VM appears in sysfs with the device's total,
     floor, ceiling and weight, owned by QEMU; query-balloon reports its id;
  2. the initial target (total - ceiling) is applied, set by automatic;
  3. actual written by the "guest" reaches the module (KAB_VM_SET_ACTUAL);
  4. balloon-inject-host-pressure inflates: a newer target is applied;
  5. a manual balloon wins until the module's next change, which wins back;
  6. doorbell writes reach the module's guest-pressure counters and deflate;
  7. without permission on /dev/kvm_autoballoon realize says so;
  8. with KVM (nested), automatic=on registers the KVM VM fd;
  9. QEMU killed with SIGKILL: the module drops the VM;
 10. the guest's statistics (a buffer on the stats queue, as any driver
     sends it) reach vms/<id>/guest_*; the round trip from the guest's
     buffer to sysfs is printed as a TAP comment; the device asks again
     after auto-stats-interval (virtual clock, stepped by the test) and
     not before, and never with auto-stats-interval=0; a guest that
     claims more memory than it has is refused and changes nothing.
Prints TAP; exits 0 all passed, 1 some failed, 4 all skipped.
"""

import json
import os
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from balloon_auto import (BASE, PRESSURE_OFFSET, TIMEOUT,  # noqa: E402
                          VIRTIO_BALLOON_F_PRESSURE, OutQueue, Qemu, Tap,
                          VirtioPci)

SYS = "/sys/kernel/kvm_autoballoon"
MIB = 1 << 20
PAGE = 4096
RAM = 512 * MIB
FLOOR = 128 * MIB
CEILING = 448 * MIB
WEIGHT = 250
SLOT = 4
assert RAM == 512 * MIB and "512M" in BASE      # balloon_auto.BASE sets -m


def sysfs(path):
    with open(os.path.join(SYS, path)) as f:
        return f.read().strip()


def vm_attr(vm_id, name):
    return int(sysfs("vms/%d/%s" % (vm_id, name)))


def wait_for(pred, what):
    """Bounded wait for an event (not a speed assertion)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        val = pred()
        if val or time.monotonic() > deadline:
            return val
        time.sleep(0.05)


def zero_time_tunables():
    """Deterministic steps: every time-based policy behaviour off."""
    for name in os.listdir(os.path.join(SYS, "policy")):
        if name.endswith("_ms"):
            with open(os.path.join(SYS, "policy", name), "w") as f:
                f.write("0\n")


def device(extra=""):
    return ("virtio-balloon-pci,id=bal,addr=%d.0,automatic=on,"
            "auto-floor=%d,auto-ceiling=%d,auto-weight=%d%s"
            % (SLOT, FLOOR, CEILING, WEIGHT, extra))


def test_qtest_guest(tap, qemu):
    args = ["-machine", "q35"] + BASE + ["-device", device()]
    vm = Qemu(qemu, args, qtest=True)
    try:
        info = vm.cmd("query-balloon")
        auto = info.get("auto", {})
        vm_id = auto.get("vm-id", -1)
        if not tap.ok(info.get("automatic") is True and vm_id >= 0 and
                      os.path.isdir("%s/vms/%d" % (SYS, vm_id)),
                      "register: query-balloon names a VM present in sysfs",
                      "query-balloon: %s" % info):
            return
        want = {"total_pages": RAM // PAGE, "floor_pages": FLOOR // PAGE,
                "ceiling_pages": CEILING // PAGE, "weight": WEIGHT,
                "owner_pid": vm.proc.pid}
        got = {k: vm_attr(vm_id, k) for k in want}
        tap.ok(got == want, "register: sysfs shows the device's limits and "
               "QEMU as owner", "expected %s, got %s" % (want, got))

        initial = (RAM - CEILING) // PAGE
        info = wait_for(lambda: (lambda i: i if i.get("target-source") ==
                                 "automatic" else None)(
                                     vm.cmd("query-balloon")), "initial")
        tap.ok(info and info.get("target") == RAM - initial * PAGE and
               info["auto"]["reason"] == "initial",
               "initial target total - ceiling applied, set by automatic",
               "expected target %d bytes (balloon %d pages); got %s"
               % (RAM - initial * PAGE, initial, info))

        pci = VirtioPci(vm, SLOT)
        feats = pci.device_features()
        tap.ok(feats >> VIRTIO_BALLOON_F_PRESSURE & 1,
               "automatic=on offers feature 23", "features 0x%x" % feats)
        pci.negotiate((1 << VIRTIO_BALLOON_F_PRESSURE) | (1 << 32))
        pci.set_status(1 | 2 | 8 | 4)
        num_pages = pci.readl(pci.device + 0)
        tap.ok(num_pages == initial, "guest reads num_pages = module target",
               "expected %d, read %d" % (initial, num_pages))
        pci.writel(pci.device + 4, num_pages)        # the guest's actual
        got = wait_for(lambda: vm_attr(vm_id, "actual_pages") == num_pages,
                       "actual")
        tap.ok(got, "actual written by the guest reaches the module",
               "sysfs actual_pages %d, guest wrote %d"
               % (vm_attr(vm_id, "actual_pages"), num_pages))

        zero_time_tunables()
        seq0 = vm_attr(vm_id, "target_seq")
        vm.cmd("balloon-inject-host-pressure", level="medium")
        info = wait_for(lambda: (lambda i: i if i["auto"]["target-seq"] > seq0
                                 and i.get("target-source") == "automatic"
                                 and i.get("target") ==
                                 RAM - vm_attr(vm_id, "target_pages") * PAGE
                                 else None)(vm.cmd("query-balloon")),
                        "inflate")
        tgt = vm_attr(vm_id, "target_pages")
        tap.ok(info and tgt > initial and
               pci.readl(pci.device + 0) == tgt and
               info["auto"]["reason"] == "host-pressure" and
               vm_attr(vm_id, "host_events_medium") >= 1,
               "host pressure injected over QMP inflates, QEMU applies it",
               "initial %d pages, module target now %d, guest num_pages %d, "
               "query-balloon %s" % (initial, tgt,
                                     pci.readl(pci.device + 0), info))

        vm.cmd("balloon", value=RAM - 100 * MIB)
        info = vm.cmd("query-balloon")
        tap.ok(info.get("target-source") == "manual" and
               pci.readl(pci.device + 0) == 100 * MIB // PAGE,
               "who wins: a manual balloon applies at once",
               "query-balloon %s, num_pages %d" % (info,
                                                   pci.readl(pci.device)))
        seq1 = vm_attr(vm_id, "target_seq")
        vm.cmd("balloon-inject-host-pressure", level="low")
        info = wait_for(lambda: (lambda i: i if i["auto"]["target-seq"] >
                                 seq1 and i.get("target-source") ==
                                 "automatic" else None)(
                                     vm.cmd("query-balloon")), "resume")
        tgt = vm_attr(vm_id, "target_pages")
        tap.ok(info and pci.readl(pci.device + 0) == tgt,
               "who wins: the module's next target replaces the manual one",
               "module target %d, num_pages %d, query-balloon %s"
               % (tgt, pci.readl(pci.device + 0), info))

        before = vm_attr(vm_id, "target_pages")
        pci.writel(pci.device + PRESSURE_OFFSET, 2)
        got = wait_for(lambda: vm_attr(vm_id, "guest_events_medium") >= 1,
                       "doorbell")
        tap.ok(got, "doorbell write reaches the module's guest_events_medium",
               "guest_events_medium %d" % vm_attr(vm_id,
                                                  "guest_events_medium"))
        got = wait_for(lambda: vm_attr(vm_id, "target_pages") < before and
                       pci.readl(pci.device + 0) ==
                       vm_attr(vm_id, "target_pages"), "deflate")
        tap.ok(got, "guest pressure deflates and QEMU applies it",
               "target before %d, now %d, num_pages %d, last_reason %s"
               % (before, vm_attr(vm_id, "target_pages"),
                  pci.readl(pci.device + 0),
                  sysfs("vms/%d/last_reason" % vm_id)))
        gp = vm.cmd("query-balloon").get("guest-pressure", {})
        tap.ok(gp.get("medium") == vm_attr(vm_id, "guest_events_medium"),
               "query-balloon guest-pressure agrees with sysfs",
               "query-balloon %s, sysfs medium %d"
               % (gp, vm_attr(vm_id, "guest_events_medium")))

        os.kill(vm.proc.pid, signal.SIGKILL)
        vm.proc.wait(timeout=TIMEOUT)
        gone = wait_for(lambda: not os.path.exists("%s/vms/%d" %
                                                   (SYS, vm_id)), "gone")
        tap.ok(gone, "QEMU killed with SIGKILL: the module drops the VM",
               "%s/vms/%d still exists" % (SYS, vm_id))
    finally:
        vm.close()


# virtio-balloon statistics tags (virtio spec 5.5.6.3), and ours
S_SWAP_IN, S_MEMFREE, S_MEMTOT, S_AVAIL, S_CACHES = 0, 4, 5, 6, 7
S_KAB_COMMITTED = 0x8000
VIRTIO_BALLOON_F_STATS_VQ = 1
STATS_QUEUE = 2
GUEST_FIGURES = ("available", "free", "cache", "total", "committed")


def stats_buffer(pairs):
    """The driver's buffer: packed { le16 tag; le64 val } entries."""
    return b"".join(struct.pack("<HQ", tag, val) for tag, val in pairs)


def stats_round_trip(q, vm_id, data, updates):
    """Notify the device of @data and time until sysfs counts update
    number @updates; polls every millisecond (a figure, not an assertion).
    Returns the time in ms, or None after TIMEOUT."""
    q.put(data, kick=False)
    path = os.path.join(SYS, "vms/%d/guest_stats_updates" % vm_id)
    t0 = time.monotonic()
    q.kick()
    while time.monotonic() - t0 < TIMEOUT:
        with open(path) as f:
            if int(f.read()) >= updates:
                return (time.monotonic() - t0) * 1000
        time.sleep(0.001)
    return None


def guest_figures(vm_id):
    return {f: sysfs("vms/%d/guest_%s_pages" % (vm_id, f))
            for f in GUEST_FIGURES}


def stats_guest(qemu, extra=""):
    """A QEMU whose qtest driver has the statistics queue set up."""
    vm = Qemu(qemu, ["-machine", "q35"] + BASE + ["-device", device(extra)],
              qtest=True)
    vm_id = vm.cmd("query-balloon")["auto"]["vm-id"]
    pci = VirtioPci(vm, SLOT)
    if not pci.negotiate((1 << VIRTIO_BALLOON_F_STATS_VQ) | (1 << 32)):
        raise RuntimeError("FEATURES_OK refused for STATS_VQ")
    q = OutQueue(pci, STATS_QUEUE, 0x100000)
    pci.set_status(1 | 2 | 8 | 4)
    return vm, vm_id, q


def test_guest_stats(tap, qemu):
    vm, vm_id, q = stats_guest(qemu)
    try:
        before = guest_figures(vm_id)
        tap.ok(all(v == "unknown" for v in before.values()) and
               sysfs("vms/%d/guest_stats_age_ms" % vm_id) == "never",
               "stats: no figures before the guest sends any",
               "sysfs %s" % before)

        # Byte counts that are not page multiples: QEMU rounds down.
        figs = [(S_SWAP_IN, 7), (S_MEMFREE, 100 * MIB + 123),
                (S_MEMTOT, 480 * MIB), (S_AVAIL, 300 * MIB + 4095),
                (S_CACHES, 150 * MIB), (S_KAB_COMMITTED, 900 * MIB)]
        rtt_ms = stats_round_trip(q, vm_id, stats_buffer(figs), 1)
        got = rtt_ms is not None
        want = {"available": str(300 * MIB // PAGE),
                "free": str(100 * MIB // PAGE),
                "cache": str(150 * MIB // PAGE),
                "total": str(480 * MIB // PAGE),
                "committed": str(900 * MIB // PAGE)}
        now = guest_figures(vm_id)
        tap.ok(got and now == want,
               "stats: the guest's figures reach vms/<id>/ in 4 KiB pages",
               "expected %s, sysfs %s" % (want, now))
        if got:
            print("# stats round trip (qtest guest buffer -> sysfs): %.1f ms"
                  % rtt_ms)

        tap.ok(q.used_idx() == 0, "stats: the device keeps the buffer until "
               "auto-stats-interval", "used idx %d" % q.used_idx())
        vm.qtest("clock_step %d" % (999 * 1000 * 1000))
        early = q.used_idx()
        vm.qtest("clock_step %d" % (2 * 1000 * 1000))
        asked = wait_for(lambda: q.used_idx() == 1, "ask")
        tap.ok(early == 0 and asked,
               "stats: the device asks again 1000 ms (virtual) later",
               "used idx %d at 999 ms, %d at 1001 ms" % (early, q.used_idx()))

        # A guest lying about its size: refused whole, nothing changes.
        q.put(stats_buffer([(S_MEMFREE, 1 * MIB), (S_MEMTOT, 2 * RAM)]))
        time.sleep(0.5)
        tap.ok(vm_attr(vm_id, "guest_stats_updates") == 1 and
               guest_figures(vm_id) == want and vm.proc.poll() is None,
               "stats: total above the VM's RAM is refused, nothing applied",
               "updates %d, sysfs %s"
               % (vm_attr(vm_id, "guest_stats_updates"),
                  guest_figures(vm_id)))

        # The stock driver's set: no committed figure.
        vm.qtest("clock_step %d" % (1001 * 1000 * 1000))
        wait_for(lambda: q.used_idx() == 2, "ask 2")
        rtt2_ms = stats_round_trip(q, vm_id, stats_buffer(
            [(S_MEMFREE, 200 * MIB), (S_MEMTOT, 480 * MIB),
             (S_AVAIL, 250 * MIB), (S_CACHES, 40 * MIB)]), 2)
        got = rtt2_ms is not None
        now = guest_figures(vm_id)
        tap.ok(got and now["free"] == str(200 * MIB // PAGE) and
               now["committed"] == "unknown",
               "stats: an update without committed replaces all figures",
               "sysfs %s" % now)
        if got:
            print("# stats round trip, second update: %.1f ms" % rtt2_ms)
    finally:
        err = vm.close()
    tap.ok("refused the guest's statistics" in err,
           "stats: QEMU warns about the refused update",
           "stderr: %s" % err.strip())

    vm, vm_id, q = stats_guest(qemu, ",auto-stats-interval=0")
    try:
        q.put(stats_buffer([(S_MEMFREE, 10 * MIB), (S_MEMTOT, 480 * MIB)]))
        got = wait_for(lambda: vm_attr(vm_id, "guest_stats_updates") >= 1,
                       "stats")
        vm.qtest("clock_step %d" % (10 * 1000 * 1000 * 1000))
        time.sleep(0.2)
        tap.ok(got and q.used_idx() == 0,
               "stats: auto-stats-interval=0 forwards the guest's own "
               "updates and never asks", "updates %d, used idx %d"
               % (vm_attr(vm_id, "guest_stats_updates"), q.used_idx()))
    finally:
        vm.close()


def test_permission(tap, qemu):
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
           qemu, "-machine", "q35", "-accel", "tcg", "-S"] + BASE + \
        ["-device", device()]
    if os.access("/dev/kvm_autoballoon", os.R_OK | os.W_OK) and \
            os.stat("/dev/kvm_autoballoon").st_mode & 0o006:
        tap.skip("permission: unprivileged realize",
                 "/dev/kvm_autoballoon is world-accessible")
        return
    p = subprocess.run(cmd, input="", capture_output=True, text=True,
                       timeout=TIMEOUT)
    tap.ok(p.returncode != 0 and "no permission" in p.stderr,
           "permission: realize as nobody fails saying why",
           "exit %d, stderr: %s" % (p.returncode, p.stderr))


def test_kvm(tap, qemu):
    if not os.path.exists("/dev/kvm"):
        tap.skip("kvm: automatic=on registers the KVM VM fd", "no /dev/kvm")
        return
    cmd = [qemu, "-machine", "q35", "-accel", "kvm", "-S"] + BASE + \
        ["-device", device(), "-qmp", "stdio"]
    p = subprocess.run(cmd, input='{"execute":"qmp_capabilities"}\n'
                       '{"execute":"query-balloon"}\n{"execute":"quit"}\n',
                       capture_output=True, text=True, timeout=TIMEOUT)
    info = {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        if isinstance(r.get("return"), dict) and "actual" in r["return"]:
            info = r["return"]
    tap.ok(p.returncode == 0 and info.get("automatic") is True and
           "vm-id" in info.get("auto", {}) and
           info.get("target-source") == "automatic",
           "kvm: automatic=on registers with the KVM VM fd",
           "exit %d, query-balloon %s, stderr: %s"
           % (p.returncode, info, p.stderr.strip()))


def main():
    tap = Tap()
    if len(sys.argv) < 2:
        print("usage: e2e_auto.py QEMU", file=sys.stderr)
        return 2
    qemu = sys.argv[1]
    if not os.path.exists("/dev/kvm_autoballoon"):
        tap.skip("e2e", "kvm_autoballoon is not loaded")
        return tap.finish()
    if os.getuid() != 0:
        tap.skip("e2e", "needs root (sysfs tunables, injection)")
        return tap.finish()
    for test in (test_qtest_guest, test_guest_stats, test_permission,
                 test_kvm):
        try:
            test(tap, qemu)
        except Exception as e:
            tap.ok(False, "%s: ran to completion" % test.__name__,
                   "%s: %s" % (type(e).__name__, e))
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
