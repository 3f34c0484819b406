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

import json
import os
import re
import socket
import sys
import time


NMI_LINE = re.compile(r"NMI|Dazed and confused|Do you have a strange")


class Qmp:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
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
                return "error: " + r["error"]["desc"]
            return r["return"]

    def hmp(self, line):
        return self.cmd("human-monitor-command", **{"command-line": line})


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
    regs = q.hmp("info registers -a")
    print(regs)
    print(q.hmp("info lapic"))
    cpus = re.findall(r"HLT=(\d)", regs)
    return sum(c == "1" for c in cpus), len(cpus)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    run = sys.argv[1]
    files = [os.path.join(run, f) for f in ("console.log", "output.log")]
    try:
        q = Qmp(os.path.join(run, "qmp.sock"))
    except (OSError, ValueError) as e:
        print("hang: no QMP (%s)" % e)
        return 1
    before = [len(lines(f)) for f in files]
    hlt, n = look(q, "hung")
    print("inject-nmi: %s" % q.cmd("inject-nmi"))
    time.sleep(10)
    after = [len(lines(f)) for f in files]
    look(q, "10 s after an NMI")
    print("lines of console, output: %s before the NMI, %s after"
          % (before, after))
    print("hang: vCPUs in HLT %d of %d; after an NMI the VM moved: %s"
          % (hlt, n, "yes" if after != before else "no"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
