#!/usr/bin/env python3
"""The test-side EVTX writer (tests/tools/evtx_writer.py) checked against two
independent readers, and eventsift against what was written.

The EEMS logs of tests/tools/eems_evtx.py (classic Exchange events with
unnamed <Data> insertion strings and Qualifiers, a manifest Security event,
a file long enough to take several chunks) are written to a temporary
directory; evtx_dump 0.15.1 (`-o xml`) and libevtx's evtxexport (`-f xml`)
must each read back every record with the event id, qualifiers, provider,
computer, time, record id and Data values that were written, with no error
or warning about checksums. Then `eventsift dump` must give the same.

A peer that is missing is skipped with a message, except under CI=true,
where both must be there (scripts/setup.sh installs them).

Usage: evtx_writer_test.py --binary build/release/bin/eventsift
"""

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import e2e_args  # noqa: E402
import eems_evtx  # noqa: E402
import evtx_writer as ew  # noqa: E402
import peers  # noqa: E402

BINARY = None


def expected_records():
    """record id -> what was written, per file name."""
    by_file = {}
    for e in eems_evtx.events():
        host = eems_evtx.HOSTS[e["host"]]
        name = "%s_%s.evtx" % (host.rstrip(".").replace(".", "_"), e["channel"].replace(" ", "_"))
        by_file.setdefault(name, {})[e["record"]] = dict(
            event_id=e["id"], qualifiers=e["qualifiers"], provider=e["provider"], computer=host,
            time=e["time"], data=[v for _, v in e["data"]],
            names=[n for n, _ in e["data"]])
    return by_file


def split_xml_records(text):
    """Event elements of a peer's XML output, parsed."""
    return [ET.fromstring(m) for m in re.findall(r"<Event[ >].*?</Event>", text, re.S)]


def local(tag):
    return tag.rsplit("}", 1)[-1]


def fields_of(ev):
    sysel = next(c for c in ev if local(c.tag) == "System")
    out = {}
    for el in sysel:
        n = local(el.tag)
        if n == "Provider":
            out["provider"] = el.get("Name")
        elif n == "EventID":
            out["event_id"] = int(el.text)
            q = el.get("Qualifiers")
            out["qualifiers"] = int(q) if q is not None else None
        elif n == "TimeCreated":
            out["time"] = el.get("SystemTime")
        elif n == "EventRecordID":
            out["record_id"] = int(el.text)
        elif n == "Computer":
            out["computer"] = el.text
    data = next((c for c in ev if local(c.tag) == "EventData"), None)
    out["data"] = [d.text or "" for d in data if local(d.tag) == "Data"] if data is not None else []
    return out


def time_prefix(t):
    # Peers print 7 (evtx_dump) or 9 (evtxexport) fractional digits.
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%06d" % t.microsecond


class EvtxWriterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.paths = eems_evtx.write_evtx(eems_evtx.events(), cls.tmp.name)
        # A long file: the writer must start new chunks (names and templates
        # defined again in each).
        w = ew.EvtxWriter()
        t = ew.classic_event_template("MSExchange Mitigation Service", "Application", "EX09")
        when = dt.datetime(2026, 11, 20, 0, 0, tzinfo=dt.timezone.utc)
        for i in range(1, 601):
            w.add_record(t, ew.classic_values(1008, 49152, 2, 1, 0x80000000000000,
                                              when + dt.timedelta(minutes=i), i, 4312, 5120,
                                              ["An unexpected exception occurred. %d" % i, "x" * 40]),
                         record_id=i, written=ew.filetime(when))
        cls.long_chunks = len([c for c in w.chunks if c.records])
        cls.long_path = os.path.join(cls.tmp.name, "long.evtx")
        with open(cls.long_path, "wb") as f:
            f.write(w.to_bytes())
        cls.expected = expected_records()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def peer(self, finder):
        path, why = finder()
        if path is None:
            if peers.in_ci():
                self.fail("CI=true and " + why)
            self.skipTest(why)
        return path

    def check_records(self, name, events, tool):
        want = self.expected[name]
        got = {f["record_id"]: f for f in map(fields_of, events)}
        self.assertEqual(sorted(got), sorted(want), f"{tool} {name}: record ids")
        for rid, w in want.items():
            g = got[rid]
            with self.subTest(tool=tool, file=name, record=rid):
                self.assertEqual(g["event_id"], w["event_id"])
                self.assertEqual(g["qualifiers"], w["qualifiers"])
                self.assertEqual(g["provider"], w["provider"])
                self.assertEqual(g["computer"], w["computer"])
                self.assertTrue(g["time"].startswith(time_prefix(w["time"])), (g["time"], w["time"]))
                self.assertEqual([v.replace("\r\n", "\n") for v in g["data"]],
                                 [v.replace("\r\n", "\n") for v in w["data"]])

    def test_writer_makes_several_chunks(self):
        self.assertGreaterEqual(self.long_chunks, 3)
        self.assertEqual(len(self.paths), 5)

    def test_evtx_dump_reads_back_what_was_written(self):
        exe = self.peer(peers.find_evtx_dump)
        for path in self.paths:
            r = subprocess.run([exe, "-o", "xml", path], capture_output=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            err = r.stderr.decode()
            self.assertNotRegex(err.lower(), r"checksum|crc|error|fail", err)
            self.check_records(os.path.basename(path), split_xml_records(r.stdout.decode()),
                               "evtx_dump")
        r = subprocess.run([exe, "-o", "xml", self.long_path], capture_output=True, timeout=120)
        self.assertEqual(len(split_xml_records(r.stdout.decode())), 600, r.stderr.decode())

    def test_evtxexport_reads_back_what_was_written(self):
        exe = self.peer(peers.find_evtxexport)
        for path in self.paths + [self.long_path]:
            r = subprocess.run([exe, "-f", "xml", path], capture_output=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            events = split_xml_records(r.stdout.decode())
            if path == self.long_path:
                self.assertEqual(len(events), 600)
            else:
                self.check_records(os.path.basename(path), events, "evtxexport")
        info = subprocess.run(["evtxinfo", self.long_path], capture_output=True, timeout=60)
        if info.returncode == 0:
            self.assertRegex(info.stdout.decode(), r"Number of records\s*:\s*600")
            self.assertRegex(info.stdout.decode(), r"Number of recovered records\s*:\s*0")

    def test_eventsift_reads_back_what_was_written_without_errors(self):
        for path in self.paths:
            r = subprocess.run([BINARY, "dump", "--format", "jsonl", path], capture_output=True,
                               timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertRegex(r.stderr.decode(), r", 0 errors")
            got = {}
            for line in r.stdout.decode().splitlines():
                e = json.loads(line)
                got[e["record_id"]] = e
            want = self.expected[os.path.basename(path)]
            self.assertEqual(sorted(got), sorted(want))
            for rid, w in want.items():
                g = got[rid]
                self.assertEqual((g["event_id"], g.get("qualifiers"), g["provider"], g["computer"]),
                                 (w["event_id"], w["qualifiers"], w["provider"], w["computer"]))
                self.assertTrue(g["time"].startswith(time_prefix(w["time"])))
                self.assertEqual(list(g["data"].values()), w["data"])
        r = subprocess.run([BINARY, "dump", "--format", "jsonl", self.long_path],
                           capture_output=True, timeout=120)
        self.assertEqual(len(r.stdout.decode().splitlines()), 600, r.stderr.decode())
        self.assertRegex(r.stderr.decode(), r", 0 errors")


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
