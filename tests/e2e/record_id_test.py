#!/usr/bin/env python3
"""record_id is System/EventRecordID; the EVTX header's number is kept apart.

A log saved or exported by Windows (Event Viewer, `wevtutil epl`) numbers its
record headers 1, 2, ... while each record keeps the EventRecordID of the
log it came from. renumber_evtx.py makes such a file from a copy of
tests/data/evtx/system_chunk3.evtx (headers 327.. become 1.., CRCs fixed).
Through the real binary:
- `dump --format jsonl`: record_id is the EventRecordID that `--format xml`
  prints, on the original and on the renumbered copy alike; record_number
  (the header's) appears only where it differs;
- `dump --format xml`: the `Record N` line is the header's number, as
  evtx_dump prints it;
- the forwarded MSExchange_Management_wec.evtx (header 1, EventRecordID 3229).

Usage: record_id_test.py --binary build/release/bin/eventsift [unittest args]
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402
import renumber_evtx  # noqa: E402

BINARY = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data", "evtx")


def run(*args):
    r = subprocess.run([BINARY, *args], cwd=ROOT, capture_output=True, timeout=300)
    return r


def jsonl(path):
    r = run("dump", "--format", "jsonl", path)
    assert r.returncode == 0, r.stderr.decode()
    return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]


def xml_ids(path):
    """(Record line number, EventRecordID element) per record of `dump --format xml`."""
    r = run("dump", "--format", "xml", path)
    assert r.returncode == 0, r.stderr.decode()
    text = r.stdout.decode()
    heads = [int(x) for x in re.findall(r"^Record (\d+)$", text, re.M)]
    ids = [int(x) for x in re.findall(r"<EventRecordID>(\d+)</EventRecordID>", text)]
    return list(zip(heads, ids))


class RecordIdTest(unittest.TestCase):
    def test_renumbered_export_keeps_event_record_ids(self):
        src = os.path.join(DATA, "system_chunk3.evtx")
        with tempfile.TemporaryDirectory() as tmp:
            copy = os.path.join(tmp, "exported.evtx")
            with open(src, "rb") as f:
                data, pairs = renumber_evtx.renumber(f.read(), start=1)
            with open(copy, "wb") as f:
                f.write(data)
            orig, renum = jsonl(src), jsonl(copy)
            xml_orig, xml_renum = xml_ids(src), xml_ids(copy)
            r = run("dump", "--format", "jsonl", copy)
        self.assertIn(", 0 errors", r.stderr.decode())  # the CRCs were fixed
        self.assertEqual(len(pairs), 118)
        self.assertEqual(len(orig), len(pairs))
        self.assertEqual(len(renum), len(pairs))
        # The original: headers equal EventRecordIDs, so no record_number.
        self.assertEqual([h for h, _ in xml_orig], [i for _, i in xml_orig])
        self.assertEqual([e["record_id"] for e in orig], [i for _, i in xml_orig])
        self.assertTrue(all("record_number" not in e for e in orig))
        # The export: same record_id, the header's new number beside it.
        self.assertEqual([e["record_id"] for e in renum], [e["record_id"] for e in orig])
        self.assertEqual([e["record_number"] for e in renum], [new for _, new in pairs])
        self.assertEqual([e["record_id"] for e in renum], [old for old, _ in pairs])
        self.assertEqual(xml_renum, [(new, old) for old, new in pairs])
        self.assertEqual(renum[0]["record_id"], 327)
        self.assertEqual(renum[0]["record_number"], 1)

    def test_forwarded_record(self):
        events = jsonl(os.path.join(DATA, "MSExchange_Management_wec.evtx"))
        self.assertEqual([(e["record_id"], e["record_number"]) for e in events], [(3229, 1)])
        self.assertEqual(xml_ids(os.path.join(DATA, "MSExchange_Management_wec.evtx")), [(1, 3229)])


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
