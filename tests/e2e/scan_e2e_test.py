#!/usr/bin/env python3
"""End-to-end tests of `eventsift scan` through the real binary.

The expected alerts are derived independently of detect/ and correlate/: the
test decodes the inputs with `eventsift dump --format jsonl` (the decoders are
tested against their own oracles) and applies the EEMS rule's documented
conditions (domain.md section 1) in Python, then checks that the scan's alerts
cover exactly those hosts and events. The golden file pins the whole alert
documents for the bundled sample data, field by field.

Usage: scan_e2e_test.py --binary build/release/bin/eventsift [unittest args]
"""

import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402

BINARY = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Relative to ROOT (the working directory), as a user would type it: alert
# samples and build sources carry the path as given.
DATA = os.path.join("tests", "data", "json")
GOLDEN = os.path.join(ROOT, "tests", "e2e", "golden", "scan_json.ndjson")
EEMS_TEXT = re.compile(
    r"(?i)fetching mitigations|untrusted endpoint|certificate|trust relationship|not deemed safe")


def run(*args, stdin=None):
    return subprocess.run([BINARY, *args], cwd=ROOT, input=stdin, capture_output=True,
                          timeout=300)


def alerts_of(stdout):
    return [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]


def validate(test, ndjson_bytes):
    """Every alert validates against schemas/alert.schema.json (jsonschema)."""
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "validate_alerts.py"), "-"],
                       input=ndjson_bytes, capture_output=True, cwd=ROOT)
    test.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())


def normalize_host(name):
    return name.strip().rstrip(".").lower()


def expected_eems(paths):
    """host key -> list of (time, record_id) of EEMS 1008 errors, from dump."""
    r = run("dump", "--format", "jsonl", *paths)
    events = [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]
    hits = {}
    for e in events:
        if (e["provider"].lower() == "msexchange mitigation service" and
                e["event_id"] == 1008 and e["level"] == 2 and
                e["channel"].lower() == "application"):
            text = [e.get("message", "")] + list(e["data"].values())
            if any(EEMS_TEXT.search(t) for t in text):
                hits.setdefault(normalize_host(e["computer"]), []).append(e)
    # A short name stands for the one FQDN that starts with it (the scan's
    # default --merge of short names).
    fqdns = [h for h in hits if "." in h]
    merged = {}
    for h, evs in hits.items():
        target = h
        if "." not in h:
            matches = [f for f in fqdns if f.split(".")[0] == h]
            if len(matches) == 1:
                target = matches[0]
        merged.setdefault(target, []).extend(evs)
    return merged


class ScanE2ETest(unittest.TestCase):
    def test_sample_data_alerts_only_for_eems_hosts(self):
        r = run("scan", "--threads", "1", DATA)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        validate(self, r.stdout)
        alerts = alerts_of(r.stdout)
        expected = expected_eems([os.path.join(DATA, f) for f in sorted(os.listdir(os.path.join(ROOT, DATA)))
                                  if not f.endswith(".py")])
        self.assertTrue(expected, "sample data must hold EEMS events")
        by_host = {}
        # ex01's build (15.1.2507.16) makes a CVE verdict alert as well;
        # cve_e2e_test.py checks those.
        alerts = [a for a in alerts if a["rule"]["id"] != "exchange_cve_exposure"]
        for a in alerts:
            self.assertEqual(a["rule"]["id"], "eems_mitigation_error")
            by_host.setdefault(a["host"], []).append(a)
        self.assertEqual(sorted(by_host), sorted(expected))
        for host, evs in expected.items():
            got = sum(a["count"] + a["suppressed"] for a in by_host[host])
            self.assertEqual(got, len(evs), host)
            times = sorted(e["time"] for e in evs)
            self.assertEqual(min(a["first_seen"] for a in by_host[host]), times[0])
            # Suppressed repeats are counted, not kept as last_seen.
            self.assertLessEqual(max(a["last_seen"] for a in by_host[host]), times[-1])
        # The summary counts what was read, and the malformed lines were
        # reported with file:line while the scan went on.
        err = r.stderr.decode()
        self.assertRegex(err, r"malformed\.ndjson:3: ")
        self.assertRegex(err, r"eventsift scan: 10 inputs \(0 unreadable\), \d+ events")

    def test_golden_alerts_field_by_field(self):
        r = run("scan", "--threads", "2", DATA)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        got = alerts_of(r.stdout)
        with open(GOLDEN) as f:
            want = [json.loads(line) for line in f if line.strip()]
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            g["producer"].pop("version")
            w["producer"].pop("version")
            # Where the rule file lies depends on the checkout.
            self.assertTrue(g["rule"].pop("source").endswith(w["rule"].pop("source")))
            for key in sorted(set(g) | set(w)):
                self.assertEqual(g.get(key), w.get(key), f"{w['host']}: field {key}")

    def test_each_export_shape_alone(self):
        for name in ["winlogbeat.ndjson", "nxlog.ndjson", "powershell_array.json",
                     "powershell_utf16le.json", "evtx_dump.jsonl", "mixed_shapes.ndjson.gz"]:
            with self.subTest(name=name):
                path = os.path.join(DATA, name)
                r = run("scan", path)
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                validate(self, r.stdout)
                hosts = sorted({a["host"] for a in alerts_of(r.stdout)})
                self.assertEqual(hosts, sorted(expected_eems([path])))
                self.assertRegex(r.stderr.decode(), r", 0 errors in")

    def test_real_exports_without_eems_raise_nothing(self):
        for name in ["otrf_netprofm_head100.json.gz", "otrf_smbexec_head200.json.gz"]:
            r = run("scan", os.path.join(DATA, name))
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertEqual(alerts_of(r.stdout), [])
            self.assertRegex(r.stderr.decode(), r"1 inputs \(0 unreadable\), [1-9]\d* events")

    def test_stdin_gives_the_same_alerts(self):
        path = os.path.join(DATA, "winlogbeat.ndjson")
        from_file = alerts_of(run("scan", path).stdout)
        with open(path, "rb") as f:
            r = run("scan", "-", stdin=f.read())
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        from_stdin = alerts_of(r.stdout)
        self.assertEqual([a["alert_id"] for a in from_stdin], [a["alert_id"] for a in from_file])
        self.assertEqual([a["count"] for a in from_stdin], [a["count"] for a in from_file])
        self.assertTrue(from_stdin)
        self.assertEqual(from_stdin[0]["samples"][0]["source"]["file"], "<stdin>")

    def test_threads_do_not_change_output(self):
        one = run("scan", "--threads", "1", DATA, os.path.join(ROOT, "tests", "data", "evtx"))
        three = run("scan", "--threads", "3", DATA, os.path.join(ROOT, "tests", "data", "evtx"))
        self.assertEqual(one.returncode, 0)
        self.assertEqual(one.stdout, three.stdout)
        self.assertTrue(one.stdout)

    def test_out_file_and_table(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "alerts.ndjson")
            r = run("scan", "--out", out, DATA)
            self.assertEqual(r.returncode, 0)
            self.assertEqual(r.stdout, b"")
            with open(out, "rb") as f:
                self.assertEqual(f.read(), run("scan", DATA).stdout)
        t = run("scan", "--format", "table", DATA)
        self.assertEqual(t.returncode, 0)
        lines = t.stdout.decode().splitlines()
        self.assertTrue(lines[0].startswith("HOST"))
        hosts = sorted(a["host"] for a in alerts_of(run("scan", DATA).stdout))
        # The alert table ends with its count; the fleet summary follows
        # (tests/e2e/fleet_e2e_test.py checks it).
        end = lines.index(f"{len(hosts)} alerts")
        self.assertEqual(sorted(l.split()[0] for l in lines[1:end]), hosts)
        self.assertTrue(lines[end + 2].startswith("Exchange fleet: "), lines[end + 2])

    def test_missing_input_exit_3_and_others_scanned(self):
        r = run("scan", "/nonexistent/file.evtx", os.path.join(DATA, "winlogbeat.ndjson"))
        self.assertEqual(r.returncode, 3)
        self.assertIn("/nonexistent/file.evtx", r.stderr.decode())
        self.assertTrue(alerts_of(r.stdout))
        with tempfile.NamedTemporaryFile(suffix=".bin") as f:
            f.write(b"\x00\x01binary junk")
            f.flush()
            r = run("scan", f.name)
            self.assertEqual(r.returncode, 3)
            self.assertIn("not an EVTX file or a JSON export", r.stderr.decode())

    def test_bad_rule_is_refused_with_file_and_id(self):
        with tempfile.TemporaryDirectory() as tmp:
            rule = os.path.join(tmp, "bad.yaml")
            with open(rule, "w") as f:
                f.write("id: broken_rule\ntitle: t\nseverity: high\nmatch:\n"
                        "  fields:\n    - field: message\n      regex: '(unclosed'\n")
            r = run("scan", "--rules", rule, DATA)
            self.assertEqual(r.returncode, 2)
            err = r.stderr.decode()
            self.assertIn("bad.yaml", err)
            self.assertIn("broken_rule", err)

    def test_fail_on_alert_and_usage_errors(self):
        self.assertEqual(run("scan", "--fail-on-alert", DATA).returncode, 10)
        self.assertEqual(run("scan", "--fail-on-alert",
                             os.path.join(DATA, "otrf_smbexec_head200.json.gz")).returncode, 0)
        self.assertEqual(run("scan").returncode, 2)
        self.assertEqual(run("scan", "--format", "xml", DATA).returncode, 2)
        self.assertEqual(run("scan", "--no-such-flag", DATA).returncode, 2)
        self.assertEqual(run("nonsense").returncode, 2)

    def test_evtx_inputs_are_scanned(self):
        evtx = os.path.join(ROOT, "tests", "data", "evtx")
        r = run("scan", evtx)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        n = len([f for f in os.listdir(evtx) if f.endswith(".evtx")])
        dumped = run("dump", "--format", "jsonl", *sorted(
            os.path.join(evtx, f) for f in os.listdir(evtx) if f.endswith(".evtx")))
        records = len(dumped.stdout.splitlines())
        self.assertRegex(r.stderr.decode(), rf"{n} inputs \(0 unreadable\), {records} events")
        # The real MSExchange CmdletLogs record (Set-Mailbox) is no ProxyShell
        # indicator, and no other sample is an EEMS event.
        self.assertEqual(alerts_of(r.stdout), [])

    def test_sigterm_stops_between_inputs_and_still_delivers(self):
        # One worker reads stdin; SIGTERM arrives while it does. The stdin
        # input is finished and its alerts written; the next input is skipped.
        import signal
        import time
        with open(os.path.join(ROOT, DATA, "winlogbeat.ndjson"), "rb") as f:
            lines = f.read()
        p = subprocess.Popen([BINARY, "scan", "--threads", "1", "-",
                              os.path.join(DATA, "nxlog.ndjson")], cwd=ROOT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdin.write(lines)
        p.stdin.flush()
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        p.stdin.close()
        out = p.stdout.read()
        err = p.stderr.read()
        p.wait(timeout=60)
        p.stdout.close()
        p.stderr.close()
        self.assertEqual(p.returncode, 130, err.decode())
        self.assertIn("interrupted; 1 inputs not scanned", err.decode())
        got = alerts_of(out)
        want = alerts_of(run("scan", "-", stdin=lines).stdout)
        self.assertTrue(want)
        self.assertEqual([a["alert_id"] for a in got], [a["alert_id"] for a in want])

    def test_help_everywhere(self):
        for cmd in ["scan", "dump", "rules", "spool", "alerts", "daemon"]:
            with self.subTest(cmd=cmd):
                r = run(cmd, "--help")
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                self.assertIn("xample", r.stdout.decode())
        self.assertEqual(run("--help").returncode, 0)


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
