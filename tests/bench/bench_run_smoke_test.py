#!/usr/bin/env python3
"""Smoke test of bench/run (CTest bench_run_smoke, label bench): the real
command on tiny EVTX inputs, with the binaries already built.

1. `bench/run --quick --no-setup --no-build --only evtx` with a 2 MiB and a
   1 MiB input made from tests/data/evtx (the clone's own copies, so the test
   does not need ../shared/corpus) and evtxexport as the only peer (Debian;
   evtx_dump would need `cargo install`): exits 0, prints the results table
   with eventsift dump and scan rows at 1 and 2 threads (also on the
   per-kind Security and System inputs; the missing Sysmon kind is reported
   as not made), each scan row says
   its alert-count check passed, the count-check line reports 0 failures,
   the Targets table is there, and results-latest.json holds the same rows;
   dump's record count equals the number of records in the generated file,
   counted here independently by walking its chunks.
2. The same run after the sidecar's record count was made wrong: bench/run
   must fail (exit 1) and name the failed check, so a wrong count can never
   pass as a benchmark result.
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def records_in(path):
    """Counts records by walking every chunk's records (signature 2a2a0000)."""
    n = 0
    with open(path, "rb") as f:
        data = f.read()
    for c in range(4096, len(data), 65536):
        free = struct.unpack_from("<I", data, c + 48)[0]
        off = 512
        while off < free:
            assert data[c + off:c + off + 4] == b"\x2a\x2a\x00\x00", (path, c, off)
            off += struct.unpack_from("<I", data, c + off + 4)[0]
            n += 1
    return n


def run(build_dir, work, threads="1,2"):
    cmd = [sys.executable, os.path.join(REPO, "bench", "run"), "--quick", "--no-setup", "--no-build",
           "--build-dir", build_dir, "--only", "evtx", "--evtx-mb", "2", "--small-evtx-mb", "1",
           "--runs", "2", "--warmup", "0", "--threads", threads, "--peers", "evtxexport", "--work", work,
           # Per-kind inputs: tests/data has Security and System chunks only,
           # so sysmon is skipped with its reason.
           "--kinds", "security,system,sysmon", "--kind-mb", "1",
           # tests/data has the evtx/ layout of the corpus and is in every clone.
           "--corpus", os.path.join(REPO, "tests", "data")]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    a = ap.parse_args()
    failures = []

    def expect(cond, what):
        if not cond:
            failures.append(what)

    with tempfile.TemporaryDirectory() as work:
        r = run(a.build_dir, work)
        out = r.stdout
        expect(r.returncode == 0, "bench/run exit %d; stderr tail: %s" % (r.returncode, r.stderr[-1500:]))
        expect("| input | tool | threads | runs | median wall s |" in out, "results table header missing")
        for t in (1, 2):
            for tool in ("eventsift dump jsonl", "eventsift scan"):
                expect("| big-2mb.evtx | %s | %d |" % (tool, t) in out, "row %s -t%d missing" % (tool, t))
        for kind in ("security", "system"):
            for t in (1, 2):
                expect("| kind-%s-1mb.evtx | eventsift scan | %d |" % (kind, t) in out,
                       "per-kind row %s -t%d missing" % (kind, t))
            expect("%s: scan >= 4x evtx_dump" % kind in out, "per-kind target %s missing" % kind)
        expect("per-kind input sysmon" in out and "not made" in out, "missing kind not reported")
        scan_rows = [ln for ln in out.splitlines() if "| eventsift scan |" in ln]
        expect(len(scan_rows) == 8, "expected 8 scan rows (2 mixed and 2 kinds at 2 thread counts), got %d"
               % len(scan_rows))
        expect(all("alert-count check ok" in ln for ln in scan_rows), "a scan row lacks 'alert-count check ok'")
        expect(" checks, 0 failed" in out, "count-check summary line missing or failures")
        expect("## Targets" in out and "EVTX scan >= 3x" in out, "targets table missing")
        expect("| evtxexport (libevtx, text) | 1 |" in out or "evtxexport (libevtx)" in out,
               "evtxexport row (or its skip reason) missing")

        big = os.path.join(work, "big-2mb.evtx")
        truth = records_in(big)
        res = json.load(open(os.path.join(work, "results-latest.json")))
        dumps = [x for x in res["rows"] if x["tool"] == "eventsift dump jsonl" and x["input"] == "big-2mb.evtx"]
        expect(len(dumps) == 2 and all(x["events"] == truth for x in dumps),
               "dump records %s != %d counted by walking the file" % ([x.get("events") for x in dumps], truth))
        expect(all(c["ok"] for c in res["checks"]) and len(res["checks"]) >= 8,
               "results-latest.json checks: %s" % res["checks"])

        # A wrong expectation must fail the run loudly.
        side = big + ".expect.json"
        exp = json.load(open(side))
        exp["records"] += 1
        json.dump(exp, open(side, "w"))
        r = run(a.build_dir, work, threads="1")
        expect(r.returncode == 1, "wrong expectation: bench/run exit %d, want 1" % r.returncode)
        expect("FAILED: eventsift scan -t1 big-2mb.evtx: events" in r.stdout,
               "wrong expectation: failed check not named in the report")

    if failures:
        for f in failures:
            print("FAIL: " + f)
        sys.exit(1)
    print("bench_run_smoke: ok (%d records, table, checks, targets, failure path)" % truth)


if __name__ == "__main__":
    main()
