#!/usr/bin/env python3
"""Every input accounted for: `dump --stats` and `scan --stats` on the
damaged EVTX files of the shared corpus, and on JSON with malformed lines.

The expectations come from ../shared/corpus/SOURCES.md's `state` column,
written from the files' headers by the corpus's curator, not from eventsift:
"header counts N chunk(s), M hold data" (a stale header), "K chunk(s) with bad
magic", "N chunk data CRC bad", "N chunk header CRC bad". For each EVTX file
of the corpus the account must agree with that column, and with the records
`dump` printed; `scan` must give the same account as `dump`. Without the
corpus the EVTX part is skipped with a message; the JSON part runs on
tests/data/json/malformed.ndjson, whose bad lines its generator pins.

Usage: accounting_test.py --binary build/release/bin/eventsift [--corpus DIR]
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
import e2e_args  # noqa: E402

BINARY = None
CORPUS = None
ROOT = os.path.dirname(os.path.dirname(HERE))


def corpus_dir():
    return CORPUS or os.path.join(ROOT, "..", "shared", "corpus")


def sources_states():
    """file name -> state text, from SOURCES.md's EVTX rows."""
    path = os.path.join(corpus_dir(), "SOURCES.md")
    states = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 6 and cells[0].startswith("shared/corpus/evtx/"):
                states[cells[0].rsplit("/", 1)[1]] = cells[4]
    return states


def dump_stats(paths, tmp, *extra):
    stats = os.path.join(tmp, "dump.json")
    r = subprocess.run([BINARY, "dump", "--format", "jsonl", "--threads", "2", "--stats", stats,
                        *extra, *paths], capture_output=True, timeout=600)
    with open(stats, encoding="utf-8") as f:
        return r, json.load(f)


def scan_stats(paths, tmp):
    stats = os.path.join(tmp, "scan.json")
    r = subprocess.run([BINARY, "scan", "--threads", "2", "--stats", stats, *paths],
                       capture_output=True, timeout=600)
    with open(stats, encoding="utf-8") as f:
        return r, json.load(f)


class EvtxAccountingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        evtx = os.path.join(corpus_dir(), "evtx")
        if not os.path.isdir(evtx):
            raise unittest.SkipTest("the shared corpus is absent (%s): EVTX accounting not "
                                    "checked" % evtx)
        cls.states = sources_states()
        cls.paths = sorted(os.path.join(evtx, f) for f in os.listdir(evtx) if f.endswith(".evtx"))
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dump, cls.dump_json = dump_stats(cls.paths, cls.tmp.name)
        cls.accounts = {os.path.basename(a["input"]): a for a in cls.dump_json["inputs"]}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_input_has_an_account_and_the_records_add_up(self):
        self.assertEqual(self.dump.returncode, 0, self.dump.stderr.decode()[-2000:])
        self.assertEqual(len(self.dump_json["inputs"]), len(self.paths))
        printed = len(self.dump.stdout.splitlines())
        self.assertEqual(sum(a["records_decoded"] for a in self.dump_json["inputs"]), printed)
        self.assertEqual(self.dump_json["totals"]["records_decoded"], printed)
        self.assertEqual(self.dump_json["command"], "dump")

    def stated(self, pattern):
        """(name, match, account, state) of each corpus file whose state
        matches `pattern`."""
        for name, state in self.states.items():
            m = re.search(pattern, state)
            if m:
                yield name, m, self.accounts[name], state

    def test_stale_header_chunk_counts(self):
        checked = 0
        for name, m, a, state in self.stated(r"header counts (\d+) chunk\(s\), (\d+) hold data"):
            # SOURCES.md counts a chunk with a bad signature as holding no data.
            bad = re.search(r"(\d+) chunk\(s\) with bad magic", state)
            bad = int(bad.group(1)) if bad else 0
            with self.subTest(file=name):
                self.assertEqual(a["chunks_declared"], int(m.group(1)))
                self.assertEqual(a["chunks_found"] - a["chunks_empty"] - bad, int(m.group(2)))
                self.assertFalse(a["clean"])
                # The account line on stderr says so.
                self.assertRegex(self.dump.stderr.decode(),
                                 re.escape(name) + r": evtx, header announces %s chunks?, %d found"
                                 % (m.group(1), a["chunks_found"]))
            checked += 1
        self.assertGreaterEqual(checked, 4)

    def test_bad_chunk_magic_records_are_recovered(self):
        checked = 0
        for name, m, a, _ in self.stated(r"(\d+) chunk\(s\) with bad magic"):
            with self.subTest(file=name):
                # Each bad chunk is reported; whatever records it holds were
                # found by scanning, so they count as recovered.
                bad = len(re.findall(re.escape(name) + r"@0x[0-9a-f]+: chunk \d+ offset 0x0: "
                                     r"[^\n]*signature", self.dump.stderr.decode()))
                self.assertEqual(bad, int(m.group(1)))
                self.assertGreaterEqual(a["problems"], int(m.group(1)))
                self.assertFalse(a["clean"])
            checked += 1
        self.assertGreaterEqual(checked, 2)
        # sample_with_a_bad_chunk_magic.evtx: its bad chunks hold records.
        self.assertGreater(self.accounts["sample_with_a_bad_chunk_magic.evtx"]["records_recovered"], 0)

    def test_crc_faults_are_problems_not_losses(self):
        checked = 0
        for name, state in self.states.items():
            n = sum(int(x) for x in re.findall(r"(\d+) chunk (?:data|header) CRC bad", state))
            if n == 0:
                continue
            a = self.accounts[name]
            with open(os.path.join(corpus_dir(), "evtx", name), "rb") as f:
                flags = int.from_bytes(f.read(128)[120:124], "little")
            if flags & 4:
                n = 0  # the header's no-CRC flag: checksums are not checked (evtx-format.md)
            with self.subTest(file=name):
                crc = len(re.findall(re.escape(name) + r"@[^\n]*CRC32 mismatch",
                                     self.dump.stderr.decode()))
                self.assertEqual(crc, n)
                self.assertGreaterEqual(a["problems"], n)
                if n:
                    self.assertFalse(a["clean"])
            checked += 1
        self.assertGreaterEqual(checked, 5)

    def test_clean_files_are_clean(self):
        checked = 0
        for name, state in self.states.items():
            if state != "clean" or name not in self.accounts:
                continue
            a = self.accounts[name]
            with self.subTest(file=name):
                self.assertTrue(a["clean"], a)
                self.assertEqual((a["problems"], a["skips"], a["records_recovered"]), (0, 0, 0))
                self.assertEqual(a["chunks_declared"], a["chunks_found"] - a["chunks_empty"])
                self.assertNotIn(name + ": evtx,", self.dump.stderr.decode())
            checked += 1
        self.assertGreaterEqual(checked, 50)

    def test_skips_name_their_offset_and_reason(self):
        a = self.accounts["2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx"]
        self.assertGreater(a["skips"], 0)
        self.assertGreater(a["records_recovered"], 0)
        self.assertEqual(a["skips"], len(a["skipped"]) + a["skips_not_listed"])
        self.assertEqual(a["bytes_skipped"], sum(s["bytes"] for s in a["skipped"]))
        for s in a["skipped"]:
            self.assertIn("offset", s)
            self.assertGreater(s["bytes"], 0)
            self.assertTrue(s["reason"])
        # The dump's stderr reported each skip with its offset too.
        err = self.dump.stderr.decode()
        first = a["skipped"][0]
        self.assertIn("@0x%x: %s" % (first["offset"], first["reason"]), err)

    def test_scan_accounts_for_the_same_inputs_as_dump(self):
        r, scan = scan_stats(self.paths, self.tmp.name)
        self.assertEqual(r.returncode, 0, r.stderr.decode()[-2000:])
        self.assertEqual(scan["command"], "scan")
        self.assertEqual(len(scan["inputs"]), len(self.dump_json["inputs"]))
        for s, d in zip(scan["inputs"], self.dump_json["inputs"]):
            with self.subTest(file=d["input"]):
                for key in ("input", "format", "chunks_declared", "chunks_found", "chunks_empty",
                            "records_recovered"):
                    self.assertEqual(s[key], d[key], key)
                # scan leaves undecoded the payloads no rule needs, so a record
                # whose payload alone is broken is an event there and a skip
                # in dump (RemoteConnectionManager record 463011): one more
                # record for each problem fewer, never the other way.
                self.assertGreaterEqual(s["records_decoded"], d["records_decoded"])
                self.assertEqual(s["records_decoded"] - d["records_decoded"],
                                 d["problems"] - s["problems"])
        self.assertRegex(r.stderr.decode(), r"eventsift scan: accounted: \d+ records decoded")


class JsonAccountingTest(unittest.TestCase):
    def test_malformed_lines_are_skipped_with_their_line(self):
        path = os.path.join(ROOT, "tests", "data", "json", "malformed.ndjson")
        with tempfile.TemporaryDirectory() as tmp:
            r, stats = dump_stats([path], tmp)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            a = stats["inputs"][0]
            self.assertEqual(a["format"], "json")
            self.assertNotIn("chunks_declared", a)
            # make_test_data.py's malformed_files(): lines 3, 5, 6, 7, 8, 10
            # and 12 are bad; 1, 4, 9, 11 and 14 are events.
            self.assertEqual(a["records_decoded"], 5)
            self.assertEqual([s["line"] for s in a["skipped"]], [3, 5, 6, 7, 8, 10, 12])
            self.assertEqual(a["skips"], 7)
            self.assertFalse(a["clean"])
            self.assertRegex(r.stderr.decode(), r"account: .*malformed\.ndjson: json, 5 records "
                                                r"decoded, 7 problems, 7 lines skipped")
            r2, scan = scan_stats([path], tmp)
            self.assertEqual(scan["inputs"], stats["inputs"])

    def test_unreadable_input_is_accounted_with_its_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            junk = os.path.join(tmp, "junk.bin")
            with open(junk, "wb") as f:
                f.write(b"\x00\x01\x02 not a log")
            r, stats = dump_stats([junk], tmp)
            self.assertEqual(r.returncode, 3)
            a = stats["inputs"][0]
            self.assertIsNone(a["format"])
            self.assertTrue(a["error"])
            self.assertRegex(r.stderr.decode(), r"account: .*junk\.bin: not read: ")


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__], flags=("--binary", "--corpus"))
