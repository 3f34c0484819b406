#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Relay QMP commands from a test VM's guest to its QEMU.

    qmp_relay.py SOCKET DIR

Runs on the host next to QEMU. Connects to QEMU's QMP unix socket SOCKET
(waiting for it to appear), then serves requests that the guest drops into
DIR, a directory shared with the guest over 9p: the guest writes
req.<id> (a JSON object {"execute": ..., "arguments": ...}), the relay
removes it, runs the command and writes resp.<id> (QEMU's JSON answer,
either {"return": ...} or {"error": ...}). Files appear by rename, so neither
side reads a half-written file. Exits when QEMU closes the socket.

One command is the relay's own, never sent to QEMU: "x-vab-host-rss"
answers {"return": {"pid": PID, "vmrss-kib": N}}, the VmRSS line of
/proc/PID/status of the QEMU process at the other end of the socket (its
peer credentials), so that a test inside the VM can see what its memory
costs the host.
"""

import json
import os
import socket
import struct
import sys
import time


def connect(path, timeout_s=120):
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            sock = socket.socket(socket.AF_UNIX)
            sock.connect(path)
            return sock
        except OSError:
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def answer(stream):
    """Next reply to a command, skipping asynchronous events."""
    while True:
        line = stream.readline()
        if not line:
            raise EOFError("QEMU closed the QMP socket")
        msg = json.loads(line)
        if "return" in msg or "error" in msg:
            return msg


def host_rss(sock):
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                            struct.calcsize("3i"))
    pid = struct.unpack("3i", creds)[0]
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return {"return": {"pid": pid,
                                   "vmrss-kib": int(line.split()[1])}}
    return {"error": {"class": "GenericError",
                      "desc": "no VmRSS for pid %d" % pid}}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: qmp_relay.py SOCKET DIR")
    path, shared = sys.argv[1], sys.argv[2]
    sock = connect(path)
    stream = sock.makefile("rw")
    json.loads(stream.readline())  # greeting
    stream.write(json.dumps({"execute": "qmp_capabilities"}) + "\n")
    stream.flush()
    answer(stream)
    try:
        while True:
            names = sorted(n for n in os.listdir(shared)
                           if n.startswith("req.") and not n.endswith(".tmp"))
            for name in names:
                req_path = os.path.join(shared, name)
                with open(req_path) as f:
                    req = json.load(f)
                os.unlink(req_path)
                if req.get("execute") == "x-vab-host-rss":
                    reply = host_rss(sock)
                else:
                    stream.write(json.dumps(req) + "\n")
                    stream.flush()
                    reply = answer(stream)
                resp = os.path.join(shared, "resp." + name[4:])
                with open(resp + ".tmp", "w") as f:
                    json.dump(reply, f)
                os.rename(resp + ".tmp", resp)
            if not names:
                time.sleep(0.005)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return


if __name__ == "__main__":
    main()
