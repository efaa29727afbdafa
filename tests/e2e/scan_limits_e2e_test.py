#!/usr/bin/env python3
"""Bounds of `eventsift scan` on hostile inputs and rules, through the real binary.

- A JSON array past the whole-input limit is refused naming the file, and the
  other inputs' alerts are still written.
- Event ids outside 0..65535 are malformed lines, never wrapped into 1008.
- Rule regexes past the program-size limit are refused at load; regexes see
  only the first 64 KiB of a value.

Peak RSS is read from the child's own rusage (os.wait4), a bound check with a
wide margin, not a timing. Inputs are generated here, in a temporary directory.

Usage: scan_limits_e2e_test.py --binary build/release/bin/eventsift [unittest args]
"""

import gzip
import json
import os
import subprocess
import sys
import tempfile
import unittest
import zlib
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402

BINARY = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

EEMS_MESSAGE = ("An unexpected exception occurred. Diagnostic information: Exception encountered "
                "while fetching mitigations : System.Net.Http.HttpRequestException")
BASE = datetime(2026, 11, 20, tzinfo=timezone.utc)


def eems_line(host, when, record, event_id="1008"):
    """One NXLog line the shipped EEMS rule matches (event_id as JSON text)."""
    return ('{"EventTime":"%s","Hostname":"%s","EventType":"ERROR","SeverityValue":4,'
            '"Severity":"ERROR","EventID":%s,"SourceName":"MSExchange Mitigation Service",'
            '"RecordNumber":%d,"Channel":"Application","Message":"%s"}\n'
            % (when.strftime("%Y-%m-%dT%H:%M:%S.0000000Z"), host, event_id, record, EEMS_MESSAGE))


def run_measured(args, cwd=ROOT, timeout=600):
    """Runs the binary; returns (returncode, stdout, stderr, peak RSS in MiB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen([BINARY, *args], cwd=cwd, stdout=out, stderr=err)
        try:
            _, status, usage = os.wait4(p.pid, 0)
        except BaseException:
            p.kill()
            raise
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read(), err.read(), usage.ru_maxrss / 1024.0


def alerts_of(stdout):
    return [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


class WholeInputLimit(unittest.TestCase):
    def test_gzip_array_of_a_gibibyte_is_refused_and_other_alerts_written(self):
        with tempfile.TemporaryDirectory() as tmp:
            bomb = os.path.join(tmp, "bomb.json.gz")
            z = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip wrapper
            block = b" " * (1 << 20)
            with open(bomb, "wb") as f:
                f.write(z.compress(b"["))
                for _ in range(1024):
                    f.write(z.compress(block))
                f.write(z.compress(b"]"))
                f.write(z.flush())
            good = os.path.join(tmp, "good.ndjson")
            with open(good, "w") as f:
                f.write(eems_line("ex09.contoso.com", BASE, 7))
            code, out, err, rss = run_measured(["scan", "--threads", "2", bomb, good])
            text = err.decode()
            self.assertEqual(code, 3, text)  # an input could not be read
            self.assertIn("bomb.json.gz", text)
            self.assertIn("over the 256 MiB limit", text)
            self.assertIn("(1 unreadable)", text)
            alerts = alerts_of(out)
            self.assertEqual([a["host"] for a in alerts], ["ex09.contoso.com"])
            # Reading the whole GiB took 1.85 GB; refusing stops near the limit.
            self.assertLess(rss, 900, f"peak RSS {rss:.0f} MiB")


class EventIdRange(unittest.TestCase):
    def test_out_of_range_ids_are_malformed_lines_and_raise_nothing(self):
        bad = ["4294968304", '"0x1000003f0"', "1008.9", "4294967296", "1.5", "-1", "65536"]
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ids.ndjson")
            with open(path, "w") as f:
                for i, event_id in enumerate(bad):
                    f.write(eems_line("ex0%d.contoso.com" % i, BASE, i + 1, event_id))
                f.write(eems_line("good.contoso.com", BASE, 99, "1008"))
            code, out, err, _ = run_measured(["scan", path])
            text = err.decode()
            self.assertEqual(code, 0, text)  # malformed lines are reported, not failures
            self.assertEqual([a["host"] for a in alerts_of(out)], ["good.contoso.com"])
            for line in range(1, len(bad) + 1):
                self.assertIn(f"ids.ndjson:{line}: EventID is out of range", text)
            self.assertIn(f"{len(bad)} errors", text)


class RegexLimits(unittest.TestCase):
    def write_rule(self, tmp, regex):
        path = os.path.join(tmp, "costly.yaml")
        with open(path, "w") as f:
            f.write("id: costly\ntitle: costly\nseverity: low\n"
                    "match:\n  providers: [MSExchange Mitigation Service]\n"
                    "  fields:\n    - field: message\n      regex: '%s'\n" % regex)
        return path

    def test_program_past_the_limit_is_refused_by_rules_check_and_scan(self):
        with tempfile.TemporaryDirectory() as tmp:
            rule = self.write_rule(tmp, "[a-z]+" * 20000)
            r = subprocess.run([BINARY, "rules", "check", rule], capture_output=True, timeout=300)
            text = r.stdout.decode() + r.stderr.decode()
            self.assertEqual(r.returncode, 2, text)
            self.assertIn("costly.yaml", text)
            self.assertIn("over the limit of 2000", text)
            self.assertIn("... (120000 bytes)", text)  # not the whole regex
            self.assertLess(len(text), 2000)
            data = os.path.join(tmp, "one.ndjson")
            with open(data, "w") as f:
                f.write(eems_line("ex01", BASE, 1))
            r = subprocess.run([BINARY, "scan", "--rules", rule, data], capture_output=True,
                               timeout=300)
            self.assertEqual(r.returncode, 2, r.stderr.decode())
            self.assertIn("over the limit of 2000", r.stderr.decode())
            # Just under the limit still loads.
            ok = self.write_rule(tmp, "[a-z]+" * 1000)
            r = subprocess.run([BINARY, "rules", "check", ok], capture_output=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())

    def test_regex_sees_the_first_64_kib_of_a_value(self):
        with tempfile.TemporaryDirectory() as tmp:
            rule = self.write_rule(tmp, "NEEDLE")
            data = os.path.join(tmp, "long.ndjson")
            with open(data, "w") as f:
                for host, pad in (("inside", 65536 - 6), ("outside", 65536 - 5)):
                    line = json.dumps({
                        "EventTime": rfc3339(BASE), "Hostname": host, "EventID": 1,
                        "SourceName": "MSExchange Mitigation Service", "Channel": "Application",
                        "Message": "x" * pad + "NEEDLE"})
                    f.write(line + "\n")
            code, out, err, _ = run_measured(["scan", "--rules", rule, data])
            self.assertEqual(code, 0, err.decode())
            self.assertEqual([a["host"] for a in alerts_of(out)], ["inside"])


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
