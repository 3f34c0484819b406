#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A libvirt domain whose balloon has automatic=on.

Runs in the test VM (qemu/tests/e2e-libvirt.sh boots it with
kvm_autoballoon loaded) as

  e2e_libvirt.py host QEMU KERNEL INITRAMFS

Debian 12's libvirtd (9.0) runs there, privileged, in a mount namespace of
its own whose /etc/libvirt, /var/lib, /var/cache and /var/log are tmpfs
(the test VM's root is the host's, read-only). The domain is the XML of
the "libvirt" section of Documentation/virt/kvm/autoballoon.rst, as it
stands there, with only its four paths (emulator, kernel, initramfs,
serial socket) replaced by this machine's: our QEMU, the nested guest of
kab_l2.py (a stock Debian kernel, our driver, the kab_guest workload).
The steps, each asserted from virsh, sysfs and the guest's own report:

  1. virsh starts the domain: QEMU runs with automatic=on, the limits from
     <qemu:override> and free-page-reporting from <memballoon>; the module
     shows the VM, owned by that QEMU;
  2. virsh dommemstat: actual is the module's target (total - ceiling
     at first), and the guest's statistics are there (period 1 s);
  3. virsh setmem --live: the manual target applies and holds (query-balloon
     target-source manual) until the module's next decision;
  4. host pressure (inject_host_pressure): the module's new target wins,
     dommemstat's actual follows it;
  5. virsh destroy: the module drops the VM; libvirtd stops.

Prints TAP; exits 0 all passed, 1 some failed, 4 all skipped.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from kab_l2 import (OUT, PPM, SYS, console_line, say, sysfs,  # noqa: E402
                    sysfs_write, wait_for)

RST = os.path.join(TOP, "Documentation/virt/kvm/autoballoon.rst")
MARK = ".. The domain XML below is used verbatim by qemu/tests/e2e_libvirt.py"
# The paths of the XML in the .rst, and what the test puts in their place.
DOC_QEMU = "/srv/kvm_autoballoon/build/qemu/obj/qemu-system-x86_64"
DOC_KERNEL = "/var/lib/libvirt/boot/vmlinuz-guest"
DOC_INITRD = "/var/lib/libvirt/boot/initrd-guest.img"
DOC_SERIAL = "/run/kab-guest.serial"
NAME = "kab-guest"
RAM = 512                       # MiB, as in the XML
FLOOR = 160
CEILING = 448
URI = "qemu:///system"
WAIT = 120
LV = "/tmp/kab-libvirt"
KVM_GID = 64054                 # the kvm group of DAEMON's /etc/group

# libvirtd's private mounts, users and qemu.conf. The libvirt-qemu user
# and the kvm group that Debian's libvirt-daemon-system would make (the
# test VM's /etc is the host's, read-only); QEMU runs as that user, as on a
# real host, with /dev/kvm_autoballoon in cgroup_device_acl (libvirt also
# makes the devices of that list in QEMU's own /dev). What differs from a
# real host: no cgroups (no systemd in the test VM), no chown of the
# kernel and initramfs (read-only here), logs to files, not virtlogd.
DAEMON = """#!/bin/sh
set -e
lv=$(dirname "$0")
cp /etc/passwd /etc/group "$lv/"
echo "libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin" \\
	>>"$lv/passwd"
printf 'libvirt-qemu:x:64055:\\nkvm:x:64054:libvirt-qemu\\n' >>"$lv/group"
mount --bind "$lv/passwd" /etc/passwd
mount --bind "$lv/group" /etc/group
for d in /var/lib /var/cache /var/log /etc/libvirt; do
	mount -t tmpfs -o mode=755 tmpfs "$d"
done
mkdir -p /var/lib/libvirt /var/cache/libvirt /var/log/libvirt
cat >/etc/libvirt/qemu.conf <<EOF
dynamic_ownership = 0
cgroup_device_acl = [ "/dev/null", "/dev/full", "/dev/zero",
                      "/dev/random", "/dev/urandom", "/dev/ptmx",
                      "/dev/kvm", "/dev/userfaultfd",
                      "/dev/kvm_autoballoon" ]
cgroup_controllers = [ ]
security_driver = "none"
stdio_handler = "file"
EOF
cat >/etc/libvirt/libvirtd.conf <<EOF
unix_sock_dir = "/run/libvirt"
EOF
exec libvirtd --pid-file /run/kab-libvirtd.pid
"""


def domain_xml():
    """The XML block after MARK in the .rst, dedented."""
    with open(RST) as f:
        lines = f.read().splitlines()
    i = lines.index(MARK)
    while not lines[i].rstrip().endswith("::"):
        i += 1
    i += 1
    block = []
    for line in lines[i:]:
        if line and not line.startswith(" "):
            break
        block.append(line)
    text = "\n".join(block).strip("\n")
    indent = min(len(ln) - len(ln.lstrip()) for ln in block if ln.strip())
    return "\n".join(ln[indent:] for ln in text.splitlines()) + "\n"


def progress(stage):
    """The last stage reached, in $KAB_OUT/progress (shared, synced): when
    the test VM stops responding, e2e-auto.sh reads where it stopped."""
    with open(os.path.join(OUT, "progress"), "a") as f:
        f.write(stage + "\n")
        f.flush()
        os.fsync(f.fileno())


def virsh(*args, check=True):
    """virsh ARGS; its output. Fails (raises) on an error when CHECK, and
    when it takes more than 120 s unless not CHECK."""
    try:
        p = subprocess.run(["virsh", "-c", URI] + list(args),
                           capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        if check:
            raise
        return ""
    if check and p.returncode:
        raise RuntimeError("virsh %s: %s" % (" ".join(args),
                                             p.stderr.strip()))
    return p.stdout


def virsh_ok(*args):
    """virsh ARGS succeeds within 30 s."""
    try:
        return subprocess.run(["virsh", "-c", URI] + list(args),
                              capture_output=True, timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def qmp(cmd, **args):
    msg = {"execute": cmd}
    if args:
        msg["arguments"] = args
    return json.loads(virsh("qemu-monitor-command", NAME,
                            json.dumps(msg)))["return"]


def memstat():
    out = {}
    for line in virsh("dommemstat", NAME).splitlines():
        if line.split() and len(line.split()) == 2:
            k, v = line.split()
            out[k] = int(v)
    return out


class Serial:
    """The guest's serial port, libvirt's <serial type='unix'>."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.f = self.sock.makefile("rw", newline="\n")
        self.ready, self.state, self.lines = False, {}, []
        self.splats = []
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.f:
            console_line(self, line)

    def send(self, line):
        self.f.write(line + "\n")
        self.f.flush()


def vm_attr(vm_id, name):
    return int(sysfs("vms/%d/%s" % (vm_id, name)))


def quiet_guest(vm_id):
    """Wait until the guest rang no medium/critical for guest_hold_ms."""
    hold = int(sysfs("policy/guest_hold_ms")) / 1000.0 + 0.5
    t_end = time.monotonic() + WAIT

    def rings():
        return (vm_attr(vm_id, "guest_events_medium"),
                vm_attr(vm_id, "guest_events_critical"))
    t0 = time.monotonic()
    first = last = rings()
    since = t0
    while time.monotonic() < t_end:
        time.sleep(0.2)
        now = rings()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= hold:
            break
    say("libvirt: guest medium/critical rings %s -> %s while waiting "
        "%.1f s for a quiet guest" % (first, last, time.monotonic() - t0))
    return time.monotonic() - since >= hold


def vm_state(vm_id):
    """Every file of vms/<id>/, for a failure's message."""
    try:
        names = sorted(os.listdir(os.path.join(SYS, "vms/%d" % vm_id)))
    except OSError as e:
        return "vms/%d: %s" % (vm_id, e.strerror)
    out = []
    for name in names:
        try:
            out.append("%s=%s" % (name, sysfs("vms/%d/%s" % (vm_id, name))))
        except OSError as e:
            out.append("%s: %s" % (name, e.strerror))
    return " ".join(out)


def run(tap, qemu, kernel, initrd):
    xml = domain_xml()
    for doc, real in ((DOC_QEMU, qemu), (DOC_KERNEL, kernel),
                      (DOC_INITRD, initrd), (DOC_SERIAL, LV + "/serial")):
        if doc not in xml:
            raise RuntimeError("the .rst's domain XML has no %s" % doc)
        xml = xml.replace(doc, real)
    with open(LV + "/domain.xml", "w") as f:
        f.write(xml)
    progress("virsh define")
    virsh("define", LV + "/domain.xml")
    progress("virsh start")
    virsh("start", NAME)
    pid = int(open("/run/libvirt/qemu/%s.pid" % NAME).read())
    cmdline = open("/proc/%d/cmdline" % pid).read().replace("\0", " ")
    vm_id = qmp("query-balloon")["auto"]["vm-id"]
    tap.ok(re.search(r'"automatic":true', cmdline) and
           re.search(r'"free-page-reporting":true', cmdline) and
           vm_attr(vm_id, "owner_pid") == pid and
           vm_attr(vm_id, "floor_pages") == FLOOR * PPM and
           vm_attr(vm_id, "ceiling_pages") == CEILING * PPM,
           "libvirt: virsh start runs QEMU with automatic=on, the limits of "
           "<qemu:override> and free page reporting; the module has the VM",
           "QEMU: %s; vms/%d owner_pid %d floor %d ceiling %d pages" % (
               cmdline, vm_id, vm_attr(vm_id, "owner_pid"),
               vm_attr(vm_id, "floor_pages"),
               vm_attr(vm_id, "ceiling_pages")))
    ser = Serial(LV + "/serial")
    ok = wait_for(lambda: ser.ready, WAIT)
    progress("guest up")
    tap.ok(ok, "libvirt: the guest boots and loads the driver",
           "last lines %s" % ser.lines[-3:])
    if not ok:
        return

    def follows():
        tgt = vm_attr(vm_id, "target_pages")
        m = memstat()
        return (vm_attr(vm_id, "actual_pages") == tgt and
                m.get("actual") == (RAM * PPM - tgt) * 4)
    ok = wait_for(follows, WAIT)
    m = memstat()
    tap.ok(ok and vm_attr(vm_id, "target_pages") == (RAM - CEILING) * PPM,
           "libvirt: dommemstat's actual is the module's target (total - "
           "ceiling at first)", "dommemstat %s, target %d pages" % (
               m, vm_attr(vm_id, "target_pages")))
    ok = wait_for(lambda: {"available", "usable", "last_update"} <=
                  set(memstat()), 30)
    tap.ok(ok, "libvirt: dommemstat has the guest's statistics (period 1 s)",
           "dommemstat %s" % memstat())

    seq = vm_attr(vm_id, "target_seq")
    virsh("setmem", NAME, "320M", "--live")
    ok = wait_for(lambda: memstat().get("actual") == 320 * 1024 and
                  vm_attr(vm_id, "actual_pages") == (RAM - 320) * PPM, WAIT)
    q = qmp("query-balloon")
    tap.ok(ok and q.get("target-source") == "manual" and
           vm_attr(vm_id, "target_seq") == seq,
           "libvirt: virsh setmem --live applies and holds (target-source "
           "manual; the module made no decision)", "dommemstat %s, "
           "query-balloon %s, seq %d -> %d" % (
               memstat(), q, seq, vm_attr(vm_id, "target_seq")))
    # Host critical against a guest at medium or critical pressure holds
    # (the rule table): a guest that rang as setmem squeezed it must have
    # been quiet for guest_hold_ms before the host event can inflate it.
    quiet = quiet_guest(vm_id)
    sysfs_write("inject_host_pressure", "critical %d" % vm_id)
    ok = wait_for(lambda: vm_attr(vm_id, "target_seq") > seq, 30)
    tgt = vm_attr(vm_id, "target_pages")
    ok = ok and wait_for(follows, WAIT)
    q = qmp("query-balloon")
    tap.ok(quiet and ok and q.get("target-source") == "automatic",
           "libvirt: the module's next decision wins over setmem, "
           "dommemstat follows it", "guest quiet before the host event: %s; "
           "module target %d MiB balloon (reason %s), dommemstat %s, "
           "query-balloon %s; vms/%d: %s" % (
               quiet, tgt // PPM, sysfs("vms/%d/last_reason" % vm_id),
               memstat(), q, vm_id, vm_state(vm_id)))
    say("libvirt: setmem 320M held, then the module's target (%d MiB "
        "balloon) took over" % (tgt // PPM))

    virsh("destroy", NAME)
    ok = wait_for(lambda: not os.path.isdir(os.path.join(SYS, "vms/%d"
                                                          % vm_id)), 30)
    tap.ok(ok and sysfs("nr_vms") == "0",
           "libvirt: virsh destroy, the module drops the VM",
           "nr_vms %s" % sysfs("nr_vms"))


def host_main(qemu, kernel, initrd):
    from balloon_auto import Tap
    tap = Tap()
    if not os.path.exists("/dev/kvm_autoballoon") or os.getuid() != 0:
        tap.skip("libvirt", "needs root and kvm_autoballoon loaded")
        return tap.finish()
    missing = [b for b in ("libvirtd", "virsh") if not shutil.which(b)]
    if missing:
        tap.skip("libvirt", "no %s: apt-get install libvirt-daemon "
                 "libvirt-daemon-driver-qemu libvirt-clients"
                 % " ".join(missing))
        return tap.finish()
    if not os.path.exists("/dev/kvm"):
        tap.skip("libvirt", "no /dev/kvm in the test VM (nested KVM): the "
                 "domain is type='kvm'")
        return tap.finish()
    if os.environ.get("KAB_IN_VM") != "1":
        tap.skip("libvirt", "runs only inside the test VM: it gives the "
                 "kvm group /dev/kvm and /dev/kvm_autoballoon")
        return tap.finish()
    # What udev rules do on a real host: the kvm group (KVM_GID, in the
    # namespace's /etc/group) may open both devices.
    for dev in ("/dev/kvm", "/dev/kvm_autoballoon"):
        os.chown(dev, -1, KVM_GID)
        os.chmod(dev, 0o660)
    progress("start")
    for k, v in {"block_after_inflate_ms": 0, "block_after_deflate_ms": 0,
                 "block_after_critical_ms": 0, "relax_after_ms": 0,
                 "stall_ms": 0}.items():
        sysfs_write("policy/" + k, v)
    shutil.rmtree(LV, ignore_errors=True)
    os.makedirs(LV)
    os.chmod(LV, 0o777)         # QEMU, as libvirt-qemu, makes the serial socket here
    with open(LV + "/daemon.sh", "w") as f:
        f.write(DAEMON)
    os.chmod(LV + "/daemon.sh", 0o755)
    log = open(LV + "/libvirtd.log", "w")
    daemon = subprocess.Popen(["unshare", "-m", "--propagation", "private",
                               LV + "/daemon.sh"], stdout=log,
                              stderr=subprocess.STDOUT)
    progress("libvirtd starting")
    try:
        ok = wait_for(lambda: os.path.exists("/run/libvirt/libvirt-sock") and
                      virsh_ok("version"), 60)
        progress("libvirtd up")
        ver = " ".join(ln.split(":", 1)[1].strip() for ln in
                       virsh("version", check=False).splitlines()
                       if ln.startswith(("Using library", "Running hyper")))
        if not tap.ok(ok, "libvirt: libvirtd runs in the test VM (%s)" % ver,
                      "libvirtd exit %s; log: %s" % (
                          daemon.poll(), open(LV + "/libvirtd.log").read())):
            return tap.finish()
        try:
            run(tap, qemu, kernel, initrd)
        except Exception as e:          # a step that could not go on
            log_path = "/proc/%d/root/var/log/libvirt/qemu/%s.log" % (
                daemon.pid, NAME)
            qlog = ""
            try:
                with open(log_path) as f:
                    qlog = f.read()[-2000:]
            except OSError:
                pass
            ps = subprocess.run(["ps", "-eo", "pid,stat,wchan:24,etime,args"],
                                capture_output=True, text=True).stdout
            ps = "\n".join(ln[:200] for ln in ps.splitlines()
                           if "qemu" in ln or "libvirt" in ln)
            try:
                with open(LV + "/libvirtd.log") as f:
                    dlog = f.read()[-3000:]
            except OSError:
                dlog = ""
            tap.ok(False, "libvirt: ran to completion", "%s: %s\nQEMU log: "
                   "%s\nprocesses:\n%s\nlibvirtd log:\n%s" % (
                       type(e).__name__, e, qlog, ps, dlog))
        virsh("destroy", NAME, check=False)
        virsh("undefine", NAME, check=False)
    finally:
        try:
            with open("/run/kab-libvirtd.pid") as f:
                os.kill(int(f.read()), 15)
        except (OSError, ValueError):
            pass
        daemon.terminate()
        daemon.wait()
    wait_for(lambda: sysfs("nr_vms") == "0", 30)
    progress("done")
    return tap.finish()


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "host":
        return host_main(*sys.argv[2:5])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
