#!/usr/bin/env python3
"""Bounds of `eventsift scan` on hostile inputs and rules, through the real binary.

- Memory does not grow with rule hits: every event of a large generated export
  matches, the scan's peak RSS stays under a ceiling far below what keeping
  every hit took, and the alerts are exactly what a Python oracle computes
  from the generated events (windows, counts, first/last, earliest samples).
- A JSON array past the whole-input limit is refused naming the file, and the
  other inputs' alerts are still written; so are they when one input runs
  out of memory under a limit.
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
import re
import resource
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


def sanitized():
    """True for an ASan build: its shadow memory and quarantine make RSS and
    address-space limits meaningless, and it runs several times slower."""
    with open(BINARY, "rb") as f:
        return b"__asan_init" in f.read()


def alerts_of(stdout):
    return [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


class HitsInBoundedMemory(unittest.TestCase):
    HOSTS = ["ex01.contoso.com", "ex02.contoso.com", "ex03.contoso.com"]
    N = 600_000  # about 870 MB when every hit was kept (1.45 KB each)
    CEILING_MIB = 300

    @classmethod
    def setUpClass(cls):
        cls.sanitized = sanitized()
        if cls.sanitized:
            cls.N = 150_000  # still past the 64 MiB in-memory budget
        cls.tmp = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.tmp.name, "every_event_hits.ndjson.gz")
        # Times in a scrambled order (a permutation of N seconds over ~7 days),
        # so the first hit read is not the first in time: windows must start
        # at each host's earliest hit wherever it is in the input.
        cls.events = []  # (host, time, record)
        with gzip.open(cls.path, "wt", compresslevel=1) as f:
            for i in range(cls.N):
                host = cls.HOSTS[i % len(cls.HOSTS)]
                when = BASE + timedelta(seconds=(i * 7919) % cls.N)
                cls.events.append((host, when, i + 1))
                f.write(eems_line(host, when, i + 1))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def expected(self):
        """The EEMS rule's alerts computed from the generated events: 24 h
        windows from each host's first hit, threshold 1, 3 samples, and a
        window starting within 24 h of an alert's window end folded into that
        alert. {(host, start): (hits of the alert's window, suppressed)}."""
        by_host = {}
        for host, when, record in self.events:
            by_host.setdefault(host, []).append((when, record))
        want = {}
        day = timedelta(days=1)
        for host, hits in by_host.items():
            hits.sort()
            t0 = hits[0][0]
            windows = {}
            for when, record in hits:
                k = int((when - t0).total_seconds() // 86400)
                windows.setdefault(t0 + k * day, []).append((when, record))
            alert_end = None
            last = None
            for start in sorted(windows):
                if alert_end is not None and start < alert_end + day:
                    want[last] = (want[last][0], want[last][1] + len(windows[start]))
                    continue
                last = (host, start)
                want[last] = (windows[start], 0)
                alert_end = start + day
        return want

    def test_every_event_a_hit_keeps_memory_bounded_and_alerts_exact(self):
        report = os.path.join(self.tmp.name, "fleet.html")
        code, out, err, rss = run_measured(["scan", "--threads", "2", "--report", report,
                                            self.path])
        self.assertEqual(code, 0, err.decode())
        # The fleet timeline counts every hit once, per host, from aggregates.
        with open(report) as f:
            html = f.read()
        for host in self.HOSTS:
            lane = html[html.index('data-host="%s"' % host):]
            lane = lane[:lane.index("</g>")]
            counts = re.findall(r'class="eems-error"[^>]*data-count="(\d+)"', lane)
            self.assertEqual(sum(map(int, counts)), self.N // len(self.HOSTS), host)
        if not self.sanitized:
            self.assertLess(rss, self.CEILING_MIB,
                            f"peak RSS {rss:.0f} MiB for {self.N} hits (ceiling {self.CEILING_MIB})")
        self.assertIn(f"{self.N} hits".encode(), err)
        alerts = alerts_of(out)
        want = self.expected()
        got = {(a["host"], a["window"]["start"]): a for a in alerts}
        self.assertEqual(sorted(got), sorted((h, rfc3339(s)) for h, s in want))
        for (host, start), (hits, suppressed) in want.items():
            a = got[(host, rfc3339(start))]
            self.assertEqual(a["count"], len(hits))
            self.assertEqual(a["suppressed"], suppressed)
            self.assertEqual(a["first_seen"], rfc3339(hits[0][0]))
            self.assertEqual(a["last_seen"], rfc3339(hits[-1][0]))
            self.assertEqual([s["record_id"] for s in a["samples"]], [r for _, r in hits[:3]])

    def test_hits_that_cannot_be_stored_are_reported_not_silent(self):
        # No temporary directory for the hits past the memory budget: the hits
        # kept in memory still make alerts, the lost ones are counted, and the
        # input counts as failed (exit 3), since alerts may be missing.
        env = dict(os.environ, TMPDIR="/nonexistent/eventsift-test")
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            code = subprocess.call([BINARY, "scan", self.path], cwd=ROOT, stdout=out, stderr=err,
                                   env=env, timeout=600)
            out.seek(0)
            err.seek(0)
            text = err.read().decode()
            self.assertEqual(code, 3, text)
            self.assertIn("cannot create a temporary file for rule hits", text)
            self.assertRegex(text, r"; [1-9][0-9]* rule hits lost")
            self.assertIn("(1 unreadable)", text)
            self.assertTrue(alerts_of(out.read()))

    def test_many_inputs_past_the_budget_share_one_temporary_file(self):
        # The big export fills the in-memory budget first (one thread, sorted
        # names), so the hits of the 1,000 small inputs after it all spill:
        # into one file, within a limit of 64 open files.
        small = 1000
        with tempfile.TemporaryDirectory() as tmp:
            os.symlink(self.path, os.path.join(tmp, "a_big.ndjson.gz"))
            for i in range(small):
                with open(os.path.join(tmp, "b%04d.ndjson" % i), "w") as f:
                    f.write(eems_line("small%04d.contoso.com" % i, BASE, i + 1))

            def limit_files():
                resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

            r = subprocess.run([BINARY, "scan", "--threads", "1", tmp], cwd=ROOT,
                               capture_output=True, timeout=600, preexec_fn=limit_files)
            text = r.stderr.decode()
            self.assertEqual(r.returncode, 0, text[-2000:])
            self.assertIn(f"{self.N + small} hits", text)
            hosts = {a["host"] for a in alerts_of(r.stdout)}
            self.assertEqual(len([h for h in hosts if h.startswith("small")]), small)
            self.assertTrue(set(self.HOSTS) <= hosts)

    def test_thread_count_does_not_change_alerts(self):
        one = run_measured(["scan", "--threads", "1", self.path])
        two = run_measured(["scan", "--threads", "2", self.path])
        self.assertEqual(one[0], 0, one[2].decode())
        self.assertEqual(one[1], two[1])


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
            if not sanitized():
                self.assertLess(rss, 900, f"peak RSS {rss:.0f} MiB")


    def test_out_of_memory_on_one_input_fails_it_alone(self):
        """Under a memory limit, a 200 MiB UTF-16 array (within the whole-input
        limit, read whole) exhausts memory: that input fails, the other input's
        alert is still written (the whole scan died with std::bad_alloc)."""
        if sanitized():
            self.skipTest("ASan reserves terabytes of address space: RLIMIT_AS cannot apply")
        with tempfile.TemporaryDirectory() as tmp:
            big = os.path.join(tmp, "big_utf16.json")
            element = ('{"Id":7036,"ProviderName":"Service Control Manager","MachineName":"ex01",'
                       '"LogName":"System","Message":"%s"}' % ("x" * 900))
            count = (200 << 20) // (2 * (len(element) + 2))
            with open(big, "wb") as f:
                f.write(b"\xff\xfe")
                f.write(("[" + ",\n".join([element] * count) + "]").encode("utf-16-le"))
            good = os.path.join(tmp, "good.ndjson")
            with open(good, "w") as f:
                f.write(eems_line("ex09.contoso.com", BASE, 7))
            limit = 300 << 20  # the scan of good.ndjson alone runs in 200 MiB

            def limit_memory():
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

            r = subprocess.run([BINARY, "scan", "--threads", "1", big, good], cwd=ROOT,
                               capture_output=True, timeout=300, preexec_fn=limit_memory)
            text = r.stderr.decode()
            self.assertEqual(r.returncode, 3, text)
            self.assertIn("big_utf16.json: out of memory while reading this input", text)
            self.assertIn("(1 unreadable)", text)
            self.assertEqual([a["host"] for a in alerts_of(r.stdout)], ["ex09.contoso.com"])


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
