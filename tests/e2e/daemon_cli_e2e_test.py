#!/usr/bin/env python3
"""`eventsift daemon --check-config` refuses what the daemon could not honour
exactly (a metrics port out of range or with trailing text, a key given
twice), naming the key; and every command that takes -X parses it the same
way. Run by ctest as `e2e_daemon_cli`."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import e2e_args  # noqa: E402

BINARY = None

BASE = """state_dir: {state}
sources:
  - name: drop
    type: directory
    path: {drop}
sinks:
  - type: stdout
"""


class DaemonCheckConfigTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="es_daemon_cli_")
        self.drop = os.path.join(self.dir.name, "in")
        os.mkdir(self.drop)
        self.base = BASE.format(state=os.path.join(self.dir.name, "state"), drop=self.drop)

    def tearDown(self):
        self.dir.cleanup()

    def check(self, text):
        path = os.path.join(self.dir.name, "eventsift.yaml")
        with open(path, "w") as f:
            f.write(text)
        return subprocess.run([BINARY, "daemon", "--config", path, "--check-config"],
                              capture_output=True, text=True, timeout=60)

    def test_a_valid_config_passes(self):
        r = self.check(self.base + "metrics:\n  address: 127.0.0.1:9464\n")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_metrics_port_out_of_range_or_not_a_number_is_refused(self):
        for address, shown in (("127.0.0.1:99999", "99999"), ("127.0.0.1:12ab", "12ab"),
                               ("127.0.0.1:0", None)):
            with self.subTest(address=address):
                r = self.check(self.base + f"metrics:\n  address: \"{address}\"\n")
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("metrics.address:", r.stderr)
                if shown:
                    self.assertIn(f"port '{shown}' is not a number from 0 to 65535", r.stderr)

    def test_a_key_given_twice_is_refused_with_both_lines(self):
        r = self.check(self.base + "state_dir: /tmp/elsewhere\n")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("state_dir: given twice (lines 1 and 8)", r.stderr)


class KafkaPropertyFlagTest(unittest.TestCase):
    """One -X parser: the same refusal, naming only the key, everywhere."""

    def run_cli(self, *args):
        return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=60)

    def test_malformed_x_is_refused_by_every_command(self):
        with tempfile.TemporaryDirectory(prefix="es_x_") as d:
            commands = (
                ["alerts", "--kafka-brokers", "127.0.0.1:1", "-X", "sasl.password"],
                ["spool", "replay", "--kafka-brokers", "127.0.0.1:1", "--spool-dir", d,
                 "-X", "sasl.password"],
                ["scan", "--kafka-brokers", "127.0.0.1:1", "--spool-dir", d, "-X", "sasl.password",
                 os.path.join(d, "missing.ndjson")],
            )
            for cmd in commands:
                with self.subTest(cmd=cmd[0]):
                    r = self.run_cli(*cmd)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertIn("-X expects key=value, got 'sasl.password'", r.stderr)

    def test_an_invalid_property_is_named_and_a_secret_value_never_shown(self):
        with tempfile.TemporaryDirectory(prefix="es_x_") as d:
            r = self.run_cli("alerts", "--kafka-brokers", "127.0.0.1:1", "--timeout", "1",
                             "-X", "no.such.password.prop=hunter2")
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("-X no.such.password.prop: invalid value (not shown: secret)", r.stderr)
            self.assertNotIn("hunter2", r.stderr)
            r = self.run_cli("spool", "replay", "--kafka-brokers", "127.0.0.1:1", "--spool-dir", d,
                             "--timeout", "1", "-X", "linger.ms=soon")
            self.assertNotEqual(r.returncode, 0, r.stderr)
            self.assertIn("-X linger.ms:", r.stderr)


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
