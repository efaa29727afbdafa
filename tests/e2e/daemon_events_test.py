#!/usr/bin/env python3
"""The daemon's events sink and EventRecordID ledger, through the real binary.

`eventsift daemon` reads crafted Winlogbeat NDJSON on stdin (made here):
- `events:` writes every event (schemas/event.schema.json) to a file, as
  many as were read; a filter keeps only what it names;
- `record_ids:` counts gaps and repeats per host/channel in /metrics
  (eventsift_record_{gaps,missing,repeats}_total) while running, ids
  arriving out of order within the reorder window are no gap, and a
  pipeline_gap alert (alert schema) names the ranges and the log clear;
- --check-config refuses a bad `events:` section, naming the key.

Usage: daemon_events_test.py --binary build/release/bin/eventsift [unittest args]
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import jsonschema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402

BINARY = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def schema(name):
    with open(os.path.join(ROOT, "schemas", name)) as f:
        return jsonschema.Draft202012Validator(json.load(f))


def event(host, channel, record_id, event_id=4624, provider="Microsoft-Windows-Security-Auditing",
          data=None):
    return json.dumps({
        "@timestamp": "2026-11-20T10:%02d:%02d.000Z" % (record_id // 60 % 60, record_id % 60),
        "winlog": {"channel": channel, "event_id": str(event_id), "provider_name": provider,
                   "computer_name": host, "record_id": record_id,
                   "event_data": data or {"SubjectUserName": "x"}},
    })


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config(tmp, port, events, record_ids):
    text = f"""
state_dir: {tmp}/state
checkpoint_interval_ms: 200
exit_when_sources_end: true
sources:
  - name: in
    type: stdin
sinks:
  - type: file
    path: {tmp}/alerts.ndjson
metrics:
  address: 127.0.0.1:{port}
log:
  level: warn
{events}
{record_ids}
"""
    path = os.path.join(tmp, "eventsift.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def scrape(port):
    for _ in range(100):
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        except OSError:
            time.sleep(0.1)
    raise AssertionError("no /metrics")


def metric(text, name, **labels):
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


class DaemonEventsTest(unittest.TestCase):
    def test_events_file_gaps_metrics_and_alert(self):
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            cfg = config(tmp, port, f"events:\n  type: file\n  path: {tmp}/events.ndjson",
                         "record_ids:\n  reorder_window: 50\n  gap_alert_threshold: 5")
            # DC01 Security 1..400: 101..110 lost, 200..204 twice, 301..320
            # arrive late but within the window (after 330); 1102 at 150
            # with 141..149 lost before it.
            lines = []
            for i in range(1, 401):
                if 101 <= i <= 110 or 141 <= i <= 149 or 301 <= i <= 320:
                    continue
                if i == 150:
                    lines.append(event("DC01", "Security", i, 1102, "Microsoft-Windows-Eventlog"))
                    continue
                lines.append(event("DC01", "Security", i))
                if i == 330:
                    lines += [event("DC01", "Security", j) for j in range(301, 321)]
            lines += [event("DC01", "Security", i) for i in range(200, 205)]
            lines += [event("EX01", "Application", i, 1000, "App") for i in range(1, 101)]
            proc = subprocess.Popen([BINARY, "daemon", "--config", cfg], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
            try:
                proc.stdin.write(("\n".join(lines) + "\n").encode())
                proc.stdin.flush()
                text = ""
                for _ in range(100):  # holes settle when the loop drains (about 1/s)
                    text = scrape(port)
                    if metric(text, "eventsift_record_missing_total", host="dc01") is not None:
                        break
                    time.sleep(0.1)
                self.assertEqual(metric(text, "eventsift_record_repeats_total", host="dc01",
                                        channel="Security"), 5, text)
                # Both holes are far below the top (400) by more than the window.
                self.assertEqual(metric(text, "eventsift_record_missing_total", host="dc01",
                                        channel="Security"), 19, text)
                self.assertEqual(metric(text, "eventsift_record_gaps_total", host="dc01",
                                        channel="Security"), 2, text)
                self.assertIsNone(metric(text, "eventsift_record_gaps_total", host="ex01"), text)
                self.assertEqual(metric(text, "eventsift_events_sink_written_total",
                                        sink="file"), len(lines), text)
                self.assertEqual(metric(text, "eventsift_events_sink_dropped_total",
                                        sink="file"), 0, text)
            finally:
                out, err = proc.communicate(timeout=60)
            self.assertEqual(proc.returncode, 0, err.decode())

            events = [json.loads(l) for l in open(os.path.join(tmp, "events.ndjson"))]
            self.assertEqual(len(events), len(lines))
            v = schema("event.schema.json")
            for e in events:
                v.validate(e)
            self.assertEqual(sorted(e["winlog"]["record_id"] for e in events
                                    if e["winlog"]["channel"] == "Security"),
                             sorted(json.loads(l)["winlog"]["record_id"] for l in lines
                                    if '"Security"' in l))

            alerts = [json.loads(l) for l in open(os.path.join(tmp, "alerts.ndjson"))]
            gaps = [a for a in alerts if a["rule"]["id"] == "pipeline_gap"]
            self.assertEqual(len(gaps), 1, alerts)
            a = gaps[0]
            schema("alert.schema.json").validate(a)
            self.assertEqual(a["host"], "dc01")
            self.assertEqual(a["count"], 19)
            self.assertEqual(a["matched"]["channel"], "Security")
            self.assertEqual(a["matched"]["missing_ranges"], "101-110,141-149")
            self.assertEqual(a["matched"]["log_cleared"], "true")

    def test_filter_and_check_config(self):
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            cfg = config(tmp, port, f"events:\n  type: file\n  path: {tmp}/events.ndjson\n"
                         "  channels: [Application]\n  event_ids: [1000]", "")
            lines = [event("H", "Security", i) for i in range(1, 51)]
            lines += [event("H", "Application", i, 1000 + i % 2, "App") for i in range(1, 51)]
            r = subprocess.run([BINARY, "daemon", "--config", cfg], input=("\n".join(lines) + "\n").encode(),
                               capture_output=True, timeout=60, cwd=ROOT)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            events = [json.loads(l) for l in open(os.path.join(tmp, "events.ndjson"))]
            self.assertEqual(len(events), 25)
            self.assertTrue(all(e["winlog"]["event_id"] == "1000" for e in events))

            bad = config(tmp, port, "events:\n  type: file\n  path: x\n  overflow: sometimes", "")
            r = subprocess.run([BINARY, "daemon", "--config", bad, "--check-config"],
                               capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 2)
            self.assertIn("events.overflow: must be 'block' or 'drop'", r.stderr.decode())
            bad = config(tmp, port, "events:\n  type: kafka\n  topic: t", "")
            r = subprocess.run([BINARY, "daemon", "--config", bad, "--check-config"],
                               capture_output=True, timeout=30)
            self.assertIn("events.brokers: required", r.stderr.decode())


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
