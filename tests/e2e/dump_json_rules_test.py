#!/usr/bin/env python3
"""`dump --format jsonl`'s data object follows the rules evtx_dump 0.15.1's
JSON follows (docs/dump-format.md), on files the test-side writer makes
(tests/tools/crafted_evtx.py):

  * an element whose DependencyId names a NULL value is left out, with its
    literal text or other substitutions;
  * consecutive <Data> elements of one name (an array substitution, or the
    same name twice in a row) are one member holding an array; an array of
    one item is that item;
  * a name that comes back later is numbered, never overwritten: `_2` for
    its second member here, where evtx_dump writes `_1`.

Each record's data is compared with evtx_dump's EventData, member by member
(evtx_dump skipped with a message when absent, required under CI=true).

Usage: dump_json_rules_test.py --binary build/release/bin/eventsift
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
import crafted_evtx  # noqa: E402
import e2e_args  # noqa: E402
import peers  # noqa: E402

BINARY = None


def ours(path):
    r = subprocess.run([BINARY, "dump", "--format", "jsonl", path], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    return [json.loads(line)["data"] for line in r.stdout.decode().splitlines()]


def evtx_dump_data(exe, path):
    r = subprocess.run([exe, "-o", "jsonl", path], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    return [json.loads(line)["Event"].get("EventData") or {} for line in r.stdout.decode().splitlines()]


def evtx_dump_key(key):
    """Our `name_N` (N >= 2, the N-th member of that name) is evtx_dump's
    `name_{N-1}`."""
    m = re.match(r"^(.*)_(\d+)$", key)
    return "%s_%d" % (m.group(1), int(m.group(2)) - 1) if m and int(m.group(2)) >= 2 else key


class DumpJsonRulesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.paths = {os.path.basename(p): p for p in crafted_evtx.write_all(cls.tmp.name)}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_dependency_ids_leave_elements_out(self):
        data = ours(self.paths["dependency.evtx"])
        self.assertEqual(data[0], {"Always": "always"})
        self.assertEqual(data[1], {"Literal": "text", "Other": "other", "Own": "own",
                                   "Always": "always"})
        self.assertEqual(data[2], {"Own": "own", "Always": "always"})

    def test_consecutive_names_are_one_array_member(self):
        data = ours(self.paths["arrays.evtx"])
        self.assertEqual(data[0], {"Items": ["a", "", "c,d"], "Single": "one",
                                   "Items_2": ["later", "again"]})
        self.assertEqual(data[1]["Items"], "only")
        # An empty array renders one empty element (as in the XML).
        self.assertEqual(data[2]["Items"], "")

    def test_same_members_and_values_as_evtx_dump(self):
        exe, why = peers.find_evtx_dump()
        if exe is None:
            if peers.in_ci():
                self.fail("CI=true and " + why)
            self.skipTest(why)
        for name in ("dependency.evtx", "arrays.evtx"):
            path = self.paths[name]
            for i, (o, t) in enumerate(zip(ours(path), evtx_dump_data(exe, path))):
                with self.subTest(file=name, record=i + 1):
                    self.assertEqual({evtx_dump_key(k): v for k, v in o.items()}, t)
                    self.assertEqual([evtx_dump_key(k) for k in o], list(t))


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
