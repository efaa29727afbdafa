#!/usr/bin/env python3
"""OpenWEC's Json output format through the real binary: `eventsift scan`
raises the EEMS alerts on tests/data/openwec/openwec.ndjson (OpenWEC 1008
events) exactly as on the same logical events in Winlogbeat shape, and the
daemon (stdin source, as from `kcat -C` off OpenWEC's Kafka topic) does too.
Run by ctest as `e2e_openwec`."""

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
OPENWEC = os.path.join("tests", "data", "openwec", "openwec.ndjson")
WINLOGBEAT = os.path.join("tests", "data", "json", "winlogbeat.ndjson")
RULE = os.path.join(ROOT, "rules", "eems_mitigation_error.yaml")


def run(*args, **kw):
    return subprocess.run([BINARY, *args], cwd=ROOT, capture_output=True, timeout=300, **kw)


def alerts_of(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def short(host):
    return host.split(".")[0].lower()


class OpenWecScanTest(unittest.TestCase):
    def test_eems_fires_on_openwec_1008_like_on_winlogbeat(self):
        r = run("scan", OPENWEC)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertRegex(r.stderr.decode(), r"1 inputs \(0 unreadable\), 58 events")
        self.assertRegex(r.stderr.decode(), r", 0 errors in")
        got = alerts_of(r.stdout.decode())
        want = alerts_of(run("scan", WINLOGBEAT).stdout.decode())
        # The same logical events: the same rules fire on the same hosts with
        # the same counts (the 4999 build report feeds the CVE rule too).
        key = lambda a: (a["rule"]["id"], short(a["host"]), a["count"])  # noqa: E731
        self.assertEqual(sorted(map(key, got)), sorted(map(key, want)))
        eems = {short(a["host"]) for a in got if a["rule"]["id"] == "eems_mitigation_error"}
        self.assertEqual(eems, {"ex01", "ex02"})

    def test_dump_shows_the_openwec_fields(self):
        r = run("dump", "--format", "jsonl", OPENWEC)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        events = [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]
        self.assertEqual(len(events), 58)
        first = events[0]
        self.assertEqual((first["provider"], first["event_id"], first["level"], first["channel"],
                          first["computer"], first["record_id"]),
                         ("MSExchange Mitigation Service", 1008, 2, "Application",
                          "ex01.contoso.com", 81001))
        cleared = [e for e in events if e["event_id"] == 1102]
        self.assertEqual(len(cleared), 1)
        self.assertEqual(cleared[0]["data"].get("SubjectUserName"), "Administrator")


class OpenWecDaemonTest(unittest.TestCase):
    def test_daemon_reads_openwec_lines(self):
        with tempfile.TemporaryDirectory(prefix="es_openwec_") as d:
            config = os.path.join(d, "eventsift.yaml")
            with open(config, "w") as f:
                f.write(f"""state_dir: {d}/state
rules:
  paths: [{RULE}]
sources:
  - name: openwec
    type: stdin
sinks:
  - type: file
    path: {d}/alerts.ndjson
""")
            with open(os.path.join(ROOT, OPENWEC), "rb") as stdin:
                r = subprocess.run([BINARY, "daemon", "--config", config], cwd=ROOT, stdin=stdin,
                                   capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertNotIn("input error", r.stderr.decode())
            with open(os.path.join(d, "alerts.ndjson")) as f:
                got = alerts_of(f.read())
            self.assertEqual({short(a["host"]) for a in got}, {"ex01", "ex02"})


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
