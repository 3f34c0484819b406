# SPDX-License-Identifier: GPL-2.0
"""Reads the measurements of bench/rfc from its results.md.

  sections(paths) -> {(release, job): Section}

bench/rfc/run.sh writes one section per kernel release and job, between
`<!-- bench section RELEASE[-JOB] -->` and `<!-- bench end ... -->`. A
section without a job tag is of the job `build 400 10`, which is today's
job hard. Of each section this reads the table "Means over rounds" (one
row per arm), the per-phase table (one row per arm and round) and the
table of kvm_autoballoon's counters (one row per guest of an auto phase).
"""

import glob
import os
import re
import time

SECTION = re.compile(r"<!-- bench section (\S+) -->")
END = re.compile(r"<!-- bench end (\S+) -->")
MEASURED_AT = re.compile(r"measured (\d{4}-\d\d-\d\d \d\d:\d\d UTC)")
MEMTOTAL = re.compile(r"host MemTotal (\d+) MiB")
AVAIL_UP = re.compile(r"guests up, host MemAvailable (\d+) MiB")
JOBS = ("rfc", "hard", "cache")


class Section:
    """One section: means[arm], phases[arm] (list of dicts), counters[arm]
    (list of per-guest dicts), at (when measured)."""

    def __init__(self, release, job):
        self.release = release
        self.job = job
        self.at = None
        self.means = {}
        self.phases = {}
        self.counters = {}
        self.memtotal = None
        self.avail_up = []


def _cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _num(cell):
    """A figure, None for '-'; '>=' (a lower bound) is dropped."""
    cell = cell.replace(">=", "").replace(",", "").strip()
    if cell in ("-", "", "n/a"):
        return None
    try:
        return float(cell)
    except ValueError:
        return None


def _nums(cell):
    return [_num(c) for c in cell.split(",")]


def _phase_row(head, cells):
    row = dict(zip(head, cells))
    arm, n = row["phase"].rsplit(" ", 1)
    ms = _nums(row.get("job runtimes (s)", "-"))
    out = {"arm": arm, "n": int(n), "done": row.get("all jobs done") == "yes",
           "wall": _num(row.get("wall (s)", "-")),
           "pswpout": _num(row.get("host pswpout (pages)", "-")),
           "pswpin": _num(row.get("host pswpin (pages)", "-")),
           "swap_peak": _num(row.get("swap peak (MiB)", "-")),
           "runtimes": ms,
           "ooms": sum(x or 0 for x in _nums(row.get("job OOM restarts",
                                                     "-"))),
           "capacity": _num(row.get("oracle C (MiB)", "-")),
           "minimum": _num(row.get("oracle minimum (pages)", "-"))}
    return arm, out


def _means_row(head, cells):
    row = dict(zip(head, cells))
    rt = row.get("job runtime (s)", "-")
    return row["arm"], {
        "phases": row.get("phases (all jobs done)", "0"),
        "pswpout": _num(row.get("host pswpout", "-")),
        "pswpin": _num(row.get("host pswpin", "-")),
        "swap_peak": _num(row.get("swap peak (MiB)", "-")),
        "job_mean_s": _num(rt), "job_lower": rt.startswith(">="),
        "ooms": _num(row.get("job OOM restarts (total)", "-"))}


def _counter_row(head, cells):
    row = dict(zip(head, cells))
    arm = row["phase"].rsplit(" ", 1)[0]
    return arm, {k: _num(v) for k, v in row.items() if k != "phase"}


def parse(text):
    out = {}
    cur = None
    head = kind = None
    for line in text.splitlines():
        m = SECTION.search(line)
        if m:
            tag = m.group(1)
            release, job = tag, "hard"
            for j in JOBS:
                if tag.endswith("-" + j):
                    release, job = tag[:-len(j) - 1], j
            cur = Section(release, job)
            out.setdefault((release, job), []).append(cur)
            head = kind = None
            continue
        if cur is None:
            continue
        if END.search(line):
            cur = None
            continue
        m = MEASURED_AT.search(line)
        if m and not cur.at:
            cur.at = m.group(1)
        m = MEMTOTAL.search(line)
        if m:
            cur.memtotal = float(m.group(1))
        m = AVAIL_UP.search(line)
        if m:
            cur.avail_up.append(float(m.group(1)))
        if not line.startswith("|"):
            head = kind = None
            continue
        cells = _cells(line)
        if head is None:
            head = cells
            if cells[:2] == ["phase", "all jobs done"]:
                kind = "phase"
            elif cells[:2] == ["arm", "phases (all jobs done)"]:
                kind = "means"
            elif cells[0] == "phase" and "inflations" in cells:
                kind = "counters"
            continue
        if set(line) <= set("|-: "):
            continue
        if kind == "phase":
            arm, row = _phase_row(head, cells)
            cur.phases.setdefault(arm, []).append(row)
        elif kind == "means":
            arm, row = _means_row(head, cells)
            if row["pswpout"] is not None:
                cur.means[arm] = row
        elif kind == "counters":
            arm, row = _counter_row(head, cells)
            cur.counters.setdefault(arm, []).append(row)
    return out


def merge(parts):
    """One Section of several of one release and job: each arm's figures
    from the newest section that measured it (arm_at[arm] says which)."""
    parts = sorted(parts, key=lambda p: p.at or "")
    out = Section(parts[0].release, parts[0].job)
    out.arm_at = {}
    for p in parts:
        out.at = p.at
        out.memtotal = p.memtotal or out.memtotal
        out.avail_up += p.avail_up
        for arm, row in p.means.items():
            out.means[arm] = row
            out.arm_at[arm] = p.at
            out.phases[arm] = p.phases.get(arm, [])
            out.counters[arm] = p.counters.get(arm, [])
    return out


def all_phases(text):
    """Every row of every per-phase table of @text, sections or not (the
    results.md of older runs had none): a list of dicts with "arm"."""
    out = []
    head = None
    for line in text.splitlines():
        if not line.startswith("|"):
            head = None
            continue
        cells = _cells(line)
        if head is None:
            head = cells if cells[:2] == ["phase", "all jobs done"] else []
            continue
        if not head or set(line) <= set("|-: "):
            continue
        out.append(_phase_row(head, cells)[1])
    return out


def phase_mean_runtime(row):
    """The mean job runtime of one phase, s; None if a job did not end."""
    ms = row["runtimes"]
    if not ms or any(x is None for x in ms):
        return None
    return sum(ms) / len(ms)


def raw_sections(path):
    """bench/rfc's raw output (build/bench/rfc/) as results.md sections:
    each out-TAG/rfc.md, as rfc.py wrote it for the run of that kernel and
    job, measured when the file was last written, with its run.log: what
    bench/rfc/run.sh puts into results.md at the end of all its runs."""
    out = []
    for d in sorted(glob.glob(os.path.join(path, "out-*"))):
        md = os.path.join(d, "rfc.md")
        if not os.path.exists(md):
            continue
        tag = os.path.basename(d)[len("out-"):]
        at = time.strftime("%Y-%m-%d %H:%M UTC",
                           time.gmtime(os.path.getmtime(md)))
        out.append("<!-- bench section %s -->" % tag)
        out.append("raw output %s, measured %s" % (d, at))
        log = os.path.join(d, "run.log")
        if os.path.exists(log):
            with open(log, errors="replace") as f:
                out += ["    " + x.rstrip("\n") for x in f
                        if x.startswith("#")]
        out.append("")
        with open(md, errors="replace") as f:
            out.append(f.read())
        out.append("<!-- bench end %s -->" % tag)
    return "\n".join(out)


def sections(paths):
    """{(release, job): Section}, merged over the sections of each, from
    one results.md or several (a list, or paths joined by ':'), or
    bench/rfc's raw output directory (raw_sections()); paths that do not
    exist are skipped."""
    if isinstance(paths, str):
        paths = paths.split(":")
    found, raw = {}, {}
    for path in paths:
        if os.path.isdir(path):
            into, text = raw, raw_sections(path)
        elif os.path.exists(path):
            with open(path) as f:
                into, text = found, f.read()
        else:
            continue
        for k, v in parse(text).items():
            into.setdefault(k, []).extend(v)
    # Raw output only where results.md has no section of that kernel and
    # job yet: what results.md has is the same run, as run.sh wrote it.
    for k, v in raw.items():
        found.setdefault(k, v)
    return {k: merge(v) for k, v in found.items()}


def newest(secs, job):
    """The newest section of @job per release: {release: Section}."""
    out = {}
    for (release, j), s in secs.items():
        if j == job:
            out[release] = s
    return out
