#!/usr/bin/env python3
"""A sink that cannot write an alert must not let the daemon checkpoint past
the input that raised it: after a restart with a working sink, the alert
arrives. The failing sink is a file sink on /dev/full (every write fails with
ENOSPC), the input an NDJSON file of EEMS 1008 events made below in the
Winlogbeat shape (docs/json-exports.md) in a drop directory.

Usage: sink_failure_test.py --binary build/release/bin/eventsift [unittest args]
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402

BINARY = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def eems_error(hour):
    return json.dumps({
        "@timestamp": "2026-06-01T%02d:00:00.000Z" % hour,
        "message": "An unexpected exception occurred. Diagnostic information: Exception "
                   "encountered while fetching mitigations.",
        "log": {"level": "error"},
        "event": {"code": "1008", "provider": "MSExchange Mitigation Service"},
        "winlog": {"channel": "Application", "event_id": "1008", "record_id": 100 + hour,
                   "provider_name": "MSExchange Mitigation Service",
                   "computer_name": "ex01.contoso.com"}})


def free_port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


class SinkFailureTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.drop = os.path.join(self.dir, "in")
        os.mkdir(self.drop)

    def tearDown(self):
        self.tmp.cleanup()

    def config(self, sink_path, port):
        path = os.path.join(self.dir, "eventsift.yaml")
        with open(path, "w") as f:
            f.write(f"""state_dir: {self.dir}/state
checkpoint_interval_ms: 200
shutdown_timeout_ms: 5000
sources:
  - name: drop
    type: directory
    path: {self.drop}
    include: ["*.ndjson"]
    rotate_wait_ms: 200
sinks:
  - type: file
    path: {sink_path}
metrics:
  address: 127.0.0.1:{port}
""")
        return path

    def metric(self, port, name):
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()
        except OSError:
            return None
        for line in text.decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.split()[-1])
        return None

    def run_daemon_until(self, sink_path, name, want):
        port = free_port()
        log = open(os.path.join(self.dir, "daemon.log"), "ab")
        p = subprocess.Popen([BINARY, "daemon", "--config", self.config(sink_path, port)],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                self.assertIsNone(p.poll(), "the daemon died")
                got = self.metric(port, name)
                if got is not None and got >= want:
                    break
                time.sleep(0.2)
            got = self.metric(port, name)
            checkpoint_failures = self.metric(port, "eventsift_checkpoint_failures_total")
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            log.close()
        return got, checkpoint_failures, p.returncode

    def test_an_alert_a_full_disk_lost_arrives_after_a_restart(self):
        # 1008 hourly for six hours, then an event a day later that moves the
        # watermark past their window: the EEMS alert is emitted at once.
        with open(os.path.join(self.drop, "app.ndjson"), "w") as f:
            f.write("\n".join([eems_error(h) for h in range(6)]) + "\n")
            late = json.loads(eems_error(0))
            late["@timestamp"] = "2026-06-05T00:00:00.000Z"
            f.write(json.dumps(late) + "\n")
        sent, failures, rc = self.run_daemon_until("/dev/full", "eventsift_alerts_total", 1)
        self.assertGreaterEqual(sent, 1, "no alert was produced")
        self.assertGreaterEqual(failures, 1, "a checkpoint went past the lost alert")
        self.assertNotEqual(rc, 0, "the final checkpoint cannot succeed either")
        with open(os.path.join(self.dir, "daemon.log")) as f:
            self.assertIn("checkpoint", f.read())

        alerts_path = os.path.join(self.dir, "alerts.ndjson")
        got, failures, rc = self.run_daemon_until(alerts_path, "eventsift_alerts_total", 1)
        self.assertEqual(rc, 0)
        with open(alerts_path) as f:
            alerts = [json.loads(line) for line in f if line.strip()]
        eems = [a for a in alerts if a["rule"]["id"] == "eems_mitigation_error"]
        self.assertTrue(eems, alerts)
        self.assertEqual(eems[0]["host"], "ex01.contoso.com")


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
