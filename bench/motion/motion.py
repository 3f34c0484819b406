#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What moving a balloon costs a nested guest, page by page against page
runs (QEMU patch 0007).

Runs in the test VM (bench/motion/run.sh) as

  motion.py QEMU KERNEL INITRAMFS

One nested guest of KAB_MOTION_RAM MiB (768) with our driver and a plain
virtio-balloon-pci (no automatic=on: QMP moves it), booted afresh for each
phase, with x-page-runs=off (QEMU discards and hints every 4 KiB page on
its own, as Debian's QEMU does) or on (the default: consecutive pages of a
request as one range). Arms alternate (off, on, on, off, ...),
KAB_MOTION_ROUNDS (3) phases per arm. Each phase, with the guest idle:

  inflate  QMP balloon to RAM - KAB_MOTION_MIB (256) MiB; the time until
           QMP's actual says so;
  deflate  QMP balloon back to RAM; the time until actual is 0 again;
  refault  the guest's workload takes KAB_MOTION_MIB MiB (kab_guest "grow",
           anonymous memory, touched): the time until it holds it all,
           pages the host has to back again after the inflation threw
           them away;
  cpu      the QEMU process's CPU time (user + system, /proc/PID/stat)
           over inflate and deflate, per MiB moved both ways.

Writes $KAB_OUT/motion.md (every phase, then medians per arm and one line
"motion RELEASE: ...") and $KAB_OUT/motion.status (0 when both arms were
measured). No timed assertion: the figures are the output.
"""

import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "qemu", "tests"))

from e2e_migrate import balloon_mib  # noqa: E402
from kab_l2 import MIB, OUT, Guest, default_accel, say, wait_for  # noqa: E402

RAM = int(os.environ.get("KAB_MOTION_RAM") or 768)
MOVE = int(os.environ.get("KAB_MOTION_MIB") or 256)
ROUNDS = int(os.environ.get("KAB_MOTION_ROUNDS") or 3)
WAIT = 300


def cpu_s(pid):
    """User + system CPU seconds of process @pid."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(pred, timeout=WAIT):
    t = time.monotonic()
    ok = wait_for(pred, timeout, 0.05)
    return time.monotonic() - t if ok else None


def phase(arm, n, qemu, kernel, initrd, accel):
    g = Guest("M%s%d" % (arm, n), qemu, kernel, initrd, accel, ram=RAM,
              automatic=False, device_extra=",x-page-runs=%s" % arm)
    try:
        g.connect()
        if not wait_for(lambda: g.ready, WAIT):
            raise RuntimeError("guest not ready: %s" % g.lines[-3:])
        time.sleep(2)
        c0 = cpu_s(g.proc.pid)
        g.qmp.cmd("balloon", value=(RAM - MOVE) * MIB)
        inflate = timed(lambda: balloon_mib(g) >= MOVE)
        g.qmp.cmd("balloon", value=RAM * MIB)
        deflate = timed(lambda: balloon_mib(g) == 0)
        cpu = cpu_s(g.proc.pid) - c0
        g.send("grow %d" % MOVE)
        refault = timed(lambda: g.get("held") >= MOVE)
        r = {"arm": arm, "n": n, "inflate": inflate, "deflate": deflate,
             "refault": refault, "cpu": cpu}
        say("x-page-runs=%s %d: inflate %s s, deflate %s s, refault %s s, "
            "QEMU CPU %.2f s" % (arm, n, secs(inflate), secs(deflate),
                                 secs(refault), cpu))
        return r
    finally:
        g.proc.kill()
        g.proc.wait()


def secs(s):
    return "-" if s is None else "%.2f" % s


def rate(s):
    return "-" if s is None else "%.1f" % (MOVE / s)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    qemu, kernel, initrd = sys.argv[1:]
    accel = default_accel()
    release = os.uname().release
    status = os.path.join(OUT, "motion.status")
    with open(status, "w") as f:
        f.write("1\n")
    order = []
    for i in range(ROUNDS):
        order += [("off", "on"), ("on", "off")][i % 2]
    res = []
    for i, arm in enumerate(order):
        try:
            res.append(phase(arm, i // 2 + 1, qemu, kernel, initrd, accel))
        except Exception as e:      # a phase that failed: said, not counted
            say("%s phase %d failed: %s: %s" % (arm, i, type(e).__name__, e))
    lines = ["Guest %d MiB under %s, our driver, a plain balloon moved %d MiB "
             "by QMP and back, idle; arms alternate. MiB/s from the QMP "
             "command to QMP's actual; refault: the guest's workload "
             "taking %d MiB after the deflation; CPU: the QEMU process's "
             "user + system time over inflation and deflation." %
             (RAM, accel, MOVE, MOVE), "",
             "| phase | inflate (MiB/s) | deflate (MiB/s) | refault (MiB/s) "
             "| QEMU CPU (ms per MiB moved) |", "|---|---|---|---|---|"]
    for r in res:
        lines.append("| x-page-runs=%s %d | %s | %s | %s | %.1f |" % (
            r["arm"], r["n"], rate(r["inflate"]), rate(r["deflate"]),
            rate(r["refault"]), r["cpu"] * 1000 / (2 * MOVE)))
    med = {}
    for arm in ("off", "on"):
        rs = [r for r in res if r["arm"] == arm]
        if not rs:
            continue

        def m(key, rs=rs):
            v = [r[key] for r in rs if r[key] is not None]
            return statistics.median(v) if v else None
        med[arm] = {k: m(k) for k in ("inflate", "deflate", "refault",
                                      "cpu")}
    lines.append("")
    if len(med) == 2 and all(med[a]["inflate"] and med[a]["deflate"]
                             for a in med):
        a, b = med["off"], med["on"]
        lines.append(
            "motion %s: inflate %s -> %s MiB/s, deflate %s -> %s MiB/s, "
            "refault %s -> %s MiB/s, QEMU CPU %.1f -> %.1f ms per MiB "
            "(medians of %d phases, x-page-runs off -> on)" % (
                release, rate(a["inflate"]), rate(b["inflate"]),
                rate(a["deflate"]), rate(b["deflate"]),
                rate(a["refault"]), rate(b["refault"]),
                a["cpu"] * 1000 / (2 * MOVE), b["cpu"] * 1000 / (2 * MOVE),
                ROUNDS))
        ok = True
    else:
        lines.append("motion %s: not measured in both arms (see run.log)"
                     % release)
        ok = False
    with open(os.path.join(OUT, "motion.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    with open(status, "w") as f:
        f.write("0\n" if ok else "1\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
