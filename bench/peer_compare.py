#!/usr/bin/env python3
"""Times eventsift and the peer EVTX parsers on the same files, in one session,
and prints a Markdown table (bench/run.sh calls it; see docs/performance.md).

  peer_compare.py --eventsift build/release/bin/eventsift --rules rules \\
      [--evtx-dump PATH] [--runs 3] [--python-evtx-max-mb 32] FILE...

Each tool runs --runs times per file under /usr/bin/time (wall seconds, user+
sys CPU seconds, peak RSS) with its output to /dev/null; the table gives the
median wall time, the median CPU time and the largest peak RSS. One more,
untimed run per tool counts the records it printed (its own count: a peer that
stops early is credited only with what it printed). MB/s is input bytes over
wall time. python-evtx is run once and only on files up to
--python-evtx-max-mb (it decodes ~300 records/s; 300 MB would take hours).

Standard library only.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile


def count_lines(stream):
    n = 0
    for block in iter(lambda: stream.read(1 << 20), b""):
        n += block.count(b"\n")
    return n


def count_pattern(pattern):
    pat = re.compile(pattern, re.M)

    def counter(stream):
        data_tail = b""
        n = 0
        for block in iter(lambda: stream.read(1 << 20), b""):
            buf = data_tail + block
            cut = buf.rfind(b"\n") + 1
            n += len(pat.findall(buf[:cut]))
            data_tail = buf[cut:]
        return n + len(pat.findall(data_tail))

    return counter


def timed(cmd, runs):
    """Returns (wall list, cpu list, max rss KiB, exit code of the last run)."""
    walls, cpus, rss, rc = [], [], 0, 0
    with tempfile.NamedTemporaryFile(mode="r") as tf:
        for _ in range(runs):
            p = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", tf.name] + cmd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            rc = p.returncode
            tf.seek(0)
            fields = tf.read().strip().splitlines()[-1].split()
            walls.append(float(fields[0]))
            cpus.append(float(fields[1]) + float(fields[2]))
            rss = max(rss, int(fields[3]))
    return walls, cpus, rss, rc


def counted(cmd, counter):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    n = counter(p.stdout)
    return n, p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--eventsift", required=True)
    ap.add_argument("--rules", default="rules")
    ap.add_argument("--evtx-dump", default=shutil.which("evtx_dump")
                    or os.path.expanduser("~/.cargo/bin/evtx_dump"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--python-evtx-max-mb", type=float, default=32.0)
    ap.add_argument("--python", default="/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3",
                    help="interpreter with the Evtx module (Debian python3-evtx)")
    args = ap.parse_args()

    es = os.path.abspath(args.eventsift)
    tools = [
        ("eventsift dump jsonl -t1", lambda f: [es, "dump", f, "--format", "jsonl", "--threads", "1"],
         count_lines),
        ("eventsift dump jsonl -t2", lambda f: [es, "dump", f, "--format", "jsonl", "--threads", "2"],
         count_lines),
        ("eventsift scan -t2", lambda f: [es, "scan", "--rules", args.rules, "--threads", "2",
                                          "--no-progress", "-q", "--out", os.devnull, f], None),
    ]
    if args.evtx_dump and os.path.exists(args.evtx_dump):
        ver = subprocess.run([args.evtx_dump, "--version"], capture_output=True, text=True).stdout.strip()
        for t in (1, 2):
            tools.append(("evtx_dump jsonl -t%d (%s)" % (t, ver.split()[-1] if ver else "?"),
                          lambda f, t=t: [args.evtx_dump, "-t", str(t), "-o", "jsonl", f], count_lines))
    else:
        print("peer_compare: evtx_dump not found, skipped", file=sys.stderr)
    if shutil.which("evtxexport"):
        tools.append(("libevtx evtxexport (text)", lambda f: ["evtxexport", f],
                      count_pattern(rb"^Event number")))
    if shutil.which("evtx_dump.py"):
        tools.append(("python-evtx evtx_dump.py", lambda f: [args.python, shutil.which("evtx_dump.py"), f],
                      count_pattern(rb"^<Event ")))

    rows = []
    dump_counts = {}
    for f in args.files:
        size = os.path.getsize(f)
        for name, mk, counter in tools:
            runs = args.runs
            if name.startswith("python-evtx"):
                if size > args.python_evtx_max_mb * 1048576:
                    rows.append((name, f, size, None, None, None, None,
                                 "skipped: over %g MB" % args.python_evtx_max_mb))
                    continue
                runs = 1
            cmd = mk(f)
            if counter is None:  # scan prints alerts, not records: credit dump's count
                n = dump_counts.get(f)
                rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
                if rc not in (0, 10):
                    rows.append((name, f, size, None, None, None, None, "skipped: exit %d" % rc))
                    continue
            else:
                n, rc = counted(cmd, counter)
                if name.startswith("eventsift dump") and rc == 0:
                    dump_counts[f] = n
                if n == 0 and rc != 0:
                    rows.append((name, f, size, None, None, None, None, "skipped: exit %d, no output" % rc))
                    continue
            print("peer_compare: %s on %s (%d runs)" % (name, os.path.basename(f), runs), file=sys.stderr)
            walls, cpus, rss, rc2 = timed(cmd, runs)
            rows.append((name, f, size, n, statistics.median(walls), statistics.median(cpus), rss,
                         "" if rc2 in (0, 10) else "exit %d" % rc2))

    print("| file | tool | records | wall s | CPU s | records/s | MB/s | peak RSS MB | note |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for name, f, size, n, wall, cpu, rss, note in rows:
        if wall is None:
            print("| %s | %s | | | | | | | %s |" % (os.path.basename(f), name, note))
            continue
        rps = "%.0f" % (n / wall) if n and wall > 0 else ""
        mbs = "%.1f" % (size / 1048576.0 / wall) if wall > 0 else ""
        print("| %s | %s | %s | %.2f | %.2f | %s | %s | %.0f | %s |" % (
            os.path.basename(f), name, "" if n is None else n, wall, cpu, rps, mbs, rss / 1024.0, note))


if __name__ == "__main__":
    main()
