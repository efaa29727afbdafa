"""Measurement helpers for bench/run: one tool on one input.

  probe(cmd, counter)  one untimed-for-the-table run under /usr/bin/time: peak
                       RSS (%M), exit code, stderr, and the records the tool
                       printed, counted from its stdout by `counter` (its own
                       count: a peer that stops early is credited only with
                       what it printed). Its wall and CPU seconds are kept
                       for the slow peers that run only once.
  timed(cmd, runs, warmup)
                       hyperfine --shell=none --warmup W --runs R
                       --output=null: median/mean/min/max wall seconds and
                       mean user+sys CPU seconds, output to /dev/null.

Peak RSS comes from the probe run, not from the timed runs: hyperfine does not
report it, and reading its children's rusage would mix the runs.

Standard library only (bench/run is run by Debian's python3).
"""

import json
import os
import re
import subprocess
import tempfile
import time


def count_lines(stream):
    n = 0
    for block in iter(lambda: stream.read(1 << 20), b""):
        n += block.count(b"\n")
    return n


def count_pattern(pattern):
    """Counter of lines matching `pattern` (bytes regex, multiline)."""
    pat = re.compile(pattern, re.M)

    def counter(stream):
        tail = b""
        n = 0
        for block in iter(lambda: stream.read(1 << 20), b""):
            buf = tail + block
            cut = buf.rfind(b"\n") + 1
            n += len(pat.findall(buf[:cut]))
            tail = buf[cut:]
        return n + len(pat.findall(tail))

    return counter


def last_json_line(stream):
    """The last line of the output parsed as JSON (a dict), or {} if it is not."""
    lines = stream.read().decode("utf-8", "replace").strip().splitlines()
    try:
        v = json.loads(lines[-1]) if lines else {}
    except ValueError:
        return {}
    return v if isinstance(v, dict) else {}


def drain(stream):
    for _ in iter(lambda: stream.read(1 << 20), b""):
        pass
    return None


class Probe:
    def __init__(self, count, rc, rss_kib, wall, cpu, stderr):
        self.count, self.rc, self.rss_kib, self.wall, self.cpu, self.stderr = (
            count, rc, rss_kib, wall, cpu, stderr)


def probe(cmd, counter=None):
    """Runs `cmd` once under /usr/bin/time; stdout goes to `counter` (or is drained)."""
    with tempfile.NamedTemporaryFile(mode="r") as tf, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        p = subprocess.Popen(["/usr/bin/time", "-f", "%e %U %S %M", "-o", tf.name] + cmd,
                             stdout=subprocess.PIPE, stderr=err)
        count = (counter or drain)(p.stdout)
        rc = p.wait()
        # Wall time measured here: time's %e has 10 ms steps, so a run under
        # 5 ms (a 1 MiB input) printed 0.00, which read as "no timing".
        wall = time.monotonic() - start
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        tf.seek(0)
        lines = tf.read().strip().splitlines()
    fields = lines[-1].split() if lines else []
    if len(fields) != 4:  # killed by a signal: time prints "Command terminated..." first
        return Probe(count, rc, 0, None, None, stderr)
    return Probe(count, rc, int(fields[3]), wall, float(fields[1]) + float(fields[2]), stderr)


def timed(cmd, runs, warmup, export_path):
    """hyperfine over `cmd`; returns a dict of wall/CPU statistics in seconds."""
    quoted = " ".join(_quote(c) for c in cmd)
    hf = ["hyperfine", "--shell=none", "--style", "none", "--output=null", "--ignore-failure",
          "--warmup", str(warmup), "--runs", str(runs), "--export-json", export_path, quoted]
    subprocess.run(hf, check=True, stdout=subprocess.DEVNULL)
    with open(export_path) as f:
        r = json.load(f)["results"][0]
    return {"median": r["median"], "mean": r["mean"], "min": r["min"], "max": r["max"],
            "stddev": r.get("stddev"), "cpu": r["user"] + r["system"], "runs": len(r["times"]),
            "warmup": warmup, "exit_codes": sorted(set(r.get("exit_codes", [])))}


def _quote(arg):
    # hyperfine --shell=none splits the command line shell-style.
    if re.fullmatch(r"[\w@%+=:,./-]+", arg):
        return arg
    return "'" + arg.replace("'", "'\"'\"'") + "'"


SCAN_SUMMARY = re.compile(
    r"eventsift scan: (\d+) inputs \((\d+) unreadable\), (\d+) events, [\d.]+ MB, (\d+) hits, "
    r"(\d+) alerts, (\d+) errors")


def parse_scan_summary(stderr):
    """The counts of `eventsift scan`'s summary line, or None."""
    m = None
    for m in SCAN_SUMMARY.finditer(stderr):
        pass
    if m is None:
        return None
    return {"inputs": int(m.group(1)), "unreadable": int(m.group(2)), "events": int(m.group(3)),
            "hits": int(m.group(4)), "alerts": int(m.group(5)), "errors": int(m.group(6))}


def alerts_by_rule(path):
    counts = {}
    if not os.path.exists(path):
        return counts
    with open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            rule = json.loads(line).get("rule", {})
            rid = rule.get("id") if isinstance(rule, dict) else str(rule)
            counts[rid] = counts.get(rid, 0) + 1
    return counts
