#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Live migration downtime with and without automatic=on.

Runs in the test VM (bench/migration/run.sh) as

  migration.py QEMU KERNEL INITRAMFS

with the nested guest of qemu/tests/e2e_migrate.py (512 MiB, floor 160,
ceiling 448 MiB, our guest driver, nested KVM). Arm "automatic=on": the
guest boots with automatic=on, host pressure inflates its balloon once,
then it migrates KAB_MIG_ROUNDS times (default 10) between QEMUs on this
host over a unix socket, each destination registering with the module.
Arm "automatic=off": the same guest with a plain balloon, set with QMP
balloon to the same size, migrated as often. Arm "automatic=off, stats
1 s": the same, with the guest asked for its statistics every second
(guest-stats-polling-interval=1, set on every destination too, since it
is not migrated), as automatic=on asks by default: the difference between
the last two arms is what a guest reporting every second costs, the one
between the first and the last what automatic=on adds (the module's
registration, and our driver's pressure detection, which runs only with
the doorbell negotiated). Each migration's QMP
query-migrate "downtime" and "total-time" are recorded; the figures, with
median, minimum and maximum per arm, go to $KAB_OUT/migration.md, and
$KAB_OUT/migration.status is 0 when both arms were measured. No timed
assertion: the figures are the output.
"""

import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "qemu", "tests"))

import e2e_migrate as m  # noqa: E402
from balloon_auto import Tap  # noqa: E402
from kab_l2 import MIB, OUT, default_accel, say, sysfs_write  # noqa: E402

ROUNDS = int(os.environ.get("KAB_MIG_ROUNDS") or 10)


def poll_stats(g):
    g.qmp.cmd("qom-set", path="/machine/peripheral/bal",
              property="guest-stats-polling-interval", value=1)


def chain(first, automatic, qemu, kernel, initrd, accel, guests,
          stats=False):
    """Migrate ROUNDS times from @first on; [(downtime, total-time)]."""
    cur, out = first, []
    for i in range(ROUNDS):
        nxt = m.incoming("B%s%d" % ("a" if automatic else
                                    "s" if stats else "p", i), qemu,
                         kernel, initrd, accel, automatic=automatic)
        guests.append(nxt)
        nxt.connect()
        if stats:
            poll_stats(nxt)
        out.append(m.downtime_round(cur, nxt, "bench"))
        m.stop(cur)
        cur = nxt
        cur.ready = True
        say("%s: migration %d of %d: downtime %s ms, total %s ms" % (
            "automatic=on" if automatic else
            "automatic=off, stats 1 s" if stats else "automatic=off", i + 1,
            ROUNDS, out[-1][0], out[-1][1]))
    m.stop(cur)
    return out


def row(name, figs):
    down = [d for d, _ in figs]
    total = [t for _, t in figs]
    return "| %s | %s | %s | %s | %s | %s |" % (
        name, ", ".join(str(d) for d in down), statistics.median(down),
        min(down), max(down), statistics.median(total))


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    qemu, kernel, initrd = sys.argv[1:4]
    status = os.path.join(OUT, "migration.status")
    with open(status, "w") as f:
        f.write("1\n")
    tap = Tap()
    accel = default_accel()
    for k, v in m.POLICY.items():
        sysfs_write("policy/" + k, v)
    guests = []
    try:
        a = m.boot(tap, "BA", qemu, kernel, initrd, accel)
        guests.append(a)
        m.inflate(tap, a, "bench")
        act = a.actual()
        on = chain(a, True, qemu, kernel, initrd, accel, guests)
        p = m.boot(tap, "BP", qemu, kernel, initrd, accel, automatic=False)
        guests.append(p)
        p.qmp.cmd("balloon", value=(m.RAM - act) * MIB)
        m.wait_for(lambda: m.balloon_mib(p) == act, m.WAIT)
        off = chain(p, False, qemu, kernel, initrd, accel, guests)
        q = m.boot(tap, "BS", qemu, kernel, initrd, accel, automatic=False)
        guests.append(q)
        poll_stats(q)
        q.qmp.cmd("balloon", value=(m.RAM - act) * MIB)
        m.wait_for(lambda: m.balloon_mib(q) == act, m.WAIT)
        off_stats = chain(q, False, qemu, kernel, initrd, accel, guests,
                          stats=True)
    finally:
        for g in guests:
            if g.proc.poll() is None:
                g.proc.kill()
            g.proc.wait()
    text = [
        "%d migrations per arm of a %d MiB guest with a %d MiB balloon, "
        "%s, over a unix socket between two QEMUs of the test VM; QMP "
        "query-migrate figures in ms." % (ROUNDS, m.RAM, act, accel),
        "",
        "| arm | downtime, each | median | min | max | total-time median |",
        "|---|---|---|---|---|---|",
        row("automatic=on", on),
        row("automatic=off", off),
        row("automatic=off, stats 1 s", off_stats),
    ]
    with open(os.path.join(OUT, "migration.md"), "w") as f:
        f.write("\n".join(text) + "\n")
    print("\n".join("# " + t for t in text))
    with open(status, "w") as f:
        f.write("0\n")
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
