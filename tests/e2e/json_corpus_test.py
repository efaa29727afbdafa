#!/usr/bin/env python3
"""Every JSON file of the shared corpus, through the real binary.

1. `dump --format jsonl` of each file in /work/shared/corpus/json (SOURCES.md
   there; skipped, saying so, when the corpus is absent): 0 errors, as many
   events as the file holds (counted here with Python's json module, framed
   as docs/json-exports.md says), and every event has a time, a provider, a
   computer and an event id; no event keeps Log Analytics' EventData column
   as one string. The shapes' field values are checked on excerpts by
   tests/unit/parsers/json/json_corpus_shapes_test.cc.
2. Events of a recognised shape without a time or a computer are counted in
   the summaries of `dump` and `scan`, not passed off silently.

Usage: json_corpus_test.py --binary build/release/bin/eventsift [unittest args]
"""

import glob
import gzip
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402

BINARY = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.environ.get("EVENTSIFT_CORPUS",
                        os.path.join(os.path.dirname(ROOT), "shared", "corpus"))


def run(*args):
    return subprocess.run([BINARY, *args], cwd=ROOT, capture_output=True, timeout=600)


def count_events(path):
    """Events in a corpus JSON file: array elements, top-level objects or lines."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        text = f.read().decode("utf-8-sig")
    body = text.lstrip()
    if body.startswith("[") or body.split("\n", 1)[0].strip() == "{":
        dec, i, n = json.JSONDecoder(), 0, 0
        while True:
            while i < len(text) and text[i] in " \t\r\n,":
                i += 1
            if i >= len(text):
                return n
            doc, i = dec.raw_decode(text, i)
            n += len(doc) if isinstance(doc, list) else 1
    return sum(1 for line in text.split("\n") if line.strip())


class JsonCorpusTest(unittest.TestCase):
    def test_every_corpus_json_file_reads_completely(self):
        files = sorted(glob.glob(os.path.join(CORPUS, "json", "*")))
        if not files:
            self.skipTest(f"shared corpus not found at {CORPUS} (set EVENTSIFT_CORPUS)")
        for path in files:
            name = os.path.basename(path)
            with self.subTest(file=name):
                r = run("dump", "--format", "jsonl", path)
                err = r.stderr.decode()
                self.assertEqual(r.returncode, 0, err[-2000:])
                events = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
                self.assertEqual(len(events), count_events(path))
                self.assertRegex(err, r"eventsift dump: \d+ records from 1 inputs, 0 errors\n")
                self.assertNotIn("without a time or computer", err)
                for e in events:
                    where = (name, e["source"].get("line"))
                    self.assertIsNotNone(e["time"], where)
                    self.assertTrue(e["provider"], where)
                    self.assertTrue(e["computer"], where)
                    self.assertGreater(e["event_id"], 0, where)
                    self.assertNotIn("EventData", e["data"], where)

    def test_log_analytics_exports_map_like_other_shapes(self):
        files = glob.glob(os.path.join(CORPUS, "json", "s*_log4shell_*.json.gz"))
        if len(files) != 2:
            self.skipTest(f"Log Analytics exports not found under {CORPUS}/json")
        for path in sorted(files):
            r = run("dump", "--format", "jsonl", path)
            events = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
            self.assertTrue(events)
            for e in events:
                self.assertEqual(e["computer"], "WORKSTATION5")
                self.assertTrue(e["time"].startswith("2022-05-13T"), e["time"])
            # The payload is data fields, not one string: Sysmon events have
            # Image, Security 5156 has Application.
            if "sysmon" in path:
                self.assertTrue(all(x["provider"] == "Microsoft-Windows-Sysmon" for x in events))
                self.assertTrue(any("Image" in x["data"] for x in events))
            else:
                self.assertTrue(all(x["provider"] == "Microsoft-Windows-Security-Auditing"
                                    for x in events))
                self.assertTrue(any(x["event_id"] == 5156 and "Application" in x["data"]
                                    for x in events))

    def test_events_without_time_or_computer_are_counted(self):
        lines = [
            {"TimeGenerated": "2022-05-13T08:54:05Z", "EventID": 4688, "Channel": "Security",
             "EventSourceName": "Microsoft-Windows-Security-Auditing", "Level": "0",
             "EventData": "<EventData><Data Name=\"NewProcessName\">c:\\\\x.exe</Data></EventData>"},
            {"EventID": 7036, "SourceName": "Service Control Manager", "Hostname": "H1"},
            {"EventID": 7036, "SourceName": "Service Control Manager", "Hostname": "H1",
             "EventTime": "2022-05-13T08:54:05Z"},
        ]
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "incomplete.ndjson")
            with open(path, "w") as f:
                f.write("\n".join(json.dumps(x) for x in lines) + "\n")
            d = run("dump", "--format", "jsonl", path)
            s = run("scan", path)
        self.assertEqual(d.returncode, 0, d.stderr.decode())
        self.assertEqual(len(d.stdout.decode().splitlines()), 3)  # still delivered
        self.assertIn("eventsift dump: 3 records from 1 inputs, 0 errors, "
                      "2 events without a time or computer", d.stderr.decode())
        self.assertEqual(s.returncode, 0, s.stderr.decode())
        self.assertRegex(s.stderr.decode(), r"eventsift scan: 1 inputs \(0 unreadable\), 3 events,.*"
                                            r", 2 events without a time or computer\n")


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
