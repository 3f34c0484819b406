#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Userspace balloon daemons, the baselines of bench/reaction.

  baseline.py mom  FLOOR_MIB QMP_SOCKET...
  baseline.py psi  FLOOR_MIB QMP_SOCKET...

Each drives plain virtio-balloon-pci devices over QMP (`balloon`), the way
a userspace manager does, and prints one line per command it issued:

  balloon SOCKET BYTES ISSUED RETURNED

(times: CLOCK_MONOTONIC seconds, the clock of the benchmark's own
measurement). It runs until killed.

mom: a poller in the style of oVirt MOM's balloon rules. Every
KAB_MOM_TICK seconds (10) it reads the host's MemFree + Cached and each
guest's size (query-balloon actual) and free memory (the balloon's guest
statistics). Host free + cache under 20 % of MemTotal: each guest shrinks
by up to 5 % of its size, not below its used memory plus a share of its
size that scales with host free memory (at 5 % or less that share turns
negative: the guest is forced to give), nor below FLOOR_MIB; else it grows
by 5 % up to its RAM, keeping used + 20 %. Changes under 0.25 % of its
size are not made.

psi: an event-driven daemon. It arms a PSI trigger on /proc/pressure/memory
(KAB_PSI_TRIGGER, "some 150000 1000000") and on each event shrinks every
guest by KAB_PSI_STEP MiB (32), not below FLOOR_MIB.
"""

import os
import select
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../qemu/tests"))

from kab_l2 import MIB, Qmp, host_meminfo  # noqa: E402


class Managed:
    """One guest as a daemon sees it: its QMP monitor and last target."""

    def __init__(self, path):
        self.path = path
        self.qmp = Qmp(path)
        self.ram = self.qmp.cmd("query-balloon")["actual"]
        self.target = self.ram

    def actual(self):
        return self.qmp.cmd("query-balloon")["actual"]

    def free(self):
        """The guest's free memory (bytes) from the balloon statistics,
        0 while there are none yet."""
        try:
            st = self.qmp.cmd("qom-get", path="/machine/peripheral/bal",
                              property="guest-stats")["stats"]
        except RuntimeError:
            return 0
        return max(0, st.get("stat-free-memory", 0))

    def balloon(self, size):
        size = int(size) // 4096 * 4096
        issued = time.monotonic()
        self.qmp.cmd("balloon", value=size)
        print("balloon %s %d %.4f %.4f" % (self.path, size, issued,
                                           time.monotonic()), flush=True)
        self.target = size


def mom_tick(guests, floor):
    host = (host_meminfo("MemFree") + host_meminfo("Cached")) / \
        host_meminfo("MemTotal")
    for g in guests:
        cur = g.actual()
        used = cur - min(cur, g.free())
        if host < 0.20:
            share = host - 0.05 if host <= 0.05 else host
            size = max(cur * 0.95, floor, used + share * cur)
        else:
            size = max(min(cur * 1.05, g.ram), used + 0.20 * cur)
        size = min(size, g.ram)
        if abs(size - cur) > 0.0025 * cur:
            g.balloon(size)


def mom(guests, floor):
    tick = float(os.environ.get("KAB_MOM_TICK", "10"))
    for g in guests:
        g.qmp.cmd("qom-set", path="/machine/peripheral/bal",
                  property="guest-stats-polling-interval", value=2)
    while True:
        start = time.monotonic()
        mom_tick(guests, floor)
        time.sleep(max(0, tick - (time.monotonic() - start)))


def psi(guests, floor):
    trig = os.environ.get("KAB_PSI_TRIGGER", "some 150000 1000000")
    step = int(os.environ.get("KAB_PSI_STEP", "32")) * MIB
    fd = os.open("/proc/pressure/memory", os.O_RDWR | os.O_NONBLOCK)
    os.write(fd, trig.encode() + b"\0")
    poller = select.poll()
    poller.register(fd, select.POLLPRI)
    while True:
        for _, ev in poller.poll():
            if ev & select.POLLERR:
                sys.exit("psi: trigger gone")
            for g in guests:
                size = max(floor, g.target - step)
                if size < g.target:
                    g.balloon(size)


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("mom", "psi"):
        print(__doc__, file=sys.stderr)
        return 2
    floor = int(sys.argv[2]) * MIB
    guests = [Managed(p) for p in sys.argv[3:]]
    print("ready", flush=True)
    (mom if sys.argv[1] == "mom" else psi)(guests, floor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
