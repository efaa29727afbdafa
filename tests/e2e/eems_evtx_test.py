#!/usr/bin/env python3
"""The EEMS rules on EVTX: Application logs as Exchange writes them.

tests/tools/eems_evtx.py writes the sample data's events (EEMS 1008 errors
hourly on two hosts, 1005 and 1006 successes, an MSExchange Common 4999
revealing the build, benign events and 1008 look-alikes) as EVTX files, one
per host and channel, with the test-side writer (checked against evtx_dump
and libevtx by evtx_writer_test.py), and the same events as evtx_dump JSON
lines. `scan` must raise the same alerts on both, field by field apart from
where each sample was read (file, offset or line), and print the same table
and Exchange fleet. The sample data's own events (without the 1006s) as EVTX
must also give the alerts and fleet of the committed JSON export
tests/data/json/evtx_dump.jsonl.

Usage: eems_evtx_test.py --binary build/release/bin/eventsift
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import e2e_args  # noqa: E402
import eems_evtx  # noqa: E402
import make_test_data  # noqa: E402  (tests/data/json, on the path through eems_evtx)

BINARY = None
EEMS_TEXT = re.compile(
    r"(?i)fetching mitigations|untrusted endpoint|certificate|trust relationship|not deemed safe")


def scan(*args):
    r = subprocess.run([BINARY, "scan", "--threads", "2", *args], capture_output=True, timeout=300)
    return r


def without_source(alert):
    """The alert without the fields that say where its events were read."""
    a = json.loads(json.dumps(alert))
    for s in a.get("samples", []):
        s.pop("source", None)
    if isinstance(a.get("exchange"), dict):
        a["exchange"].pop("source", None)
    # A CVE verdict's evidence names the input its build came from.
    if isinstance(a.get("cve"), dict) and isinstance(a["cve"].get("evidence"), str):
        a["cve"]["evidence"] = re.sub(r" at \S+", " at <input>", a["cve"]["evidence"])
    return a


class EemsEvtxTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.events = eems_evtx.events()
        cls.evtx_dir = os.path.join(cls.tmp.name, "evtx")
        os.makedirs(cls.evtx_dir)
        cls.evtx = eems_evtx.write_evtx(cls.events, cls.evtx_dir)
        cls.json = eems_evtx.write_json(cls.events, os.path.join(cls.tmp.name, "events.jsonl"))
        cls.sample_dir = os.path.join(cls.tmp.name, "sample")
        os.makedirs(cls.sample_dir)
        eems_evtx.write_evtx(make_test_data.logical_events(), cls.sample_dir)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def alerts(self, *paths):
        r = scan(*paths)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertRegex(r.stderr.decode(), r", 0 errors in")
        return [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]

    def test_logs_hold_the_eems_events_as_exchange_writes_them(self):
        kinds = {(e["provider"], e["id"]) for e in self.events}
        for eid in (1005, 1006, 1008):
            self.assertIn(("MSExchange Mitigation Service", eid), kinds)
        self.assertIn(("MSExchange Common", 4999), kinds)
        r = subprocess.run([BINARY, "dump", "--format", "jsonl", *self.evtx], capture_output=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        dumped = [json.loads(line) for line in r.stdout.decode().splitlines()]
        eems = [d for d in dumped if d["provider"] == "MSExchange Mitigation Service"]
        self.assertTrue(eems)
        for d in eems:
            # Classic source: Qualifiers set, message text as unnamed Data.
            self.assertIn("qualifiers", d)
            self.assertTrue(all(k.startswith("param") for k in d["data"]), d["data"])
            self.assertEqual(d["channel"], "Application")

    def test_alerts_from_evtx_equal_alerts_from_json(self):
        from_evtx = self.alerts(self.evtx_dir)
        from_json = self.alerts(self.json)
        # The EEMS rule's documented conditions, applied here to the events
        # written: each host with 1008 errors whose text names the failure.
        want_hosts = {eems_evtx.HOSTS[e["host"]].rstrip(".").lower() for e in self.events
                      if e["provider"] == "MSExchange Mitigation Service" and e["id"] == 1008
                      and e["level"] == 2 and EEMS_TEXT.search(e["message"])}
        eems_alerts = [a for a in from_evtx if a["rule"]["id"] == "eems_mitigation_error"]
        self.assertEqual({a["host"] for a in eems_alerts}, want_hosts)
        # Beside them, a server exposed to a listed CVE gets its
        # exchange_cve_exposure alert (docs/exchange-cves.md), from EVTX and
        # JSON alike.
        self.assertTrue(all(a["rule"]["id"] in ("eems_mitigation_error", "exchange_cve_exposure")
                            for a in from_evtx), [a["rule"]["id"] for a in from_evtx])
        self.assertEqual(len(from_evtx), len(from_json))
        for a, b in zip(from_evtx, from_json):
            a2, b2 = without_source(a), without_source(b)
            for key in sorted(set(a2) | set(b2)):
                self.assertEqual(a2.get(key), b2.get(key), f"{a['host']}: field {key}")
            # The samples came from the EVTX files, records by offset.
            for s in a["samples"]:
                self.assertTrue(s["source"]["file"].endswith(".evtx"), s["source"])
                self.assertIn("offset", s["source"])
        ex01 = next(a for a in eems_alerts if a["host"].startswith("ex01"))
        self.assertEqual(ex01["exchange"]["version"], "15.1.2507.16")
        self.assertRegex(ex01["exchange"]["source"], r"4999 at .*\.evtx@0x[0-9a-f]+")

    def test_sample_events_as_evtx_equal_the_committed_json_export(self):
        committed = os.path.join(HERE, "..", "data", "json", "evtx_dump.jsonl")
        from_evtx = self.alerts(self.sample_dir)
        from_json = self.alerts(committed)
        self.assertTrue(from_evtx)
        self.assertEqual([without_source(a) for a in from_evtx],
                         [without_source(b) for b in from_json])
        # The fleet views; the record-id account is left out, as the EVTX
        # files number their records apart from the export.
        self.assertEqual(scan("--format", "table", "--no-record-ids", self.sample_dir).stdout,
                         scan("--format", "table", "--no-record-ids", committed).stdout)

    def test_fleet_view_from_evtx_equals_fleet_view_from_json(self):
        r1 = scan("--format", "table", "--no-record-ids", self.evtx_dir)
        r2 = scan("--format", "table", "--no-record-ids", self.json)
        self.assertEqual(r1.returncode, 0, r1.stderr.decode())
        self.assertEqual(r2.returncode, 0, r2.stderr.decode())
        table = r1.stdout.decode()
        self.assertIn("Exchange fleet: 2 hosts", table)
        self.assertIn("OUTDATED", table)
        self.assertEqual(table, r2.stdout.decode())


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
