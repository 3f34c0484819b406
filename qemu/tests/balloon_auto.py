#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Userspace tests of the patched QEMU's virtio-balloon automatic mode.

Needs no host module and no KVM: every QEMU runs under TCG or qtest.

  qemu/tests/balloon_auto.py [QEMU_BINARY]

Without an argument, runs qemu/build.sh (a no-op when the build is current)
and tests the binary it prints. Prints TAP; exits 0 all passed, 1 some
failed, 4 all skipped.

What is tested:
  - realize fails with a message saying what to do: automatic=on without
    /dev/kvm_autoballoon, limits out of range, a transport that cannot bind
    a configuration doorbell (legacy-only virtio-pci, virtio-mmio), and
    x-pressure-doorbell=on combined with automatic=on;
  - query-balloon, info balloon and the manual balloon command report the
    automatic state and who set the target;
  - balloon-inject-host-pressure refuses a balloon without automatic=on;
  - the pressure doorbell end to end through virtio-pci, driven by a tiny
    driver over the qtest protocol: feature bit 23 is offered only when
    asked; from FEATURES_OK each valid 4-byte write is caught by the eventfd
    binding and counts once, never reaching the device's config handler
    (checked with a trace event); reserved values, other widths and writes
    without the feature are ignored (counted as invalid); the field reads 0;
  - hot-unplug with the doorbell bound: the doorbell is unbound once,
    before the transport takes the region away, and QEMU goes on.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
FIRMWARE = ["-L", "/usr/share/qemu", "-L", "/usr/share/seabios"]
BASE = ["-nodefaults", "-display", "none", "-m", "512M"] + FIRMWARE
TIMEOUT = 60           # bound on any single QEMU run or wait, seconds

VIRTIO_BALLOON_F_PRESSURE = 23
PRESSURE_OFFSET = 20              # moved from 16: see the .rst


class Tap:
    def __init__(self):
        self.results = []

    def ok(self, cond, name, why=""):
        self.results.append(("ok" if cond else "not ok", name, why))
        return cond

    def skip(self, name, reason):
        self.results.append(("skip", name, reason))

    def finish(self):
        print("TAP version 13")
        print("1..%d" % len(self.results))
        failed = skipped = 0
        for i, (state, name, why) in enumerate(self.results, 1):
            if state == "skip":
                skipped += 1
                print("ok %d %s # SKIP %s" % (i, name, why))
                continue
            if state == "not ok":
                failed += 1
                for line in why.splitlines():
                    print("# " + line)
            print("%s %d %s" % (state, i, name))
        if failed:
            return 1
        if skipped == len(self.results):
            return 4
        return 0


def run_realize(qemu, device, machine="q35"):
    """Start QEMU stopped with one device; return (exit code, stderr)."""
    cmd = [qemu, "-machine", machine, "-accel", "tcg", "-S"] + BASE + \
        ["-device", device, "-qmp", "stdio"]
    p = subprocess.run(cmd, input='{"execute":"qmp_capabilities"}\n'
                       '{"execute":"quit"}\n', capture_output=True,
                       text=True, timeout=TIMEOUT)
    return p.returncode, p.stderr.strip()


class Qemu:
    """A QEMU with a QMP socket and, optionally, a qtest socket."""

    def __init__(self, qemu, args, qtest=False):
        self.dir = tempfile.mkdtemp(prefix="kab-qemu-")
        qmp_path = os.path.join(self.dir, "qmp.sock")
        self.qmp_srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.qmp_srv.bind(qmp_path)
        self.qmp_srv.listen(1)
        cmd = [qemu] + args + ["-qmp", "unix:" + qmp_path]
        if qtest:
            qt_path = os.path.join(self.dir, "qtest.sock")
            self.qt_srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.qt_srv.bind(qt_path)
            self.qt_srv.listen(1)
            cmd += ["-qtest", "unix:" + qt_path, "-qtest-log", "/dev/null",
                    "-accel", "qtest"]
        self.log = open(os.path.join(self.dir, "stderr"), "w+")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        self.qmp_srv.settimeout(TIMEOUT)
        self.qmp = self.qmp_srv.accept()[0]
        self.qmp.settimeout(TIMEOUT)
        self.qmp_file = self.qmp.makefile("rw")
        json.loads(self.qmp_file.readline())          # greeting
        self.cmd("qmp_capabilities")
        if qtest:
            self.qt_srv.settimeout(TIMEOUT)
            self.qt = self.qt_srv.accept()[0]
            self.qt.settimeout(TIMEOUT)
            self.qt_file = self.qt.makefile("rw")

    def cmd_raw(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.qmp_file.write(json.dumps(msg) + "\n")
        self.qmp_file.flush()
        while True:
            r = json.loads(self.qmp_file.readline())
            if "event" not in r:
                return r

    def cmd(self, name, **args):
        r = self.cmd_raw(name, **args)
        if "error" in r:
            raise RuntimeError("%s: %s" % (name, r["error"]["desc"]))
        return r["return"]

    def qtest(self, line):
        self.qt_file.write(line + "\n")
        self.qt_file.flush()
        while True:
            r = self.qt_file.readline().strip()
            if not r.startswith("IRQ"):
                break
        if not r.startswith("OK"):
            raise RuntimeError("qtest %r: %r" % (line, r))
        parts = r.split()
        return int(parts[1], 16) if len(parts) > 1 else None

    def close(self):
        try:
            self.cmd_raw("quit")
        except (OSError, ValueError):
            pass
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.seek(0)
        err = self.log.read()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return err


class VirtioPci:
    """Just enough of a virtio-pci modern driver, over qtest port/MMIO I/O."""

    BAR_BASE = 0xc0000000      # in q35's PCI hole, above MMCONFIG

    def __init__(self, vm, slot):
        self.vm = vm
        self.cfg = 0x80000000 | (slot << 11)
        self.caps = {}
        status = self.cfg_read(0x04) >> 16
        if not status & 0x10:
            raise RuntimeError("no PCI capability list")
        ptr = self.cfg_read(0x34) & 0xfc
        while ptr:
            head = self.cfg_read(ptr)
            if head & 0xff == 0x09:                  # vendor: virtio cap
                cfg_type = (head >> 24) & 0xff
                bar = self.cfg_read(ptr + 4) & 0xff
                off = self.cfg_read(ptr + 8)
                self.caps.setdefault(cfg_type, (bar, off))
                if cfg_type == 2 and not hasattr(self, "notify_mult"):
                    self.notify_mult = self.cfg_read(ptr + 16)
            ptr = (head >> 8) & 0xfc
        # common, notify, ISR, device config (5, PCI config access, has none)
        bars = {self.caps[t][0] for t in (1, 2, 3, 4) if t in self.caps}
        if len(bars) != 1:
            raise RuntimeError("virtio caps in BARs %s" % sorted(bars))
        bar = bars.pop()
        self.cfg_write(0x10 + 4 * bar, self.BAR_BASE)
        self.cfg_write(0x14 + 4 * bar, 0)            # 64-bit BAR high half
        self.cfg_write(0x04, 0x6)                    # memory, bus master
        self.common = self.BAR_BASE + self.caps[1][1]
        self.device = self.BAR_BASE + self.caps[4][1]
        self.notify = self.BAR_BASE + self.caps[2][1]

    def cfg_read(self, reg):
        self.vm.qtest("outl 0xcf8 0x%x" % (self.cfg | reg))
        return self.vm.qtest("inl 0xcfc")

    def cfg_write(self, reg, val):
        self.vm.qtest("outl 0xcf8 0x%x" % (self.cfg | reg))
        self.vm.qtest("outl 0xcfc 0x%x" % val)

    def readl(self, addr):
        return self.vm.qtest("readl 0x%x" % addr)

    def writel(self, addr, val):
        self.vm.qtest("writel 0x%x 0x%x" % (addr, val))

    def device_features(self):
        feats = 0
        for sel in (0, 1):
            self.writel(self.common + 0x00, sel)
            feats |= self.readl(self.common + 0x04) << (32 * sel)
        return feats

    def set_status(self, status):
        self.vm.qtest("writeb 0x%x 0x%x" % (self.common + 0x14, status))

    def get_status(self):
        return self.vm.qtest("readb 0x%x" % (self.common + 0x14))

    def negotiate(self, features):
        self.set_status(0)
        self.set_status(1 | 2)                       # ACKNOWLEDGE, DRIVER
        for sel in (0, 1):
            self.writel(self.common + 0x08, sel)
            self.writel(self.common + 0x0c,
                        (features >> (32 * sel)) & 0xffffffff)
        self.set_status(1 | 2 | 8)                   # FEATURES_OK
        return self.get_status() & 8 != 0


class OutQueue:
    """One split virtqueue whose buffers the driver fills (device-readable),
    in guest RAM at @base, set up before DRIVER_OK; one buffer at a time,
    as the statistics queue works."""

    def __init__(self, pci, index, base):
        self.pci, self.vm, self.index = pci, pci.vm, index
        pci.vm.qtest("writew 0x%x 0x%x" % (pci.common + 0x16, index))
        self.size = pci.vm.qtest("readw 0x%x" % (pci.common + 0x18))
        if not self.size:
            raise RuntimeError("queue %d does not exist" % index)
        self.desc = base
        self.avail = base + 16 * self.size
        self.used = (self.avail + 4 + 2 * self.size + 4095) & ~4095
        self.buf = self.used + 4096
        for addr in range(base, self.buf + 4096, 8):
            self.vm.qtest("writeq 0x%x 0x0" % addr)
        for off, addr in ((0x20, self.desc), (0x28, self.avail),
                          (0x30, self.used)):
            self.vm.qtest("writeq 0x%x 0x%x" % (pci.common + off, addr))
        notify_off = self.vm.qtest("readw 0x%x" % (pci.common + 0x1e))
        self.notify = pci.notify + notify_off * pci.notify_mult
        self.vm.qtest("writew 0x%x 0x1" % (pci.common + 0x1c))   # enable
        self.avail_idx = 0

    def used_idx(self):
        return self.vm.qtest("readw 0x%x" % (self.used + 2))

    def kick(self):
        self.vm.qtest("writew 0x%x 0x%x" % (self.notify, self.index))

    def put(self, data, kick=True):
        """Add one device-readable buffer holding @data; notify unless
        told not to (then kick() does)."""
        self.vm.qtest("write 0x%x %d 0x%s" % (self.buf, len(data), data.hex()))
        self.vm.qtest("writeq 0x%x 0x%x" % (self.desc, self.buf))
        self.vm.qtest("writel 0x%x 0x%x" % (self.desc + 8, len(data)))
        self.vm.qtest("writel 0x%x 0x0" % (self.desc + 12))   # flags, next
        self.vm.qtest("writew 0x%x 0x0" % (self.avail + 4 +
                                           2 * (self.avail_idx % self.size)))
        self.avail_idx += 1
        self.vm.qtest("writew 0x%x 0x%x" % (self.avail + 2,
                                            self.avail_idx & 0xffff))
        if kick:
            self.kick()


def qom_counts(vm):
    path = "/machine/peripheral/bal/virtio-backend"
    return {lvl: vm.cmd("qom-get", path=path, property="guest-pressure-" + lvl)
            for lvl in ("low", "medium", "critical", "invalid")}


def wait_counts(vm, want):
    """The main loop handles the eventfds: poll (bounded) until they settle."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        got = qom_counts(vm)
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def test_realize(tap, qemu):
    dev = "virtio-balloon-pci,id=bal"
    if os.path.exists("/dev/kvm_autoballoon"):
        tap.skip("realize: automatic=on without the module",
                 "/dev/kvm_autoballoon exists on this host")
    else:
        rc, err = run_realize(qemu, dev + ",automatic=on")
        tap.ok(rc != 0 and "modprobe kvm_autoballoon" in err,
               "realize: automatic=on without the module fails, says modprobe",
               "expected a failure naming 'modprobe kvm_autoballoon'; "
               "got exit %d, stderr: %s" % (rc, err))
    cases = [
        ("auto-floor above auto-ceiling",
         ",automatic=on,auto-floor=300M,auto-ceiling=200M",
         "auto-floor (314572800 bytes) is above auto-ceiling"),
        ("auto-ceiling above guest RAM",
         ",automatic=on,auto-ceiling=1G", "at most the guest RAM"),
        ("auto-weight 0", ",automatic=on,auto-weight=0",
         "auto-weight must be 1..10000, not 0"),
        ("auto-weight 10001", ",automatic=on,auto-weight=10001",
         "auto-weight must be 1..10000, not 10001"),
        ("legacy-only virtio-pci", ",automatic=on,disable-modern=on",
         "needs the modern virtio-pci interface"),
        ("doorbell test mode with automatic", ",automatic=on,"
         "x-pressure-doorbell=on", "drop it with automatic=on"),
    ]
    for name, props, want in cases:
        rc, err = run_realize(qemu, dev + props)
        tap.ok(rc != 0 and want in err, "realize: %s is refused" % name,
               "expected a failure containing %r; got exit %d, stderr: %s"
               % (want, rc, err))
    rc, err = run_realize(qemu, "virtio-balloon-device,x-pressure-doorbell=on",
                          machine="microvm")
    want = "cannot bind a configuration space doorbell"
    tap.ok(rc != 0 and want in err,
           "realize: virtio-mmio transport is refused with a clear error",
           "expected a failure containing %r; got exit %d, stderr: %s"
           % (want, rc, err))
    rc, err = run_realize(qemu, dev + ",x-pressure-doorbell=on")
    tap.ok(rc == 0, "realize: x-pressure-doorbell=on alone realizes",
           "expected exit 0; got %d, stderr: %s" % (rc, err))


def test_qmp(tap, qemu):
    vm = Qemu(qemu, ["-machine", "q35", "-accel", "tcg", "-S"] + BASE +
              ["-device", "virtio-balloon-pci,id=bal"])
    try:
        info = vm.cmd("query-balloon")
        tap.ok(info.get("automatic") is False and "target" not in info and
               "guest-pressure" not in info and "auto" not in info,
               "query-balloon: plain balloon shows automatic=false only",
               "got %s" % info)
        vm.cmd("balloon", value=384 << 20)
        info = vm.cmd("query-balloon")
        tap.ok(info.get("target") == 384 << 20 and
               info.get("target-source") == "manual",
               "query-balloon: manual balloon is the last target, by manual",
               "expected target %d source manual; got %s" % (384 << 20, info))
        hmp = vm.cmd("human-monitor-command", **{"command-line":
                                                 "info balloon"})
        tap.ok("automatic: off" in hmp and
               "target: 384 (set by manual)" in hmp,
               "info balloon: shows automatic off and the manual target",
               "got %r" % hmp)
        r = vm.cmd_raw("balloon-inject-host-pressure", level="medium")
        desc = r.get("error", {}).get("desc", "")
        tap.ok("does not have automatic=on" in desc,
               "balloon-inject-host-pressure: refused without automatic=on",
               "expected an error saying automatic=on is missing; got %s" % r)
        r = vm.cmd_raw("balloon-inject-host-pressure", level="bogus")
        tap.ok("error" in r,
               "balloon-inject-host-pressure: an unknown level is refused",
               "got %s" % r)
    finally:
        err = vm.close()
    tap.ok(err.strip() == "", "qmp run: QEMU printed nothing on stderr",
           "stderr: %s" % err)


def test_doorbell(tap, qemu):
    slot = 4
    args = ["-machine", "q35"] + BASE + \
        ["-device", "virtio-balloon-pci,id=bal,addr=%d.0,"
         "x-pressure-doorbell=on" % slot]
    plain = Qemu(qemu, ["-machine", "q35"] + BASE +
                 ["-device", "virtio-balloon-pci,id=bal,addr=%d.0" % slot],
                 qtest=True)
    try:
        feats = VirtioPci(plain, slot).device_features()
        tap.ok(not feats >> VIRTIO_BALLOON_F_PRESSURE & 1,
               "doorbell: feature 23 not offered without the property",
               "device features 0x%x" % feats)
    finally:
        plain.close()

    # The trace event fires only when a doorbell write reaches the device's
    # config handler (to be ignored), not when the eventfd binding takes it.
    trace_dir = tempfile.mkdtemp(prefix="kab-trace-")
    trace_log = os.path.join(trace_dir, "trace.log")
    args += ["-trace", "virtio_balloon_pressure", "-D", trace_log]
    vm = Qemu(qemu, args, qtest=True)
    try:
        pci = VirtioPci(vm, slot)
        feats = pci.device_features()
        if not tap.ok(feats >> VIRTIO_BALLOON_F_PRESSURE & 1,
                      "doorbell: feature 23 offered with x-pressure-doorbell",
                      "device features 0x%x" % feats):
            return
        tap.ok(pci.negotiate((1 << VIRTIO_BALLOON_F_PRESSURE) | (1 << 32)),
               "doorbell: FEATURES_OK with feature 23 and VERSION_1",
               "device status 0x%x" % pci.get_status())
        bell = pci.device + PRESSURE_OFFSET
        want = {"low": 0, "medium": 1, "critical": 0, "invalid": 0}
        pci.writel(bell, 2)         # FEATURES_OK, before DRIVER_OK
        got = wait_counts(vm, want)
        tap.ok(got == want, "doorbell: write after FEATURES_OK counted once",
               "expected %s, got %s" % (want, got))
        pci.set_status(1 | 2 | 8 | 4)                # DRIVER_OK
        for level in (1, 1, 3):
            pci.writel(bell, level)
        want = {"low": 2, "medium": 1, "critical": 1, "invalid": 0}
        got = wait_counts(vm, want)
        tap.ok(got == want, "doorbell: writes after DRIVER_OK counted once "
               "each", "expected %s, got %s" % (want, got))
        pci.writel(bell, 7)
        pci.writel(bell, 0xffffffff)
        vm.qtest("writew 0x%x 0x2" % bell)           # not a 4-byte write
        want["invalid"] = 3
        got = wait_counts(vm, want)
        tap.ok(got == want, "doorbell: reserved values and 2-byte writes "
               "are ignored (counted as invalid only)",
               "expected %s, got %s" % (want, got))
        val = pci.readl(bell)
        tap.ok(val == 0, "doorbell: the field reads as 0",
               "read 0x%x" % val)
        info = vm.cmd("query-balloon")
        gp = info.get("guest-pressure")
        tap.ok(gp == {"low": 2, "medium": 1, "critical": 1},
               "doorbell: query-balloon guest-pressure agrees with QOM",
               "got %s" % info)
        alias = {lvl: vm.cmd("qom-get", path="/machine/peripheral/bal",
                             property="guest-pressure-" + lvl)
                 for lvl in ("low", "medium", "critical", "invalid")}
        tap.ok(alias == got, "doorbell: the PCI device's QOM aliases agree",
               "virtio-backend %s, virtio-balloon-pci %s" % (got, alias))
        pci.negotiate(1 << 32)      # reset, then without feature 23
        pci.writel(bell, 1)
        want["invalid"] = 4
        got = wait_counts(vm, want)
        tap.ok(got == want, "doorbell: ignored when feature 23 is not "
               "negotiated", "expected %s, got %s" % (want, got))
        pci.negotiate((1 << VIRTIO_BALLOON_F_PRESSURE) | (1 << 32))
        pci.writel(bell, 3)
        want["critical"] = 2
        got = wait_counts(vm, want)
        tap.ok(got == want, "doorbell: after a reset, writes count once again",
               "expected %s, got %s" % (want, got))
        # Offset 16 is the working-set field of others: no doorbell there,
        # it reads 0, and the configuration is 24 bytes with the feature.
        pci.writel(pci.device + 16, 2)
        time.sleep(0.3)
        got = qom_counts(vm)
        tap.ok(got == want and pci.readl(pci.device + 16) == 0 and
               pci.readl(pci.device + PRESSURE_OFFSET) == 0,
               "doorbell: a level written at offset 16 notifies nothing, "
               "16 and %d read 0" % PRESSURE_OFFSET,
               "expected %s, got %s; offset 16 reads 0x%x"
               % (want, got, pci.readl(pci.device + 16)))
    finally:
        err = vm.close()
    tap.ok(err.strip() == "", "doorbell run: QEMU printed nothing on stderr",
           "stderr: %s" % err)
    # 9 writes: 5 valid, caught by the binding; 4 to ignore (2 reserved
    # values, 1 two-byte write, 1 without the feature) reach the device.
    # The write at offset 16 is not a doorbell write: it is not traced.
    try:
        with open(trace_log) as f:
            lines = [ln for ln in f if "virtio_balloon_pressure" in ln]
    except OSError as e:
        lines = ["(no trace log: %s)" % e]
    shutil.rmtree(trace_dir, ignore_errors=True)
    tap.ok(len(lines) == 4, "doorbell: valid writes never reach the device's "
           "config handler (4 of 9 writes traced there)",
           "expected 4 trace lines, got %d:\n%s" % (len(lines),
                                                   "".join(lines)))


def test_unplug(tap, qemu):
    """Unplug a balloon whose doorbell is bound (i440fx ACPI hotplug: the
    eject register stands in for the guest's _EJ0)."""
    slot = 4
    trace_dir = tempfile.mkdtemp(prefix="kab-trace-")
    trace_log = os.path.join(trace_dir, "trace.log")
    args = ["-machine", "pc"] + BASE + \
        ["-device", "virtio-balloon-pci,id=bal,addr=%d.0,"
         "x-pressure-doorbell=on" % slot,
         "-trace", "virtio_balloon_pressure_bind", "-D", trace_log]
    vm = Qemu(qemu, args, qtest=True)
    try:
        pci = VirtioPci(vm, slot)
        pci.negotiate((1 << VIRTIO_BALLOON_F_PRESSURE) | (1 << 32))
        pci.set_status(1 | 2 | 8 | 4)                # DRIVER_OK
        pci.writel(pci.device + PRESSURE_OFFSET, 1)
        want = {"low": 1, "medium": 0, "critical": 0, "invalid": 0}
        got = wait_counts(vm, want)
        tap.ok(got == want, "unplug: the doorbell is bound before unplug",
               "expected %s, got %s" % (want, got))
        vm.cmd("device_del", id="bal")
        vm.qtest("outl 0xae08 0x%x" % (1 << slot))   # PCI_EJ_BASE
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            devs = [d for b in vm.cmd("query-pci") for d in b["devices"]]
            if not any(d["slot"] == slot for d in devs):
                break
            time.sleep(0.1)
        tap.ok(not any(d["slot"] == slot for d in devs),
               "unplug: the balloon is gone and QEMU answers",
               "devices still at slot %d: %s" % (slot, devs))
        pci.writel(pci.device + PRESSURE_OFFSET, 1)  # no device there now
        tap.ok(vm.proc.poll() is None, "unplug: QEMU still runs after a "
               "write where the doorbell was", "exit %s" % vm.proc.poll())
    finally:
        err = vm.close()
    try:
        with open(trace_log) as f:
            binds = [ln.split()[-1] for ln in f
                     if "virtio_balloon_pressure_bind" in ln]
    except OSError as e:
        binds = ["(no trace log: %s)" % e]
    shutil.rmtree(trace_dir, ignore_errors=True)
    # Bound at FEATURES_OK (the reset before it unbinds nothing), unbound
    # once at unplug; an assertion in QEMU checks it came first.
    tap.ok(binds == ["1", "0"] and err.strip() == "",
           "unplug: bound once, unbound once, QEMU printed nothing",
           "bind trace %s; stderr: %s" % (binds, err))


def main():
    tap = Tap()
    if len(sys.argv) > 1:
        qemu = sys.argv[1]
    else:
        p = subprocess.run([os.path.join(TOP, "qemu", "build.sh")],
                           stdout=subprocess.PIPE, text=True)
        qemu = p.stdout.strip().splitlines()[-1] if p.returncode == 0 else ""
    if not qemu or not os.access(qemu, os.X_OK):
        tap.ok(False, "build: patched QEMU", "qemu/build.sh gave no binary")
        return tap.finish()
    if not os.path.exists("/usr/share/seabios/bios-256k.bin"):
        tap.skip("qemu balloon tests", "firmware missing: apt-get install "
                 "seabios qemu-system-data")
        return tap.finish()
    for test in (test_realize, test_qmp, test_doorbell, test_unplug):
        try:
            test(tap, qemu)
        except Exception as e:          # a crash of the harness is a failure
            tap.ok(False, "%s: ran to completion" % test.__name__,
                   "%s: %s" % (type(e).__name__, e))
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
