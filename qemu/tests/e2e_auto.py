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
  9. QEMU killed with SIGKILL: the module drops the VM.
Prints TAP; exits 0 all passed, 1 some failed, 4 all skipped.
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from balloon_auto import (BASE, PRESSURE_OFFSET, TIMEOUT,  # noqa: E402
                          VIRTIO_BALLOON_F_PRESSURE, Qemu, Tap, VirtioPci)

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
    for test in (test_qtest_guest, test_permission, test_kvm):
        try:
            test(tap, qemu)
        except Exception as e:
            tap.ok(False, "%s: ran to completion" % test.__name__,
                   "%s: %s" % (type(e).__name__, e))
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
