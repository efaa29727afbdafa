#!/usr/bin/env python3
"""EventRecordID gaps and repeats per host and channel in `scan`.

Crafted Winlogbeat NDJSON (made here) through the real binary:
- a gap (ids that never arrived) is reported with its range, a repeated id
  as a repeat; ids arriving out of order, within a file and across files
  read in parallel, close their hole instead of counting as a gap;
- a Security 1102 right above a gap, and a System 104 naming a channel,
  mark the gap as a log clear;
- per host and channel: the same ids on another host or channel are no
  repeat; --no-record-ids leaves the account out;
- `--format table` and `--report` list the host/channels with a gap or a
  repeat; --gap-alert-threshold raises a schema-valid pipeline_gap alert.

Usage: record_gaps_test.py --binary build/release/bin/eventsift [unittest args]
"""

import json
import os
import random
import re
import subprocess
import sys
import tempfile
import unittest

import jsonschema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402

BINARY = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def event(host, channel, record_id, event_id=4624, provider="Microsoft-Windows-Security-Auditing",
          data=None):
    return json.dumps({
        "@timestamp": "2026-11-20T10:00:%02d.000Z" % (record_id % 60),
        "event": {"code": str(event_id), "provider": provider, "kind": "event"},
        "host": {"name": host.lower()},
        "winlog": {"channel": channel, "event_id": str(event_id), "provider_name": provider,
                   "computer_name": host, "record_id": record_id,
                   "event_data": data or {"SubjectUserName": "x"}},
    })


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def scan(*args):
    r = subprocess.run([BINARY, "scan", "--threads", "2", "--out", os.devnull, *args], cwd=ROOT,
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    return r.stderr.decode()


def key_line(stderr, host, channel):
    m = re.search(rf"^eventsift scan: record ids: {re.escape(host)} {re.escape(channel)}: (.*)$",
                  stderr, re.M)
    return m.group(1) if m else None


def totals(stderr):
    m = re.search(r"record ids: (\d+) host/channels, (\d+) records missing in gaps, (\d+) repeats",
                  stderr)
    assert m, stderr
    return tuple(int(x) for x in m.groups())


class RecordGapsTest(unittest.TestCase):
    def test_gaps_repeats_and_shuffled_order(self):
        rng = random.Random(7)
        with tempfile.TemporaryDirectory() as tmp:
            # DC01 Security: 1..1000 without 301..310 and 700, ids 50..54 twice,
            # split over three files in shuffled order.
            ids = [i for i in range(1, 1001) if not (301 <= i <= 310) and i != 700]
            ids += list(range(50, 55))
            rng.shuffle(ids)
            parts = [ids[0::3], ids[1::3], ids[2::3]]
            for n, part in enumerate(parts):
                write(os.path.join(tmp, f"part{n}.ndjson"),
                      [event("DC01.contoso.com", "Security", i) for i in part])
            # The same ids on another host and channel, complete: no gap, no repeat.
            write(os.path.join(tmp, "other.ndjson"),
                  [event("EX01", "Security", i) for i in range(1000, 0, -1)] +
                  [event("DC01.contoso.com", "System", i, 7036, "Service Control Manager")
                   for i in range(1, 301)])
            err = scan(tmp)
            self.assertEqual(totals(err), (3, 11, 5))
            line = key_line(err, "dc01.contoso.com", "Security")
            self.assertIsNotNone(line, err)
            self.assertIn("ids 1-1000, 994 seen, 11 missing in 2 gaps: 301-310 700-700", line)
            self.assertIn("5 repeats", line)
            self.assertIsNone(key_line(err, "ex01", "Security"), err)
            self.assertIsNone(key_line(err, "dc01.contoso.com", "System"), err)

            # Fully shuffled, nothing missing: no gap at all.
            full = list(range(1, 2001))
            rng.shuffle(full)
            one = os.path.join(tmp, "one")
            os.mkdir(one)
            write(os.path.join(one, "a.ndjson"), [event("H", "Security", i) for i in full[:1000]])
            write(os.path.join(one, "b.ndjson"), [event("H", "Security", i) for i in full[1000:]])
            self.assertEqual(totals(scan(one)), (1, 0, 0))

            # The fleet views: --format table and --report list the host/channel.
            report = os.path.join(tmp, "..", os.path.basename(tmp) + "-report.html")
            r = subprocess.run([BINARY, "scan", "--format", "table", "--report", report, tmp],
                               capture_output=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            table = r.stdout.decode()
            self.assertIn("Records lost upstream (EventRecordID gaps and repeats)", table)
            row = next(l for l in table.splitlines() if l.startswith("dc01.contoso.com "))
            self.assertEqual(row.split()[1:7], ["Security", "1-1000", "994", "11", "5", "301-310"])
            self.assertNotIn("\nex01 ", table)
            # The table holds the per host/channel lines: stderr keeps the totals only.
            err = r.stderr.decode()
            self.assertRegex(err, r"record ids: \d+ host/channels, 11 records missing in gaps")
            self.assertNotIn("record ids: dc01.contoso.com Security", err)
            with open(report) as f:
                html = f.read()
            os.unlink(report)
            self.assertIn("<h2>Records lost upstream</h2>", html)
            self.assertIn("<li><b>dc01.contoso.com</b> Security: ids 1-1000, 994 seen, "
                          "<b>11 missing</b>, 5 repeats; gaps: 301-310 700-700</li>", html)
            self.assertNotIn("<b>ex01</b>", html)

            # The summary line goes away when asked.
            self.assertNotIn("record ids", scan("--no-record-ids", tmp))

    def test_log_clear_beside_gap(self):
        with tempfile.TemporaryDirectory() as tmp:
            lines = [event("DC02", "Security", i) for i in range(1, 101)]
            # 101..149 never forwarded, then the log was cleared: 1102 is 150.
            lines.append(event("DC02", "Security", 150, 1102, "Microsoft-Windows-Eventlog",
                               {"SubjectUserName": "admin"}))
            lines += [event("DC02", "Security", i) for i in range(151, 201)]
            # A gap not beside the clear: 181..185 missing is not marked.
            lines = [l for l in lines if not any(f'"record_id": {i},' in l for i in range(181, 186))]
            # Application: 1..50, 61..80; a System 104 names Application.
            lines += [event("DC02", "Application", i, 1000, "App") for i in range(1, 51)]
            lines += [event("DC02", "Application", i, 1000, "App") for i in range(61, 81)]
            lines.append(event("DC02", "System", 9, 104, "Microsoft-Windows-Eventlog",
                               {"SubjectUserName": "admin", "Channel": "Application",
                                "BackupPath": ""}))
            write(os.path.join(tmp, "dc02.ndjson"), lines)
            err = scan(os.path.join(tmp, "dc02.ndjson"))
            sec = key_line(err, "dc02", "Security")
            self.assertIsNotNone(sec, err)
            self.assertIn("54 missing in 2 gaps: 101-149 (log cleared) 181-185,", sec)
            app = key_line(err, "dc02", "Application")
            self.assertIn("10 missing in 1 gaps: 51-60 (log cleared)", app)

            # --gap-alert-threshold: one pipeline_gap alert per host/channel
            # missing that many records, schema-valid, with the ranges.
            out = os.path.join(tmp, "alerts.ndjson")
            r = subprocess.run([BINARY, "scan", "--gap-alert-threshold", "50", "--out", out,
                                os.path.join(tmp, "dc02.ndjson")], capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            with open(out) as f:
                alerts = [json.loads(l) for l in f]
            gaps = [a for a in alerts if a["rule"]["id"] == "pipeline_gap"]
            self.assertEqual(len(gaps), 1, alerts)
            with open(os.path.join(ROOT, "schemas", "alert.schema.json")) as f:
                jsonschema.validate(gaps[0], json.load(f))
            self.assertEqual((gaps[0]["host"], gaps[0]["count"]), ("dc02", 54))
            self.assertEqual(gaps[0]["matched"], {"channel": "Security",
                                                  "missing_ranges": "101-149,181-185",
                                                  "log_cleared": "true"})


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
