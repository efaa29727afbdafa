#!/usr/bin/env python3
"""Every command that takes -X parses it the same way and never prints a
secret's value. Run by ctest as `e2e_daemon_cli`."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import e2e_args  # noqa: E402

BINARY = None

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
