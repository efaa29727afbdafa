#!/usr/bin/env python3
"""Sigma correlation rules through the real binary: `rules check` counts and
refusals, and `scan` alerts (docs/sigma-correlation.md).

The inputs are NDJSON events written by this test (NXLog shape, zoned
times); the rules are our own format for the base detections plus Sigma
correlation documents, in a temporary directory. The expected alerts follow
from the specification's chaining example: failed logons (event_count)
followed by a successful logon (temporal_ordered), per user.

Usage: sigma_correlation_e2e_test.py --binary build/release/bin/eventsift
"""

import json
import os
import random
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402

BINARY = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BASE_RULES = {
    "failed_logon.yaml": """id: failed_login
title: Failed logon
severity: low
match:
  providers: [Microsoft-Windows-Security-Auditing]
  channels: [Security]
  event_ids: [4625]
""",
    "successful_logon.yaml": """id: successful_login
title: Successful logon
severity: informational
match:
  providers: [Microsoft-Windows-Security-Auditing]
  channels: [Security]
  event_ids: [4624]
""",
}

CHAIN = """title: Multiple failed logons followed by a successful logon
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
level: high
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - TargetUserName
    timespan: 10m
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - TargetUserName
    timespan: 10m
    condition:
        gte: 3
"""

BAD = """title: names nothing
correlation:
    type: event_count
    rules: [no_such_rule]
    timespan: 5m
    condition: {gte: 1}
---
title: bad timespan
correlation:
    type: event_count
    rules: [failed_login]
    timespan: 5 minutes
    condition: {gte: 1}
"""


def run(*args):
    return subprocess.run([BINARY, *args], cwd=ROOT, capture_output=True, timeout=300)


def event(minute, event_id, user, host="WS01.contoso.com", record=0):
    return json.dumps({
        "EventTime": "2026-03-01T10:%02d:00Z" % minute,
        "Hostname": host,
        "EventID": event_id,
        "SourceName": "Microsoft-Windows-Security-Auditing",
        "Channel": "Security",
        "EventType": "AUDIT_FAILURE" if event_id == 4625 else "AUDIT_SUCCESS",
        "RecordNumber": record,
        "TargetUserName": user,
    })


def logon_events():
    """eve: 3 failures then a success (fires); bob: 2 failures then a success
    (too few); mallory: success first, then 3 failures (wrong order)."""
    lines = []
    for m in (0, 1, 2):
        lines.append(event(m, 4625, "eve"))
    lines.append(event(4, 4624, "eve"))
    for m in (0, 1):
        lines.append(event(m, 4625, "bob"))
    lines.append(event(3, 4624, "bob"))
    lines.append(event(0, 4624, "mallory"))
    for m in (1, 2, 3):
        lines.append(event(m, 4625, "mallory"))
    return [l.replace('"RecordNumber": 0', '"RecordNumber": %d' % (i + 1))
            for i, l in enumerate(lines)]


EEMS_CORRELATION = "71d6e570-6a89-481e-8241-5a3fda5278ee"


class ShippedEemsCorrelation(unittest.TestCase):
    """rules/sigma: the Sigma EEMS 1008 rule and its event_count correlation
    per Computer over 24 h, on the bundled sample data."""

    def test_rules_check(self):
        r = run("rules", "check", "rules/sigma")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("1 Sigma correlation OK, 0 refused", r.stdout.decode())

    def test_one_alert_per_host_and_day_like_our_own_rule(self):
        data = os.path.join("tests", "data", "json")
        ours = run("scan", "--rules", "rules/eems_mitigation_error.yaml", data)
        sigma = run("scan", "--rules", "rules/sigma", data)
        self.assertIn(sigma.returncode, (0, 1), sigma.stderr.decode())
        # exchange_cve_exposure alerts come from the fleet's CVE verdicts
        # (docs/exchange-cves.md), whatever rule format found the 1008s.
        native = [a for a in map(json.loads, filter(str.strip, ours.stdout.decode().splitlines()))
                  if a["rule"]["id"] != "exchange_cve_exposure"]
        alerts = [a for a in map(json.loads, filter(str.strip, sigma.stdout.decode().splitlines()))
                  if a["rule"]["id"] != "exchange_cve_exposure"]
        self.assertTrue(native and alerts)
        # Only the correlation alerts: the 1008 rule it names (generate:
        # false) raises nothing on its own.
        self.assertEqual({a["rule"]["id"] for a in alerts}, {EEMS_CORRELATION})
        # The same hosts as our own rule, each group one Computer value: the
        # host key (normalized), which is also the alert's host.
        def key(h):  # src/correlate/host_key.h's NormalizeHostName
            h = h.strip().lower()
            return (h[2:] if h.startswith("\\\\") else h).rstrip(".")
        self.assertEqual(sorted({key(h) for a in alerts for h in a["host_names"]}),
                         sorted({key(h) for a in native for h in a["host_names"]}))
        per_group = {}
        for a in alerts:
            self.assertEqual(a["correlation"]["type"], "event_count")
            computer = a["correlation"]["group"]["Computer"]
            self.assertEqual(a["host"], computer)
            self.assertEqual({key(h) for h in a["host_names"]}, {computer})
            per_group.setdefault(computer, []).append(a)
        # Windows of a group do not overlap: one alert per host and 24 h.
        for computer, group in per_group.items():
            group.sort(key=lambda a: a["window"]["start"])
            for prev, nxt in zip(group, group[1:]):
                self.assertGreaterEqual(nxt["window"]["start"], prev["window"]["end"], computer)
        v = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "validate_alerts.py"), "-"],
                           input=sigma.stdout, capture_output=True, cwd=ROOT)
        self.assertEqual(v.returncode, 0, v.stdout.decode() + v.stderr.decode())


class SigmaCorrelationE2E(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.rules = os.path.join(self.tmp.name, "rules")
        os.makedirs(self.rules)
        for name, text in BASE_RULES.items():
            self.write(os.path.join(self.rules, name), text)
        self.write(os.path.join(self.rules, "mr_bruteforce.yml"), CHAIN)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, path, text):
        with open(path, "w") as f:
            f.write(text)
        return path

    def scan(self, lines, *extra):
        path = self.write(os.path.join(self.tmp.name, "in.ndjson"), "\n".join(lines) + "\n")
        r = run("scan", "--rules", self.rules, *extra, path)
        self.assertIn(r.returncode, (0, 1), r.stderr.decode())
        return r, [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]

    def test_rules_check_counts_correlations(self):
        r = run("rules", "check", self.rules)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("2 rules OK", r.stdout.decode())
        self.assertIn("2 Sigma correlations OK, 0 refused", r.stdout.decode())

    def test_rules_check_names_refusals(self):
        bad = self.write(os.path.join(self.rules, "mr_bad.yml"), BAD)
        r = run("rules", "check", self.rules)
        out, err = r.stdout.decode(), r.stderr.decode()
        # Refused correlations do not fail the other rules' check.
        self.assertEqual(r.returncode, 0, err)
        self.assertIn("2 Sigma correlations OK, 2 refused", out)
        self.assertIn(bad + ":1: correlation 'names nothing' refused: 'rules' names "
                      "'no_such_rule', which is no loaded rule id or name", err)
        self.assertIn(bad + ":12: bad timespan '5 minutes'", err)
        # scan warns about them and still runs the good ones.
        r, alerts = self.scan(logon_events())
        self.assertIn("warning: invalid argument: " + bad + ":1: correlation 'names nothing'",
                      r.stderr.decode())
        self.assertEqual(len(alerts), 1)

    def test_chain_fires_for_the_ordered_user_only(self):
        r, alerts = self.scan(logon_events())
        self.assertEqual(len(alerts), 1, r.stdout.decode())
        a = alerts[0]
        self.assertEqual(a["rule"]["id"], "b180ead8-d58f-40b2-ae54-c8940995b9b6")
        self.assertEqual(a["rule"]["severity"], "high")
        self.assertEqual(a["correlation"]["type"], "temporal_ordered")
        self.assertEqual(a["correlation"]["group"], {"TargetUserName": "eve"})
        self.assertEqual(a["correlation"]["rules"], ["multiple_failed_login", "successful_login"])
        self.assertEqual(a["host"], "ws01.contoso.com")
        self.assertEqual(a["first_seen"], "2026-03-01T10:02:00.0000000Z")  # the inner alert
        self.assertEqual(a["last_seen"], "2026-03-01T10:04:00.0000000Z")
        # The base rules named by the chain (generate: false) raise nothing
        # on their own; the schema accepts the correlation object.
        v = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "validate_alerts.py"), "-"],
                           input=r.stdout, capture_output=True, cwd=ROOT)
        self.assertEqual(v.returncode, 0, v.stdout.decode() + v.stderr.decode())

    def test_generate_true_keeps_base_alerts(self):
        self.write(os.path.join(self.rules, "mr_bruteforce.yml"),
                   CHAIN.replace("level: high\n", "level: high\ngenerate: true\n", 1))
        _, alerts = self.scan(logon_events())
        ids = sorted({a["rule"]["id"] for a in alerts})
        # The outer chain generates its named rules: successful_login and
        # the inner correlation alert on their own; failed_login is named
        # only by the inner one (generate: false) and stays quiet.
        self.assertEqual(ids, ["a8418a5a-5fc4-46b5-b23b-6c73beb19d41",
                               "b180ead8-d58f-40b2-ae54-c8940995b9b6", "successful_login"])

    def test_untimed_hits_are_reported(self):
        """An event without a time cannot be placed in a window: scan says
        how many such hits the correlations dropped."""
        untimed = json.loads(event(0, 4625, "eve"))
        del untimed["EventTime"]
        r, alerts = self.scan(logon_events() + [json.dumps(untimed)])
        self.assertEqual(len(alerts), 1)
        self.assertIn("Sigma correlations: 0 hits late (past max_pending), 1 without a time",
                      r.stderr.decode())

    def test_input_order_does_not_change_alerts(self):
        """Shuffled input lines give the same alerts (ids, windows, counts,
        correlation); only where the samples were read (source.line) moves."""
        def without_source(alerts):
            for a in alerts:
                for s in a["samples"]:
                    s.pop("source", None)
            return alerts
        lines = logon_events()
        _, first = self.scan(lines)
        self.assertEqual(len(first), 1)
        rng = random.Random(5)
        for _ in range(3):
            rng.shuffle(lines)
            _, again = self.scan(lines)
            self.assertEqual(without_source(again), without_source(first))


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
