#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Nested guests for the end-to-end test, make demo and make bench.

Runs in the test VM (the "host"). A Guest is the patched QEMU with KVM (or
TCG), a stock Debian kernel and the initramfs of qemu/tests/guest/mkguest.sh,
whose /init (kab_guest.c) loads our guest driver and runs a workload that
the caller drives over the serial port (grow MIB, free, build MIB N, off)
and that reports its state there. Also: QMP, the module's sysfs, the host's
memory hog, and a sampler that writes a CSV.

  kab_l2.py hog MIB RATE     the host's memory hog (run by Hog)
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

SYS = "/sys/kernel/kvm_autoballoon"
MIB = 1 << 20
PAGE = 4096
PPM = MIB // PAGE               # pages per MiB
OUT = os.environ.get("KAB_OUT") or "/tmp"
WAIT = 120                      # default bound of wait_for, seconds
# KAB_E2E_TIMEOUT: a whole factor on every bound of wait_for (a debug
# kernel in the test VM boots the guests several times slower).
SCALE = int(os.environ.get("KAB_E2E_TIMEOUT") or 1)
# KAB_E2E_LIVE=S: the Recorder also prints a status line every S seconds.
LIVE = float(os.environ.get("KAB_E2E_LIVE") or 0)

T0 = time.monotonic()

# Console lines that mean a nested guest's kernel went wrong (as run-vm.sh's
# scan of the test VM's console). The guests boot with loglevel=5, so that
# warnings reach the console and nothing chattier does.
SPLAT = re.compile(r"Kernel panic|Oops|BUG:|WARNING:|general protection|"
                   r"KASAN|UBSAN|blocked for more than|soft lockup|"
                   r"hard LOCKUP|RCU stall|kernel BUG|"
                   r"Unable to handle kernel")


def now():
    return time.monotonic() - T0


def say(msg):
    print("# %6.1fs  %s" % (now(), msg), flush=True)


def sysfs(path):
    with open(os.path.join(SYS, path)) as f:
        return f.read().strip()


def sysfs_write(path, val):
    with open(os.path.join(SYS, path), "w") as f:
        f.write("%s\n" % val)


def vmstat(*keys):
    total = 0
    with open("/proc/vmstat") as f:
        for line in f:
            k, v = line.split()
            if k in keys or any(k.startswith(p + "_") for p in keys):
                total += int(v)
    return total


def host_meminfo(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024
    return -1


def default_accel():
    """The guests' accelerator: $KAB_E2E_ACCEL, else kvm when /dev/kvm
    is there (nested KVM in the test VM), else tcg."""
    return os.environ.get("KAB_E2E_ACCEL") or \
        ("kvm" if os.path.exists("/dev/kvm") else "tcg")


def wait_for(pred, timeout=WAIT, step=0.25):
    deadline = time.monotonic() + timeout * SCALE
    while True:
        val = pred()
        if val or time.monotonic() > deadline:
            return val
        time.sleep(step)


# ---- the host's memory hog ------------------------------------------------

def hog_main(mib, rate):
    """Grow to MIB MiB at RATE MiB/s, touched, then hold until killed."""
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("1000\n")
    hold, step = [], 8
    for _ in range(0, mib, step):
        chunk = bytearray(step * MIB)
        chunk[::PAGE] = b"\x01" * (len(chunk) // PAGE)
        hold.append(chunk)
        print(len(hold) * step, flush=True)
        time.sleep(step / rate)
    print("held", flush=True)
    signal.pause()


class Hog:
    def __init__(self, mib, rate):
        self.mib, self.held, self.done = mib, 0, False
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "hog", str(mib),
             str(rate)], stdout=subprocess.PIPE, text=True)
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.proc.stdout:
            line = line.strip()
            if line == "held":
                self.done = True
            elif line.isdigit():
                self.held = int(line)

    def stop(self):
        """Kill the hog; True if it was still alive (not OOM-killed)."""
        alive = self.proc.poll() is None
        if alive:
            self.proc.kill()
        self.proc.wait()
        self.held = 0
        return alive


# ---- one guest --------------------------------------------------------------

class Qmp:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.f = self.sock.makefile("rw")
        json.loads(self.f.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        with self.lock:
            self.f.write(json.dumps(msg) + "\n")
            self.f.flush()
            while True:
                r = json.loads(self.f.readline())
                if "event" in r:
                    continue
                if "error" in r:
                    raise RuntimeError("%s: %s" % (name, r["error"]["desc"]))
                return r["return"]


def console_line(con, line):
    """One line of a guest's console into @con: kab_guest's ready and
    state reports (con.ready, con.state), kernel splats (con.splats), the
    rest (con.lines)."""
    line = line.strip()
    if SPLAT.search(line):
        con.splats.append(line)
    if line.startswith("kabg: ready"):
        con.ready = True
    elif line.startswith("kabg: s "):
        # A line garbled by kernel messages on the same console (seen
        # after a migration) is not a report.
        kvs = [kv.split("=", 1) for kv in line.split()[2:]]
        if all(len(kv) == 2 for kv in kvs):
            con.state = dict(kvs)
    elif line:
        con.lines.append(line)


class Guest:
    def __init__(self, name, qemu, kernel, initrd, accel, ram=512,
                 automatic=True, floor=0, ceiling=0, weight=100,
                 device_extra="", append="", qemu_extra=()):
        """Start QEMU. automatic=False: a plain virtio-balloon-pci, for
        baselines that drive the balloon over QMP. device_extra: more
        properties of the balloon device (",deflate-on-oom=on"); append:
        more of the guest kernel's command line; qemu_extra: more QEMU
        arguments (a disk)."""
        self.name, self.weight, self.ram = name, weight, ram
        self.qmp_path = "/tmp/kab-e2e-%s.qmp" % name
        self.log = open(os.path.join(OUT, "e2e-guest-%s.log" % name), "w",
                        buffering=1)
        self.ready = False
        self.state = {}         # the last "kabg: s" line, parsed
        self.lines = []
        self.splats = []        # console lines matching SPLAT
        cpu = "kvm64,-vme" if accel == "kvm" else "qemu64"
        cmd = [qemu, "-L", "/usr/share/qemu", "-L", "/usr/share/seabios",
               "-M", "pc", "-accel", accel, "-cpu", cpu,
               "-m", str(ram), "-smp", "1", "-nodefaults",
               "-no-user-config", "-display", "none",
               "-kernel", kernel, "-initrd", initrd,
               "-append", ("console=ttyS0 quiet loglevel=5 panic=-1 " +
                           append).strip(),
               "-chardev", "stdio,id=ser,signal=off",
               "-serial", "chardev:ser",
               "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
               "-device", "virtio-balloon-pci,id=bal"]
        if automatic:
            cmd[-1] += (",automatic=on,auto-floor=%dM,auto-ceiling=%dM,"
                        "auto-weight=%d" % (floor, ceiling, weight))
        cmd[-1] += device_extra
        cmd += list(qemu_extra)
        self.automatic = automatic
        if os.path.exists(self.qmp_path):
            os.unlink(self.qmp_path)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self.read, daemon=True).start()
        self.qmp = None
        self.vm_id = None

    def read(self):
        for line in self.proc.stdout:
            self.log.write("%.1f %s" % (now(), line))
            console_line(self, line)

    def connect(self):
        if not wait_for(lambda: os.path.exists(self.qmp_path), 60):
            raise RuntimeError("%s: QEMU made no QMP socket: %s"
                               % (self.name, self.lines[-5:]))
        # The socket exists from QEMU's bind(); until its listen() a
        # connection is refused (seen under load in make check).
        deadline = time.monotonic() + 30
        while True:
            try:
                self.qmp = Qmp(self.qmp_path)
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline or \
                        self.proc.poll() is not None:
                    raise
                time.sleep(0.1)
        if self.automatic:
            self.vm_id = self.qmp.cmd("query-balloon")["auto"]["vm-id"]

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def get(self, key):
        """A value from the guest's last report (MiB; MemTotal in MiB)."""
        v = int(self.state.get(key, -1))
        return v // 1024 if key in ("mt", "av") and v >= 0 else v

    def attr(self, name):
        return int(sysfs("vms/%d/%s" % (self.vm_id, name)))

    def need_keep(self):
        """The policy's view of the guest, MiB: its need, and need +
        reserve (what host pressure leaves it); "" while unknown or for a
        guest without automatic=on."""
        try:
            need = self.attr("need_pages") // PPM
            return need, need + self.attr("reserve_pages") // PPM
        except (OSError, ValueError, TypeError):
            return "", ""

    def target(self):
        """The balloon target, MiB."""
        return self.attr("target_pages") // PPM

    def actual(self):
        return self.attr("actual_pages") // PPM

    def events(self):
        return sum(self.attr("guest_events_" + lv)
                   for lv in ("low", "medium", "critical"))

    def present(self):
        return self.vm_id is not None and \
            os.path.isdir(os.path.join(SYS, "vms/%d" % self.vm_id))

    def settled(self):
        """The guest has its target: QEMU, the module and MemTotal agree."""
        tgt = self.attr("target_pages")
        if self.attr("actual_pages") != tgt:
            return False
        q = self.qmp.cmd("query-balloon")
        return q["actual"] == self.ram * MIB - tgt * PAGE


class Recorder:
    """Samples everything every 0.5 s into a CSV, until stopped."""

    def __init__(self, guests, path):
        self.guests, self.hog, self.stop_ = guests, None, False
        self.f = open(path, "w", buffering=1)
        cols = ["t", "host_free", "host_avail", "host_pgscan", "hog"]
        for g in guests:
            cols += [g.name + "_" + c for c in
                     ("target", "actual", "memtotal", "demand", "held",
                      "need", "keep")]
        self.f.write(",".join(cols) + "\n")
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        next_live = 0
        while not self.stop_:
            row = [round(now(), 1), host_meminfo("MemFree"),
                   host_meminfo("MemAvailable"), vmstat("pgscan"),
                   self.hog.held if self.hog else 0]
            for g in self.guests:
                try:
                    tgt = g.ram - g.target()
                    act = g.ram - g.actual()
                except (OSError, ValueError, TypeError):
                    tgt = act = ""
                row += [tgt, act, g.get("mt"), g.get("dem"), g.get("held")]
                row += list(g.need_keep())
            self.f.write(",".join(str(x) for x in row) + "\n")
            if LIVE and time.monotonic() >= next_live:
                next_live = time.monotonic() + LIVE
                print("#   %6.1fs  host free %4d MiB, hog %4d | %s" % (
                    row[0], row[1], row[4], " | ".join(
                        "%s: allowed %s, MemTotal %s, holds %s of %s" %
                        (g.name, row[5 + 7 * i], row[7 + 7 * i],
                         row[9 + 7 * i], row[8 + 7 * i])
                        for i, g in enumerate(self.guests))), flush=True)
            time.sleep(0.5)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "hog":
        sys.exit(hog_main(int(sys.argv[2]), int(sys.argv[3])))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
