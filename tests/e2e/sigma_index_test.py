#!/usr/bin/env python3
"""The rule index, the header cache and the hit prefilter change no alert
(docs/perf/sigma.md, src/detect/matcher.h).

The whole corpus (../shared/corpus: EVTX and JSON exports) is scanned with
every SigmaHQ Windows rule of ../shared/sigma twice through the real binary:
as shipped, and with EVENTSIFT_NO_RULE_INDEX=1, where every rule is
header-checked and every candidate's condition evaluated for every event.
The alert streams must be byte-identical, and not empty (an index that
dropped everything would otherwise pass against itself). One thread, so the
order of the alerts is the same in both runs.

Skipped, saying so, when ../shared is absent.

Usage: sigma_index_test.py --binary build/release/bin/eventsift [unittest args]
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402
import sigma_e2e_test as sigma  # noqa: E402  (SHARED, the Windows rule list)

BINARY = None


def scan(rules_dir, out, no_index):
    env = dict(os.environ)
    env.pop("EVENTSIFT_NO_RULE_INDEX", None)
    if no_index:
        env["EVENTSIFT_NO_RULE_INDEX"] = "1"
    r = subprocess.run([BINARY, "scan", "--threads", "1", "--no-progress", "--rules", rules_dir,
                        "--out", out, sigma.CORPUS], capture_output=True, timeout=900, env=env)
    if r.returncode != 0:
        raise AssertionError("scan%s exit %d: %s" % (" (no index)" if no_index else "", r.returncode,
                                                     r.stderr.decode()[-3000:]))
    with open(out, "rb") as f:
        return f.read()


class SigmaIndexTest(sigma.NeedsShared):
    def test_alerts_with_and_without_the_index_are_identical(self):
        with tempfile.TemporaryDirectory() as tmp:
            rules_dir = sigma.linked_windows_rules(tmp)
            indexed = scan(rules_dir, os.path.join(tmp, "indexed.ndjson"), False)
            reference = scan(rules_dir, os.path.join(tmp, "reference.ndjson"), True)
        lines = indexed.decode().splitlines()
        self.assertGreater(len(lines), 100, "too few alerts to compare")
        rules = {json.loads(line)["rule"]["id"] for line in lines}
        self.assertGreater(len(rules), 20, "too few distinct rules fired to compare")
        if indexed != reference:
            ref_lines = reference.decode().splitlines()
            first = next((i for i, (a, b) in enumerate(zip(lines, ref_lines)) if a != b),
                         min(len(lines), len(ref_lines)))
            self.fail("alerts differ: %d indexed vs %d reference lines; first difference at line %d:\n"
                      "indexed:   %s\nreference: %s" % (
                          len(lines), len(ref_lines), first + 1,
                          lines[first][:400] if first < len(lines) else "(none)",
                          ref_lines[first][:400] if first < len(ref_lines) else "(none)"))


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
