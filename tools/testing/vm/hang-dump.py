#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What a hung test VM was doing, from the outside (run-vm.sh calls it
shortly before its timeout kills the VM).

    hang-dump.py RUN_DIR

Prints to stdout, through the test VM's QMP socket (RUN_DIR/qmp.sock):
its run state, every vCPU's registers (HLT=1 with IF set in RFLAGS: the
vCPU waits for an interrupt) and local APIC (its timer: armed or not).
Then it sends an NMI and watches for 10 s: a VM whose command output
(RUN_DIR/output.log) or console (RUN_DIR/console.log, less the kernel's
lines about the NMI itself) moves after it was idle with no interrupt to
come, and lost a wakeup; one that does not move is blocked for good. The
last line sums it up, for run-vm.sh's verdict:

    hang: vCPUs in HLT a of n; after an NMI the VM moved: yes|no
"""

import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "qemu", "tests"))

from kab_l2 import Qmp  # noqa: E402


NMI_LINE = re.compile(r"NMI|Dazed and confused|Do you have a strange")


def hmp(q, line):
    return q.cmd("human-monitor-command", **{"command-line": line})


def lines(path):
    """The file's lines, less the kernel's about an NMI."""
    try:
        with open(path, errors="replace") as f:
            return [ln for ln in f if not NMI_LINE.search(ln)]
    except OSError:
        return []


def look(q, tag):
    """One look at every vCPU; the number of them in HLT, and in all."""
    print("== %s: %s" % (tag, q.cmd("query-status")))
    regs = hmp(q, "info registers -a")
    print(regs)
    print(hmp(q, "info lapic"))
    cpus = re.findall(r"HLT=(\d)", regs)
    return sum(c == "1" for c in cpus), len(cpus)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    run = sys.argv[1]
    files = [os.path.join(run, f) for f in ("console.log", "output.log")]
    before = [len(lines(f)) for f in files]
    try:
        q = Qmp(os.path.join(run, "qmp.sock"))
        hlt, n = look(q, "hung")
        print("inject-nmi: %s" % q.cmd("inject-nmi"))
        time.sleep(10)
        after = [len(lines(f)) for f in files]
        look(q, "10 s after an NMI")
    except (OSError, ValueError, RuntimeError) as e:
        # QEMU's own main loop stuck (QMP answers from it): say so.
        print("hang: QMP did not answer (%s: %s)" % (type(e).__name__, e))
        return 1
    print("lines of console, output: %s before the NMI, %s after"
          % (before, after))
    print("hang: vCPUs in HLT %d of %d; after an NMI the VM moved: %s"
          % (hlt, n, "yes" if after != before else "no"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
