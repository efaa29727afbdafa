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
3. `bench/run --only sigma` on a 1 MiB input from tests/data with a Sigma
   rule folder written here (the shipped rules/sigma plus a rule on Security
   4720, which tests/data's new-user-security.evtx holds): exits 0, prints the
   Sigma table with the load-only row, the scan row (its event count checked
   against the generator's), the EVENTSIFT_NO_RULE_INDEX reference row with
   the same detections (> 0), and the no-Sigma row; Hayabusa and Chainsaw
   rows come from ../shared/peers when present (Chainsaw on the very same
   rule folder, with its detection count), else a skip line naming why.
4. `bench/run --only growth` at 1 and 2 MiB (growth_part below).
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


# Chainsaw loads only rules with the usual metadata (description, author,
# date), so the rule carries it.
SIGMA_4720 = """title: User Account Created
id: 5e1a8bd0-5c2a-4a47-9d8e-3bb1e3c7e001
status: test
description: A local or domain user account was created (Security 4720).
author: eventsift bench smoke test
date: 2026-12-07
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4720
    condition: selection
falsepositives:
    - Administration
level: low
"""


def sigma_part(a, expect):
    peers = os.path.normpath(os.path.join(REPO, "..", "shared", "peers"))
    with tempfile.TemporaryDirectory() as work:
        rules = os.path.join(work, "sigma-rules")
        os.makedirs(rules)
        for name in os.listdir(os.path.join(REPO, "rules", "sigma")):
            with open(os.path.join(REPO, "rules", "sigma", name)) as f, open(os.path.join(rules, name), "w") as g:
                g.write(f.read())
        with open(os.path.join(rules, "user_created.yml"), "w") as f:
            f.write(SIGMA_4720)
        cmd = [sys.executable, os.path.join(REPO, "bench", "run"), "--quick", "--no-setup", "--no-build",
               "--build-dir", a.build_dir, "--only", "sigma", "--sigma-evtx-mb", "1", "--runs", "1",
               "--warmup", "0", "--threads", "1", "--work", work, "--corpus", os.path.join(REPO, "tests", "data"),
               "--sigma-rules", rules, "--peers-dir", peers, "--sigma-evtx-large-mb", "2",
               # tests/data/json holds deliberately malformed exports, which
               # make_big_ndjson.py refuses: no NDJSON input here.
               "--sigma-ndjson-mb", "0"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        out = r.stdout
        expect(r.returncode == 0, "sigma: bench/run exit %d; stderr tail: %s" % (r.returncode, r.stderr[-1500:]))
        expect("## Sigma: SigmaHQ Windows rules beside Hayabusa and Chainsaw" in out, "sigma: table missing")
        # Sigma table: input, tool, threads, runs, wall, CPU, events/s,
        # events/CPU-s, matching alone, RSS, detections, note (the report's
        # main table also has 12 columns, hence the section). `rows`: each
        # tool's row on the first input (the load-only row has its own).
        rows, inputs = {}, set()
        head = "## Sigma: SigmaHQ Windows rules beside Hayabusa and Chainsaw"
        table = out[out.index(head):] if head in out else ""
        table = table[:table.find("\n## ", 1)] if "\n## " in table else table
        for ln in table.splitlines():
            cells = [c.strip() for c in ln.strip().strip("|").split("|")]
            if len(cells) == 12 and cells[1].startswith(("eventsift", "Hayabusa", "Chainsaw")):
                rows.setdefault(cells[1], cells[1:])
                inputs.add(cells[0])
        expect({"sigma-1mb.evtx", "sigma-2mb.evtx"} <= inputs, "sigma: inputs %s" % sorted(inputs))
        for tool in ("eventsift rules check (Sigma load only)", "eventsift scan, Sigma rules",
                     "eventsift scan, Sigma rules, EVENTSIFT_NO_RULE_INDEX=1",
                     "eventsift scan, shipped rules (no Sigma)"):
            expect(tool in rows, "sigma: row %r missing" % tool)
        scan = rows.get("eventsift scan, Sigma rules")
        ref = rows.get("eventsift scan, Sigma rules, EVENTSIFT_NO_RULE_INDEX=1")
        if scan and ref:
            expect(scan[9].isdigit() and int(scan[9]) > 0, "sigma: no detections in %s" % scan)
            expect(scan[9] == ref[9], "sigma: detections differ with/without the index: %s vs %s" % (scan[9], ref[9]))
        expect(" checks, 0 failed" in out, "sigma: count checks failed")
        expect("Sigma scan >= 300,000 events/s per core" in out, "sigma: target row missing")
        if os.path.isdir(peers):
            chainsaw = rows.get("Chainsaw hunt, same Sigma rules")
            expect(chainsaw is not None and chainsaw[9].isdigit(),
                   "sigma: Chainsaw row or its detection count missing: %s" % chainsaw)
            hayabusa = rows.get("Hayabusa csv-timeline -A -a")
            # Hayabusa's own event count: all records scanned (its channel
            # filter would skip this mixed-channel input).
            expect(hayabusa is not None and hayabusa[5] not in ("", "0"),
                   "sigma: Hayabusa row missing or no events/s: %s" % hayabusa)
        else:
            expect("skipped: not found under" in out, "sigma: peers absent but no skip line")
            print("bench_run_smoke: ../shared/peers absent: Hayabusa/Chainsaw rows only checked as skipped")


def growth_part(a, expect):
    """`bench/run --only growth` at 1 and 2 MiB on a corpus made here from
    tests/data (its evtx/ and the well-formed JSON exports: the generator
    counts every line as an event): every size gets its EVTX dump and scan
    rows and its NDJSON scan rows at 1 and 2 threads, and a daemon row per
    input, all count-checked; the NDJSON expectation counts every shipped
    rule that fires on the planted events (rules/sigma's copy of the EEMS
    rule as well as ours), so it exceeds the generator's own alert count."""
    with tempfile.TemporaryDirectory() as work:
        corpus = os.path.join(work, "corpus")
        os.makedirs(os.path.join(corpus, "json"))
        os.symlink(os.path.join(REPO, "tests", "data", "evtx"), os.path.join(corpus, "evtx"))
        for name in ("nxlog.ndjson", "evtx_dump.jsonl", "powershell_array.json", "otrf_smbexec_head200.json.gz"):
            os.symlink(os.path.join(REPO, "tests", "data", "json", name), os.path.join(corpus, "json", name))
        cmd = [sys.executable, os.path.join(REPO, "bench", "run"), "--no-setup", "--no-build",
               "--build-dir", a.build_dir, "--only", "growth", "--growth-sizes", "1,2", "--small-evtx-mb", "1",
               "--runs", "1", "--warmup", "0", "--threads", "1,2", "--work", work, "--corpus", corpus]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        out = r.stdout
        expect(r.returncode == 0, "growth: bench/run exit %d; stderr tail: %s" % (r.returncode, r.stderr[-1500:]))
        expect("## How cost grows" in out, "growth: table missing")
        expect(" checks, 0 failed" in out, "growth: count checks failed")
        res = json.load(open(os.path.join(work, "results-latest.json")))
        rows = [x for x in res["rows"] if x.get("kind", "").startswith("growth")]
        for inp in ("small-1mb.evtx", "big-2mb.evtx"):
            for t in (1, 2):
                for tool in ("eventsift dump jsonl", "eventsift scan"):
                    expect(any(x["input"] == inp and x["tool"] == tool and x["threads"] == t and x.get("wall")
                               for x in rows), "growth: %s %s -t%d row missing" % (inp, tool, t))
        for inp in ("small-1mb.evtx", "big-2mb.evtx", "big-1mb.ndjson", "big-2mb.ndjson"):
            d = [x for x in rows if x["input"] == inp and x["kind"] == "growth-daemon"]
            expect(len(d) == 1 and d[0].get("events") and d[0].get("rss_mb"),
                   "growth: daemon row of %s missing or empty: %s" % (inp, d))
        for inp in ("big-1mb.ndjson", "big-2mb.ndjson"):
            side = json.load(open(os.path.join(work, inp + ".expect.json")))
            scans = [x for x in rows if x["input"] == inp and x["tool"] == "eventsift scan"]
            expect(len(scans) == 2 and all(x.get("check") == "ok" for x in scans),
                   "growth: %s scan rows not both checked ok: %s" % (inp, scans))
            expect(all(x.get("alerts", 0) > side["alerts"][side["rule"]] for x in scans),
                   "growth: %s: the Sigma copy of the EEMS rule was not counted (alerts %s, generator's %d)"
                   % (inp, [x.get("alerts") for x in scans], side["alerts"][side["rule"]]))
        names = [c["what"] for c in res["checks"]]
        expect(any(n.startswith("planted EEMS events alone") for n in names),
               "growth: the generator's own count is not checked")


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

    sigma_part(a, expect)
    growth_part(a, expect)

    if failures:
        for f in failures:
            print("FAIL: " + f)
        sys.exit(1)
    print("bench_run_smoke: ok (%d records, table, checks, targets, failure path)" % truth)


if __name__ == "__main__":
    main()
