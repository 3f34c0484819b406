#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""End to end with a real guest: module, patched QEMU, guest driver.

Three levels. qemu/tests/e2e-guest.sh boots the test VM (level 1) with
kvm_autoballoon loaded and runs this file there as

  e2e_guest.py host QEMU DRIVER_KO

which boots a nested guest (level 2) with tools/testing/vm/run-vm.sh, the
patched QEMU, -device virtio-balloon-pci,automatic=on and the guest driver,
under nested KVM (so the doorbell is a real KVM ioeventfd) or TCG, and runs

  e2e_guest.py guest

inside it. The guest reports its MemTotal on stdout, which run-vm.sh passes
on as it comes; once it sees the inflation it runs a memory hog (until the
OOM killer, 90 s), then idles 30 s and ends.

Steps asserted from QMP, sysfs and the guest's MemTotal:
  1. registration and the initial target (total - ceiling) applied;
  2. the guest driver follows: actual reaches the target, the module is told;
  3. injected host pressure inflates, the guest follows, MemTotal drops;
  4. a memory hog in the guest rings the doorbell: the module counts guest
     pressure and deflates;
  5. QEMU ends: the module drops the VM.
Status: work in progress, not part of make check. The balloon path
works; the nested guest is the problem. Runs of 27 Nov (machine shared with
make check): under nested KVM the guest had not reached its command after
960 s (its 6.1 kernel also warns "XSAVE consistency problem" with -cpu host
on the test VM's TCG -cpu max, which run-vm.sh counts as kernel trouble),
while QEMU had applied targets seq 1 and 2 that the guest never read; so a
"does not follow" there is a guest not yet up. Under TCG
(KAB_E2E_ACCEL=tcg) the guest was up after 369 s, at its initial target
1 s later, and followed the raised target (13107 pages more) within 3 s.
Known gap: the host injects as soon as the initial target is reached, while
the guest may still be in its 5 s "settle" phase; it then takes the raise
as its baseline and never starts the hog (steps 4-5 wait in vain). The run
leaves the guest's output and QEMU's balloon trace in $KAB_OUT
(e2e-guest-output.log, e2e-qemu-trace.log) to follow it from outside.
Prints TAP; exits 0 all passed, 1 some failed, 4 all skipped.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

SYS = "/sys/kernel/kvm_autoballoon"
MIB = 1 << 20
PAGE = 4096
RAM_MIB = 1024
FLOOR_MIB = 256
CEILING_MIB = 960
WAIT = 240             # bound on each wait for the guest, seconds
BOOT_WAIT = 600        # bound on the nested guest's boot, seconds
# In the test VM's output directory (shared with the host) when there is
# one, to follow a run from outside while it goes.
LOG_DIR = os.environ.get("KAB_OUT") or "/tmp"
TRACE_LOG = os.path.join(LOG_DIR, "e2e-qemu-trace.log")
GUEST_LOG = os.path.join(LOG_DIR, "e2e-guest-output.log")


# ---- guest side ----------------------------------------------------------

def meminfo(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def driver_state():
    """The driver's balloon size and config interrupts, for the report."""
    units = "?"
    base = "/sys/bus/virtio/drivers/virtio_autoballoon"
    try:
        for d in os.listdir(base):
            path = os.path.join(base, d, "balloon", "units")
            if os.path.exists(path):
                with open(path) as f:
                    units = f.read().strip()
    except OSError:
        pass
    irqs = 0
    with open("/proc/interrupts") as f:
        for line in f:
            if "virtio" in line and "config" in line:
                irqs += sum(int(x) for x in line.split()[1:]
                            if x.isdigit())
    return "units %s config-irqs %d" % (units, irqs)


def hog_child():
    """Allocate and touch memory until the OOM killer takes this process."""
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("1000\n")
    hog = []
    while True:
        chunk = bytearray(16 * MIB)
        chunk[::PAGE] = b"\x01" * (len(chunk) // PAGE)
        hog.append(chunk)


def guest_main():
    """Report MemTotal on stdout; once inflated, hog until OOM, then idle.

    The test VM reads this stdout through run-vm.sh (the nested guest's /tmp
    is its own, so no shared directory is used).
    """
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("-1000\n")
    # "settle": wait until the initial inflation is over (MemTotal steady
    # for 5 s); "armed": wait for the host's inflation (40 MiB less).
    first, changed = meminfo("MemTotal"), time.monotonic()
    phase, hog, hog_end = "settle", None, 0
    deadline = time.monotonic() + 3 * WAIT
    while time.monotonic() < deadline:
        mem = meminfo("MemTotal")
        print("guest: memtotal %d phase %s %s" % (mem, phase, driver_state()),
              flush=True)
        if phase == "settle":
            if mem != first:
                first, changed = mem, time.monotonic()
            elif time.monotonic() - changed > 5:
                phase = "armed"
        if phase == "armed" and mem <= first - 40 * 1024:
            phase, hog_end = "hog", time.monotonic() + 90
        if phase == "hog":
            if hog and hog.poll() is not None:
                hog = None      # OOM-killed: start another
            if time.monotonic() > hog_end:
                if hog:
                    hog.kill()
                    hog.wait()
                phase, hog_end = "idle", time.monotonic() + 30
            elif not hog:
                hog = subprocess.Popen([sys.executable, __file__, "hog"])
        if phase == "idle" and time.monotonic() > hog_end:
            print("guest: done", flush=True)
            return 0
        time.sleep(0.5)
    print("guest: gave up waiting for the inflation", flush=True)
    return 1


# ---- host (test VM) side -------------------------------------------------

def sysfs(path):
    with open(os.path.join(SYS, path)) as f:
        return f.read().strip()


def vm_attr(vm_id, name):
    return int(sysfs("vms/%d/%s" % (vm_id, name)))


def wait_for(pred, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while True:
        val = pred()
        if val or time.monotonic() > deadline:
            return val
        time.sleep(0.2)


class Qmp:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(path)
        self.f = self.sock.makefile("rw")
        json.loads(self.f.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "event" in r:
                continue
            if "error" in r:
                raise RuntimeError("%s: %s" % (name, r["error"]["desc"]))
            return r["return"]


class GuestOutput:
    """Collects the nested run's output; the guest reports MemTotal there."""

    def __init__(self, stream):
        self.lines = []
        self.memtotal = -1
        self.thread = threading.Thread(target=self.read, args=(stream,),
                                       daemon=True)
        self.thread.start()

    def read(self, stream):
        try:
            log = open(GUEST_LOG, "w", buffering=1)
        except OSError:
            log = None
        for line in stream:
            if log:
                log.write("%.1f %s" % (time.monotonic(), line))
            line = line.rstrip("\n")
            self.lines.append(line)
            if line.startswith("guest: memtotal"):
                self.memtotal = int(line.split()[2])

    def last(self, prefix):
        got = [ln for ln in self.lines if ln.startswith(prefix)]
        return got[-1] if got else "(nothing yet)"


def guest_memtotal(out):
    return out.memtotal


def host_main(qemu, driver):
    from balloon_auto import Tap
    tap = Tap()
    if not os.path.exists("/dev/kvm_autoballoon") or os.getuid() != 0:
        tap.skip("e2e guest", "needs root and kvm_autoballoon loaded")
        return tap.finish()
    for name in os.listdir(os.path.join(SYS, "policy")):
        if name.endswith("_ms"):
            with open(os.path.join(SYS, "policy", name), "w") as f:
                f.write("0\n")

    sock = "/tmp/kab-e2e-qmp.sock"
    # KAB_E2E_ACCEL: kvm or tcg for the nested guest (default kvm when the
    # test VM has /dev/kvm).
    accel = os.environ.get("KAB_E2E_ACCEL") or \
        ("kvm" if os.path.exists("/dev/kvm") else "tcg")
    device = ("virtio-balloon-pci,id=bal,automatic=on,auto-floor=%dM,"
              "auto-ceiling=%dM" % (FLOOR_MIB, CEILING_MIB))
    # KAB_E2E_RUNVM: another run-vm.sh for the nested run (debugging).
    runvm = os.environ.get("KAB_E2E_RUNVM") or \
        os.path.join(TOP, "tools/testing/vm/run-vm.sh")
    cmd = [runvm,
           "--kernel", os.environ.get("KAB_RELEASE", "6.1"),
           "--accel", accel, "--mem", str(RAM_MIB), "--smp", "1",
           "--timeout", str(BOOT_WAIT + 3 * WAIT), "--no-kvm",
           "--module", driver, "--qemu", qemu,
           "--qemu-arg", "-L", "--qemu-arg", "/usr/share/qemu",
           "--qemu-arg", "-L", "--qemu-arg", "/usr/share/seabios",
           "--qemu-arg", "-device", "--qemu-arg", device,
           "--qemu-arg", "-qmp",
           "--qemu-arg", "unix:%s,server=on,wait=off" % sock,
           "--qemu-arg", "-D", "--qemu-arg", TRACE_LOG,
           "--qemu-arg", "-msg", "--qemu-arg", "timestamp=on",
           "--qemu-arg", "-trace", "--qemu-arg", "virtio_balloon_*_config",
           "--qemu-arg", "-trace", "--qemu-arg", "virtio_balloon_*target",
           "--qemu-arg", "-trace", "--qemu-arg", "virtio_pci_notify",
           # Every console byte is a nested exit: print warnings and worse.
           "--append", "loglevel=5",
           "--", "python3", os.path.abspath(__file__), "guest"]
    print("# nested guest under %s" % accel)
    start = time.monotonic()
    guest = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    out = GuestOutput(guest.stdout)
    try:
        run_steps(tap, out, sock, start)
    except Exception as e:
        tap.ok(False, "steps ran to completion", "%s: %s"
               % (type(e).__name__, e))
    finally:
        try:
            guest.wait(timeout=BOOT_WAIT + 3 * WAIT)
        except subprocess.TimeoutExpired:
            guest.kill()
            guest.wait()
        out.thread.join(timeout=10)
        text = "\n".join(ln for ln in out.lines
                         if not ln.startswith("guest: memtotal"))
    tap.ok(guest.returncode == 0, "nested guest run ended cleanly",
           "run-vm.sh exit %s, output tail:\n%s"
           % (guest.returncode, "\n".join(text.splitlines()[-20:])))
    print_trace()
    gone = wait_for(lambda: sysfs("nr_vms") == "0", 30)
    tap.ok(gone, "QEMU ended: the module dropped the VM",
           "nr_vms %s" % sysfs("nr_vms"))
    return tap.finish()


def print_trace():
    """QEMU's balloon trace: targets applied, config reads, interrupts."""
    try:
        with open(TRACE_LOG) as f:
            lines = f.read().splitlines()
    except OSError as e:
        print("# no QEMU trace: %s" % e)
        return
    keep, last = [], None
    for ln in lines:
        # Collapse runs of identical events (config reads, queue interrupts).
        key = ln.split(":", 1)[-1] if "virtio_balloon_get_config" in ln \
            or "virtio_pci_notify" in ln else ln
        if key == last:
            continue
        last = key
        keep.append(ln)
    print("# QEMU trace, %d lines, %d after collapsing; last 60:"
          % (len(lines), len(keep)))
    for ln in keep[-60:]:
        print("#   " + ln)


def run_steps(tap, out, sock, start):
    if not wait_for(lambda: os.path.exists(sock), 60):
        raise RuntimeError("QEMU never created its QMP socket")
    qmp = Qmp(sock)
    info = qmp.cmd("query-balloon")
    vm_id = info["auto"]["vm-id"]
    total = RAM_MIB * MIB // PAGE
    initial = total - CEILING_MIB * MIB // PAGE
    tap.ok(vm_attr(vm_id, "target_pages") == initial and
           info.get("target-source") == "automatic",
           "initial target total - ceiling applied by automatic",
           "sysfs target %d, expected %d; query-balloon %s"
           % (vm_attr(vm_id, "target_pages"), initial, info))

    # The nested boot alone takes minutes: wait for the guest's first report
    # before timing the steps.
    if not wait_for(lambda: guest_memtotal(out) > 0, BOOT_WAIT):
        raise RuntimeError("the nested guest did not report within %ds: %s"
                           % (BOOT_WAIT, out.last("")))
    print("# %.0fs: nested guest up and reporting"
          % (time.monotonic() - start))

    def actual_is(pages):
        i = qmp.cmd("query-balloon")
        return i["actual"] == RAM_MIB * MIB - pages * PAGE and \
            vm_attr(vm_id, "actual_pages") == pages
    ok = wait_for(lambda: actual_is(vm_attr(vm_id, "target_pages")))
    tap.ok(ok, "guest driver follows the initial target; module told actual",
           "after %.0fs: target %d, module actual %d, query-balloon %s"
           % (time.monotonic() - start, vm_attr(vm_id, "target_pages"),
              vm_attr(vm_id, "actual_pages"), qmp.cmd("query-balloon")))
    print("# %.0fs: guest at its initial target" % (time.monotonic() - start))

    mem0 = wait_for(lambda: guest_memtotal(out) > 0 and
                    guest_memtotal(out), 60)
    before = vm_attr(vm_id, "target_pages")
    qmp.cmd("balloon-inject-host-pressure", level="critical")
    ok = wait_for(lambda: vm_attr(vm_id, "target_pages") > before)
    tgt = vm_attr(vm_id, "target_pages")
    tap.ok(ok, "host pressure raises the module's target",
           "target before %d, now %d" % (before, tgt))
    ok = wait_for(lambda: actual_is(tgt))
    tap.ok(ok, "the guest inflates to the new target, reported back",
           "target %d, module actual %d, query-balloon %s, guest: %s"
           % (tgt, vm_attr(vm_id, "actual_pages"), qmp.cmd("query-balloon"),
              out.last("guest: ")))
    want_kb = mem0 - (tgt - before) * PAGE // 1024
    ok = wait_for(lambda: guest_memtotal(out) <= want_kb + 1024, 60)
    tap.ok(ok, "guest MemTotal drops by the inflation",
           "MemTotal before %d kB, now %d kB, expected about %d kB"
           % (mem0, guest_memtotal(out), want_kb))
    print("# %.0fs: inflated by %d pages" % (time.monotonic() - start,
                                              tgt - before))

    inflated = tgt
    # The guest starts its hog by itself once it sees the inflation.
    ok = wait_for(lambda: sum(vm_attr(vm_id, "guest_events_" + lv)
                              for lv in ("low", "medium", "critical")) > 0)
    tap.ok(ok, "a memory hog in the guest rings the doorbell, the module "
           "counts it", "guest events %s" % {
               lv: vm_attr(vm_id, "guest_events_" + lv)
               for lv in ("low", "medium", "critical")})
    ok = wait_for(lambda: vm_attr(vm_id, "target_pages") < inflated)
    tap.ok(ok, "guest pressure deflates the balloon",
           "target after inflation %d, now %d, last_reason %s"
           % (inflated, vm_attr(vm_id, "target_pages"),
              sysfs("vms/%d/last_reason" % vm_id)))
    print("# %.0fs: deflated to %d pages" % (time.monotonic() - start,
                                              vm_attr(vm_id, "target_pages")))
    info = qmp.cmd("query-balloon")
    tap.ok(info.get("guest-pressure", {}).get("critical", -1) ==
           vm_attr(vm_id, "guest_events_critical"),
           "query-balloon guest-pressure agrees with sysfs",
           "query-balloon %s" % info)


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "guest":
        return guest_main()
    if len(sys.argv) >= 2 and sys.argv[1] == "hog":
        return hog_child()
    if len(sys.argv) == 4 and sys.argv[1] == "host":
        return host_main(sys.argv[2], sys.argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
