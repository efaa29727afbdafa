#!/usr/bin/env python3
"""One NDJSON file scanned on 1 and on 2 threads gives the same bytes.

`scan --threads N` splits a large plain NDJSON file at line boundaries across
its threads (docs/performance.md, "NDJSON on every core"). Alerts (stdout),
diagnostics (stderr, with their file:line) and the --stats account must be
identical to one thread's (the EventRecordID account too: each part keeps its
own and they are merged in file order), and --stats says the file was read in
2 parts, on:

1. a crafted file of a few MiB (large enough to be split) built from the
   repository's test exports, with malformed, blank, CRLF and overlong-free
   bad lines placed around the split point and elsewhere, and EEMS events on
   both sides of it so alerts fold hits from both parts;
2. the same with the shared corpus's JSON events (decompressed, concatenated)
   and its Sigma rules, when the corpus is present (skipped, saying so, when
   absent);
3. the corpus's JSON directory as it is (small files: nothing is split, but
   the files are spread over the threads).

Usage: ndjson_split_test.py --binary build/release/bin/eventsift [unittest args]
"""

import glob
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
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
CORPUS = os.environ.get("EVENTSIFT_CORPUS", os.path.join(SHARED, "corpus"))
SIGMA = os.path.join(SHARED, "sigma", "rules", "windows")

# parsers/json/json_decoder.h: kMinSplitPartBytes. Files of at least twice
# this are split.
MIN_PART = 1 << 20


def ndjson_lines(path):
    """The non-blank lines of an NDJSON test export (gzip or not)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data.lstrip()[:1] != b"{" or data.lstrip().split(b"\n", 1)[0].strip() == b"{":
        return []  # an array or pretty-printed: not lines
    return [line.rstrip(b"\r") for line in data.split(b"\n") if line.strip()]


BAD = [
    b"{not json at all",
    b'{"@timestamp": "2023-01-01T00:00:00Z", "winlog": ',
    b"[1, 2, 3]",
    b"   ",
    b"",
    b'"just a string"',
    b"{}",
]


def craft(good, size, bad_every, middle_bad):
    """Lines from `good`, cycled to `size` bytes, a bad line every
    `bad_every` lines, some CRLF endings, and `middle_bad` bad lines right
    around the middle of the file (where 2 threads split it)."""
    out, n, i = [], 0, 0
    while n < size:
        if i % bad_every == bad_every - 1:
            line = BAD[(i // bad_every) % len(BAD)]
        else:
            line = good[i % len(good)]
        end = b"\r\n" if i % 5 == 0 else b"\n"
        out.append(line + end)
        n += len(line) + len(end)
        i += 1
    mid = len(out) // 2
    for k in range(middle_bad):
        out.insert(mid - middle_bad // 2 + 2 * k, BAD[k % len(BAD)] + b"\n")
    return b"".join(out)


class NdjsonSplitTest(unittest.TestCase):
    def scan(self, threads, inputs, rules=()):
        with tempfile.TemporaryDirectory() as tmp:
            stats = os.path.join(tmp, "stats.json")
            args = [BINARY, "scan", "--threads", str(threads), "--stats", stats]
            for r in rules:
                args += ["--rules", r]
            p = subprocess.run(args + list(inputs), cwd=ROOT, capture_output=True, timeout=300)
            with open(stats, "rb") as f:
                account = f.read()
        # The summary line's timing is the one thing allowed to differ, and
        # the account's `parts` (how the file was read) is returned apart.
        err = re.sub(rb" in [0-9.]+s \([0-9]+ events/s\)", b" in Ts", p.stderr)
        stats = json.loads(account)
        parts = [inp.pop("parts", None) for inp in stats["inputs"]]
        return p.returncode, p.stdout, err, json.dumps(stats, sort_keys=True), parts

    def assert_same(self, inputs, rules=(), want_alerts=True, want_errors=True):
        one = self.scan(1, inputs, rules)
        two = self.scan(2, inputs, rules)
        self.assertIn(one[0], (0, 1, 2), one[2].decode(errors="replace")[-2000:])
        self.assertEqual(one[0], two[0], "exit status")
        self.assertEqual(one[1], two[1], "alerts differ between --threads 1 and 2")
        self.assertEqual(one[2], two[2], "diagnostics differ between --threads 1 and 2")
        self.assertEqual(one[3], two[3], "--stats accounts differ between --threads 1 and 2")
        self.assertTrue(all(p in (1, None) for p in one[4]), one[4])
        if want_alerts:
            self.assertTrue(one[1].strip(), "no alerts: the comparison would prove little")
        if want_errors:
            self.assertIn(b":", one[2])
        self.parts_at_two_threads = two[4]
        return one[:4]

    def test_crafted_file_with_malformed_lines(self):
        good = []
        for name in ("nxlog.ndjson", "evtx_dump.jsonl", "mixed_shapes.ndjson.gz",
                     "otrf_smbexec_head200.json.gz"):
            good += ndjson_lines(os.path.join(ROOT, "tests", "data", "json", name))
        self.assertGreater(len(good), 50)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "big.ndjson")
            with open(path, "wb") as f:
                f.write(craft(good, 5 * MIN_PART, bad_every=23, middle_bad=9))
            self.assertGreaterEqual(os.path.getsize(path), 2 * MIN_PART)
            code, out, err, account = self.assert_same([path])
            # The file was really read in two parts, and the record-id
            # account (the same at both thread counts, above) is not empty:
            # the parts' accounts were merged.
            self.assertEqual(self.parts_at_two_threads, [2])
            self.assertRegex(err.decode(errors="replace"),
                             r"record ids: [1-9]\d* host/channels, \d+ records missing in gaps, "
                             r"[1-9]\d* repeats")
            stats = json.loads(account)
            (inp,) = stats["inputs"]
            self.assertGreater(inp["records_decoded"], 1000)
            self.assertGreater(inp["problems"], 50)
            # Lines in the second half are numbered from the file's start.
            text = err.decode()
            lines = [int(m.group(1)) for m in re.finditer(re.escape(path) + r":(\d+):", text)]
            self.assertIn("more problems not shown", text)
            self.assertTrue(lines, text[-1000:])
            with open(path, "rb") as f:
                raw = f.read().split(b"\n")
            for n in lines:
                self.assertIn(raw[n - 1].strip(), [b.strip() for b in BAD] + [b"[1, 2, 3]"],
                              f"line {n} is not one of the bad lines")
            # The skips listed in --stats also point at bad lines, both halves.
            listed = [s["line"] for s in inp["skipped"] if s.get("line")]
            self.assertTrue(any(n > len(raw) // 2 for n in listed), listed[-5:])
            for n in listed:
                self.assertIn(raw[n - 1].strip(), [b.strip() for b in BAD])

    def test_corpus_events_concatenated_with_sigma_rules(self):
        files = sorted(glob.glob(os.path.join(CORPUS, "json", "*")))
        if not files:
            self.skipTest(f"shared corpus absent ({CORPUS}/json): not compared")
        good = []
        for path in files:
            good += ndjson_lines(path)
        self.assertGreater(len(good), 1000)
        rules = [os.path.join(ROOT, "rules")]
        if os.path.isdir(SIGMA):
            rules.append(SIGMA)
        else:
            print(f"note: Sigma rules absent ({SIGMA}); shipped rules only")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "corpus.ndjson")
            with open(path, "wb") as f:
                f.write(craft(good, 6 * MIN_PART, bad_every=1009, middle_bad=3))
            self.assert_same([path], rules, want_alerts=os.path.isdir(SIGMA))
            self.assertEqual(self.parts_at_two_threads, [2])

    def test_corpus_directory(self):
        if not glob.glob(os.path.join(CORPUS, "json", "*")):
            self.skipTest(f"shared corpus absent ({CORPUS}/json): not compared")
        self.assert_same([os.path.join(CORPUS, "json")], want_alerts=False, want_errors=False)


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
