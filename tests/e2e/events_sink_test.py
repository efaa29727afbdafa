#!/usr/bin/env python3
"""The events sink of `scan --events-out`: every event as ECS/Winlogbeat JSON.

Through the real binary, on the EVTX and JSON files of tests/data:
- every line validates against schemas/event.schema.json;
- as many lines as the summary's events, and the same records (record id,
  event id, channel, computer, EventData) as `dump --format jsonl` shows;
- the output read back by `scan` (as Winlogbeat NDJSON) gives the same events;
- the filters (channels, providers, event ids, matched by a rule) and their
  counts; the alerts are the same with and without the events sink.

Usage: events_sink_test.py --binary build/release/bin/eventsift [unittest args]
"""

import json
import os
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
EVTX = os.path.join(ROOT, "tests", "data", "evtx")
JSON = os.path.join(ROOT, "tests", "data", "json")
INPUTS = [
    os.path.join(EVTX, "Security_short_selected.evtx"),
    os.path.join(EVTX, "system_chunk3.evtx"),
    os.path.join(EVTX, "MSExchange_Management_wec.evtx"),
    os.path.join(JSON, "winlogbeat.ndjson"),
    os.path.join(JSON, "evtx_dump.jsonl"),
]
with open(os.path.join(ROOT, "schemas", "event.schema.json")) as f:
    VALIDATOR = jsonschema.Draft202012Validator(json.load(f))


def run(*args):
    r = subprocess.run([BINARY, *args], cwd=ROOT, capture_output=True, timeout=120)
    return r


def scan(*args):
    r = run("scan", "--threads", "2", *args)
    assert r.returncode in (0, 3), r.stderr.decode()
    return r


def events_in_summary(stderr):
    m = re.search(r"inputs \(\d+ unreadable\), (\d+) events", stderr)
    assert m, stderr
    return int(m.group(1))


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def dump(path):
    r = run("dump", "--format", "jsonl", path)
    assert r.returncode == 0, r.stderr.decode()
    return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]


def key_of_dump(e):
    data = {}
    for k, v in e.get("data", {}).items():
        data[k] = v if isinstance(v, str) else None  # arrays are numbered apart in the sink
    return (e["record_id"], str(e["event_id"]), e["channel"], e["computer"])


def key_of_sink(e):
    w = e["winlog"]
    return (w["record_id"], w["event_id"], w["channel"], w["computer_name"])


class EventsSinkTest(unittest.TestCase):
    def test_every_event_schema_valid_and_counted(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "events.ndjson")
            r = scan("--events-out", out, "--out", os.path.join(tmp, "alerts.ndjson"), *INPUTS)
            stderr = r.stderr.decode()
            events = lines(out)
            self.assertGreater(len(events), 100)
            self.assertEqual(len(events), events_in_summary(stderr))
            self.assertIn(f"events sink (file): {len(events)} events, {len(events)} written, "
                          "0 filtered out", stderr)
            for e in events:
                errors = list(VALIDATOR.iter_errors(e))
                self.assertEqual(errors, [], f"{e}: {[x.message for x in errors]}")
            # The same records as dump shows, input by input (order may
            # interleave between inputs read in parallel).
            expected = []
            for path in INPUTS:
                expected += [key_of_dump(e) for e in dump(path)]
            self.assertEqual(sorted(map(key_of_sink, events)), sorted(expected))
            # EventData of one known record: values as strings, by name.
            by_file = [e for e in events if e["eventsift"]["source"]["file"].endswith(
                "Security_short_selected.evtx")]
            d = dump(INPUTS[0])
            first = next(e for e in by_file if e["winlog"]["record_id"] == d[0]["record_id"])
            for k, v in d[0]["data"].items():
                if isinstance(v, str):
                    self.assertEqual(first["winlog"]["event_data"][k], v)
            self.assertEqual(first["host"]["name"], d[0]["computer"].lower())
            self.assertEqual(first["event"]["code"], str(d[0]["event_id"]))

    def test_output_reads_back_as_winlogbeat(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "events.ndjson")
            scan("--events-out", out, "--out", os.path.join(tmp, "a.ndjson"), INPUTS[0], INPUTS[1])
            back = dump(out)
            orig = dump(INPUTS[0]) + dump(INPUTS[1])
            self.assertEqual(sorted(map(key_of_dump, back)), sorted(map(key_of_dump, orig)))
            by_id = {(e["record_id"], e["channel"]): e for e in orig}
            for e in back:
                o = by_id[(e["record_id"], e["channel"])]
                self.assertEqual(e["provider"], o["provider"])
                self.assertEqual(e["time"][:23], o["time"][:23])  # milliseconds kept

    def test_filters(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "events.ndjson")
            alerts = os.path.join(tmp, "a.ndjson")
            r = scan("--events-out", out, "--events-channels", "security", "--events-ids",
                     "4624, 4688,4720", "--out", alerts, *INPUTS)
            events = lines(out)
            self.assertTrue(events)
            for e in events:
                self.assertEqual(e["winlog"]["channel"], "Security")
                self.assertIn(e["event"]["code"], ("4624", "4688", "4720"))
            total = events_in_summary(r.stderr.decode())
            self.assertIn(f"{total} events, {len(events)} written, {total - len(events)} "
                          "filtered out", r.stderr.decode())

            r = scan("--events-out", out, "--events-providers", "MSExchange CmdletLogs,"
                     "MSExchange Mitigation Service", "--out", alerts, *INPUTS)
            providers = {e["event"]["provider"] for e in lines(out)}
            self.assertTrue(providers)
            self.assertLessEqual(providers,
                                 {"MSExchange CmdletLogs", "MSExchange Mitigation Service"})

            # Only events some rule matched: every alert's sample is among them.
            r = scan("--events-out", out, "--events-matched", "--out", alerts, *INPUTS)
            matched = {key_of_sink(e) for e in lines(out)}
            samples = set()
            for a in lines(alerts):
                for s in a["samples"]:
                    samples.add(s["record_id"])
            self.assertTrue(samples)
            self.assertLessEqual(samples, {k[0] for k in matched})
            self.assertLess(len(matched), events_in_summary(r.stderr.decode()))

    def test_alerts_unchanged_by_events_sink(self):
        with tempfile.TemporaryDirectory() as tmp:
            a1, a2 = os.path.join(tmp, "a1"), os.path.join(tmp, "a2")
            scan("--out", a1, *INPUTS)
            scan("--out", a2, "--events-out", os.path.join(tmp, "e"), *INPUTS)
            self.assertEqual(lines(a1), lines(a2))
            self.assertTrue(lines(a1))

    def test_bad_flags(self):
        r = run("scan", "--events-out", "kafka", INPUTS[0])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--events-out kafka needs --kafka-brokers", r.stderr.decode())
        # -X needs a producer: alerts (--kafka-brokers) or events to Kafka.
        r = run("scan", "-X", "linger.ms=1", "--events-out", "-", INPUTS[0])
        self.assertEqual(r.returncode, 2)
        self.assertIn("-X given without --kafka-brokers or --events-out kafka", r.stderr.decode())
        r = run("scan", "--events-out", "-", "--events-ids", "46x", INPUTS[0])
        self.assertEqual(r.returncode, 2)
        self.assertIn("'46x' is not a number", r.stderr.decode())
        r = run("scan", "--events-out", "/nonexistent/dir/e.ndjson", INPUTS[0])
        self.assertEqual(r.returncode, 2)
        self.assertIn("/nonexistent/dir/e.ndjson", r.stderr.decode())


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
