#!/usr/bin/env python3
"""`correlation.emit` through the real binary (docs/rules.md).

1. `scan` is a batch: each alert is written once, with its window's final
   count and no `revision`, whether the rule says `emit: immediate` or
   `emit: window_end` (the output is byte-identical), on the repository's
   EEMS test data.
2. `rules list --format json` shows the mode each rule gets: `immediate` for
   the shipped threshold-1 rule, `window_end` when a rule says so or has a
   higher threshold.
3. `rules check` refuses an unknown mode, naming the file and line.

The daemon side (immediate alert, then one follow-up) is
tests/daemon/daemon_process_test.cc (ImmediateAlert...).

Usage: emit_mode_test.py --binary build/release/bin/eventsift [unittest args]
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402

BINARY = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULE = os.path.join(ROOT, "rules", "eems_mitigation_error.yaml")
DATA = [os.path.join(ROOT, "tests", "data", "json"), os.path.join(ROOT, "tests", "data", "fleet")]


def run(*args):
    return subprocess.run([BINARY, *args], cwd=ROOT, capture_output=True, timeout=120)


def rule_with(extra):
    with open(RULE) as f:
        text = f.read()
    assert "  samples: 3\n" in text
    return text.replace("  samples: 3\n", "  samples: 3\n" + extra)


class EmitModeTest(unittest.TestCase):
    def test_scan_output_does_not_depend_on_the_mode(self):
        outs = {}
        with tempfile.TemporaryDirectory() as tmp:
            # One path for every variant: alerts name their rule's file.
            path = os.path.join(tmp, "eems.yaml")
            for mode, extra in (("immediate", "  emit: immediate\n"),
                                ("window_end", "  emit: window_end\n"), ("default", "")):
                with open(path, "w") as f:
                    f.write(rule_with(extra))
                p = run("scan", "--rules", path, "--threads", "2", *DATA)
                self.assertIn(p.returncode, (0, 1), p.stderr.decode()[-2000:])
                outs[mode] = p.stdout
        self.assertTrue(outs["immediate"].strip(), "no alerts: the comparison would prove little")
        self.assertEqual(outs["immediate"], outs["window_end"])
        self.assertEqual(outs["default"], outs["immediate"])
        for line in outs["immediate"].splitlines():
            alert = json.loads(line)
            self.assertNotIn("revision", alert)

    def test_rules_list_shows_the_mode(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "rules.yaml")
            with open(path, "w") as f:
                f.write(rule_with("  emit: window_end\n"))
            listed = json.loads(run("rules", "list", "--format", "json", RULE).stdout)
            self.assertEqual([r["correlation"]["emit"] for r in listed], ["immediate"])
            listed = json.loads(run("rules", "list", "--format", "json", path).stdout)
            self.assertEqual([r["correlation"]["emit"] for r in listed], ["window_end"])
            with open(path, "w") as f:
                f.write(rule_with("").replace("threshold: 1", "threshold: 2"))
            listed = json.loads(run("rules", "list", "--format", "json", path).stdout)
            self.assertEqual([r["correlation"]["emit"] for r in listed], ["window_end"])

    def test_unknown_mode_is_refused_with_its_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bad.yaml")
            text = rule_with("  emit: soon\n")
            with open(path, "w") as f:
                f.write(text)
            line = text.splitlines().index("  emit: soon") + 1
            p = run("rules", "check", path)
            self.assertNotEqual(p.returncode, 0)
            err = p.stderr.decode() + p.stdout.decode()
            self.assertIn("correlation.emit must be 'immediate' or 'window_end'", err)
            self.assertIn("%s:%d" % (path, line), err)


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
