#!/usr/bin/env python3
"""The daemon's relp source through the real binary and a real sender.

* Debian's rsyslogd (unprivileged, its own config in a temp directory)
  reads a file of Windows events (Winlogbeat JSON lines and event XML, one
  per line) with imfile and forwards them with omrelp (rsyslog-relp, the
  librelp client): every event arrives, the EEMS rule fires on the JSON and
  the XML events, and the alerts name the hosts.
* SIGKILL mid-stream: rsyslogd sends N events; once the daemon has
  acknowledged the first half, the second half is appended and the daemon
  is SIGKILLed while rsyslogd is sending it. The daemon is started again on
  the same state directory; rsyslogd (which keeps every message not yet
  answered with `rsp 200`) reconnects and finishes. Every one of the N
  events is then in the events sink file: none lost; duplicates (a message
  journaled but not yet checkpointed, or sent again by rsyslogd) are
  allowed and counted.
* Backpressure: the events sink writes to a FIFO nobody reads, so the
  pipeline stops and the journal fills; no more messages are acknowledged
  (rsyslogd keeps them) and the journal stays within its bound; once the
  FIFO is read, every event comes out.
* A non-IPv4 address stops the start, naming the source.
* A journal file cut by a kill in the middle of its last record (made by
  this test) is reported naming the file, and the records before it and
  the journal files after it are read.

Skipped with a message when rsyslogd or its omrelp module is absent
(required when CI=true). Run by ctest as `e2e_relp`."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import select
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402
import syslog_e2e_test as sx  # noqa: E402  (its Daemon harness and event XML)

BINARY = None
ROOT = sx.ROOT
OMRELP = "/usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so"
HAVE_SENDER = sx.RSYSLOGD is not None and os.path.exists(OMRELP)
SKIP_WHY = "rsyslogd with omrelp not installed (Debian rsyslog, rsyslog-relp): real-sender tests skipped"


def relp_source(port, journal_max=None, extra=""):
    j = f"    journal_max_bytes: {journal_max}\n" if journal_max else ""
    return (f"  - name: sys\n    type: relp\n    address: 127.0.0.1\n    port: {port}\n"
            f"    max_line_bytes: 65536\n{j}{extra}")


def start_daemon(d, source_yaml):
    sx.BINARY = BINARY
    return sx.Daemon(d, source_yaml)


def start_rsyslog(d, events_file, port, extra_action="", module_extra=""):
    work = os.path.join(d, "rsyslog")
    os.makedirs(work, exist_ok=True)
    conf = os.path.join(d, "rsyslog.conf")
    # Retried for ever, every second: a receiver down for a while is waited for.
    with open(conf, "w") as f:
        f.write(f"""global(workDirectory="{work}" maxMessageSize="64k")
module(load="imfile")
module(load="omrelp" {module_extra})
input(type="imfile" File="{events_file}" Tag="winevent" ruleset="forward")
ruleset(name="forward") {{
  action(type="omrelp" target="127.0.0.1" port="{port}"
         template="RSYSLOG_SyslogProtocol23Format"
         action.resumeRetryCount="-1" action.resumeInterval="1" {extra_action})
}}
""")
    log = open(os.path.join(d, "rsyslog.out"), "wb")
    p = subprocess.Popen([sx.RSYSLOGD, "-n", "-f", conf, "-i", os.path.join(d, "rs.pid")],
                         stdout=log, stderr=subprocess.STDOUT)
    return p, log


def stop_rsyslog(p, log):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    log.close()


def rsyslog_text(d):
    with open(os.path.join(d, "rsyslog.out"), errors="replace") as f:
        return f.read()


@unittest.skipIf(not HAVE_SENDER and os.environ.get("CI") != "true", SKIP_WHY)
class RsyslogRelpTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(HAVE_SENDER, "rsyslogd and omrelp are required under CI=true")

    def test_every_event_arrives_and_the_rule_fires(self):
        self.run_rsyslog(tls=False)

    def test_every_event_arrives_over_tls(self):
        self.run_rsyslog(tls=True)

    def run_rsyslog(self, tls):
        with tempfile.TemporaryDirectory(prefix="es_relp_") as d:
            port = sx.free_port()
            extra, action = "", ""
            if tls:
                crt, key = sx.tls_files(d)
                extra = f"    tls:\n      cert_file: {crt}\n      key_file: {key}\n"
                # librelp's client with OpenSSL, checking the server against
                # its certificate as CA.
                # The client checks the server's certificate against it as CA.
                action = f'tls="on" tls.cacert="{crt}" tls.authmode="certvalid"'
            daemon = start_daemon(d, relp_source(port, extra=extra))
            try:
                with open(sx.WINLOGBEAT) as f:
                    lines = [line.rstrip("\n") for line in f if line.strip()]
                xml = [sx.event_xml("EX05.contoso.com", f"2026-11-21T0{i}:00:00.0000000Z", 900 + i)
                       for i in range(3)]
                tick = sx.event_xml("EX09.contoso.com", "2026-11-30T00:00:00.0000000Z", 999,
                                    provider="Tick", event_id=1, level=4)
                events = os.path.join(d, "events.log")
                with open(events, "w") as f:
                    f.write("\n".join(lines + xml + [tick]) + "\n")
                total = len(lines) + len(xml) + 1
                # Both ends on OpenSSL: librelp's anonymous TLS has no cipher
                # in common between its GnuTLS client and OpenSSL server.
                rs, rs_log = start_rsyslog(d, events, port, action,
                                           'tls.tlslib="openssl"' if tls else "")
                try:
                    ok = daemon.wait_metric("eventsift_source_events_total", total, timeout=60)
                    self.assertTrue(ok, f"events: {daemon.metric('eventsift_source_events_total')}"
                                        f" of {total}\n{daemon.log_text()}\nrsyslog:\n"
                                        f"{rsyslog_text(d)}")
                finally:
                    stop_rsyslog(rs, rs_log)
                self.assertEqual(daemon.metric("eventsift_source_parse_errors_total"), 0,
                                 daemon.log_text())
                self.assertEqual(daemon.metric("eventsift_source_frame_errors_total"), 0)
                self.assertEqual(daemon.metric("eventsift_source_lines_total"), total)
                self.assertEqual(daemon.metric("eventsift_source_relp_acked_total"), total)
                self.assertIn(f'eventsift_rule_hits_total{{rule="eems_mitigation_error"}} '
                              f'{sx.EEMS_IN_WINLOGBEAT + len(xml)}', daemon.metrics())
                deadline = time.time() + 20
                hosts = set()
                alerts = os.path.join(d, "alerts.ndjson")
                while time.time() < deadline and "ex05" not in hosts:
                    if os.path.exists(alerts):
                        with open(alerts) as f:
                            # A last line without its LF is still being written.
                            hosts = {json.loads(l)["host"].split(".")[0].lower()
                                     for l in f if l.endswith("\n")}
                    time.sleep(0.2)
                self.assertEqual(hosts, {"ex01", "ex02", "ex05"}, daemon.log_text())
                # Read and checkpointed: the journal files before the one
                # being written are deleted.
                deadline = time.time() + 10
                while time.time() < deadline and len(os.listdir(f"{d}/state/relp-sys")) > 1:
                    time.sleep(0.2)
                self.assertEqual(len(os.listdir(f"{d}/state/relp-sys")), 1)
            finally:
                self.assertEqual(daemon.stop(), 0)

    def test_sigkill_mid_stream_loses_nothing(self):
        n = 6000
        line = sx.numbered_events("RelpTest", "relp sigkill test")

        with tempfile.TemporaryDirectory(prefix="es_relp_kill_") as d:
            port = sx.free_port()
            # A small journal: several files, and the sender held when it is full.
            source = relp_source(port, journal_max=16 * 65536)
            events_out = os.path.join(d, "events.ndjson")

            def daemon_up():
                sx.BINARY = BINARY
                return sx.Daemon(d, source, f"events:\n  type: file\n  path: {events_out}\n")

            daemon = daemon_up()
            events = os.path.join(d, "events.log")
            half = n // 2
            with open(events, "w") as f:
                f.write("".join(line(i) + "\n" for i in range(1, half + 1)))
            rs, rs_log = start_rsyslog(d, events, port)
            try:
                ok = daemon.wait_metric("eventsift_source_relp_acked_total", half, timeout=60)
                self.assertTrue(ok, f"acked {daemon.metric('eventsift_source_relp_acked_total')}"
                                    f"\n{daemon.log_text()}\n{rsyslog_text(d)}")
                with open(events, "a") as f:
                    f.write("".join(line(i) + "\n" for i in range(half + 1, n + 1)))
                # rsyslogd is now sending the second half: wait for it to
                # start, and kill the daemon in the middle of it.
                acked = sx.kill_mid_stream(daemon, "eventsift_source_relp_acked_total", half)
                self.assertGreater(acked, half, "the second half never started")
                self.assertLess(acked, n, "the kill did not land mid-stream (raise n)")
                print(f"\nkilled with {int(acked)} of {n} acknowledged", file=sys.stderr)
                daemon = daemon_up()

                deadline = time.time() + 60
                ids, rows, torn = sx.events_in_file(events_out)
                while time.time() < deadline and len(ids) < n:
                    time.sleep(0.3)
                    ids, rows, torn = sx.events_in_file(events_out)
                missing = sorted(set(range(1, n + 1)) - ids)
                self.assertEqual(missing, [], f"lost {len(missing)} events, e.g. {missing[:10]}"
                                 f"\n{daemon.log_text()}\n{rsyslog_text(d)}")
                print(f"all {n} events arrived; {rows - n} duplicates, {torn} line(s) cut by the kill",
                      file=sys.stderr)
                self.assertLessEqual(torn, 1)
                self.assertEqual(len(ids), n)
            finally:
                stop_rsyslog(rs, rs_log)
            self.assertEqual(daemon.metric("eventsift_source_parse_errors_total"), 0,
                             daemon.log_text())
            self.assertEqual(daemon.stop(), 0)


@unittest.skipIf(not HAVE_SENDER and os.environ.get("CI") != "true", SKIP_WHY)
class BackpressureTest(unittest.TestCase):
    def test_a_full_journal_holds_the_sender_and_loses_nothing(self):
        """The events sink writes to a FIFO nobody reads: the pipeline stops,
        the journal fills, rsyslogd gets no more rsp 200 and keeps the rest.
        Then the FIFO is read: every event comes out."""
        self.assertTrue(HAVE_SENDER, "rsyslogd and omrelp are required under CI=true")
        n = 3000
        with open(sx.WINLOGBEAT) as f:
            template = json.loads(f.readline())
        template["winlog"]["provider_name"] = template["event"]["provider"] = "RelpTest"
        with tempfile.TemporaryDirectory(prefix="es_relp_full_") as d:
            fifo = os.path.join(d, "events.fifo")
            os.mkfifo(fifo)
            reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            port = sx.free_port()
            sx.BINARY = BINARY
            daemon = sx.Daemon(d, relp_source(port, journal_max=16 * 65536),
                               f"events:\n  type: file\n  path: {fifo}\n  queue_bytes: 65536\n")
            events = os.path.join(d, "events.log")
            lines = []
            for i in range(1, n + 1):
                template["winlog"]["record_id"] = i
                lines.append(json.dumps(template))
            with open(events, "w") as f:
                f.write("\n".join(lines) + "\n")
            rs, rs_log = start_rsyslog(d, events, port)
            try:
                self.assertTrue(
                    daemon.wait_metric("eventsift_source_relp_journal_full_total", 1, timeout=60),
                    f"the journal never filled\n{daemon.log_text()}")
                time.sleep(1)
                held = daemon.metric("eventsift_source_relp_acked_total")
                time.sleep(1)
                self.assertEqual(daemon.metric("eventsift_source_relp_acked_total"), held,
                                 "acknowledged while the journal was full")
                self.assertLess(held, n)
                # The journal holds what was acknowledged, within its bound
                # (plus one message).
                jdir = os.path.join(d, "state", "relp-sys")
                size = sum(os.path.getsize(os.path.join(jdir, f)) for f in os.listdir(jdir))
                self.assertLessEqual(size, 16 * 65536 + 65536 + 64)
                print(f"\nheld at {int(held)} of {n} acknowledged, journal {size} bytes",
                      file=sys.stderr)
                # Now read the FIFO: everything comes out.
                ids, buf = set(), b""
                deadline = time.time() + 90
                while len(ids) < n and time.time() < deadline:
                    r, _, _ = select.select([reader], [], [], 0.5)
                    if not r:
                        continue
                    chunk = os.read(reader, 1 << 16)
                    buf += chunk
                    *done, buf = buf.split(b"\n")
                    for l in done:
                        ids.add(json.loads(l)["winlog"]["record_id"])
                missing = sorted(set(range(1, n + 1)) - ids)
                self.assertEqual(missing, [], f"lost {len(missing)}\n{daemon.log_text()}")
            finally:
                stop_rsyslog(rs, rs_log)
                # The daemon's last flush needs the FIFO read.
                stopping = threading.Event()

                def drain():
                    while not stopping.is_set():
                        if select.select([reader], [], [], 0.1)[0]:
                            try:
                                os.read(reader, 1 << 16)
                            except BlockingIOError:
                                pass
                drainer = threading.Thread(target=drain)
                drainer.start()
                daemon.stop()
                stopping.set()
                drainer.join()
                os.close(reader)


@unittest.skipIf(not HAVE_SENDER and os.environ.get("CI") != "true", SKIP_WHY)
class FullJournalCheckpointTest(unittest.TestCase):
    def test_a_full_journal_is_released_without_waiting_for_the_interval(self):
        """A 1 MiB journal, 6 MB of messages and a checkpoint every 10 min:
        journal files are deleted only after a checkpoint, so the journal
        fills; the daemon then checkpoints at once instead of holding the
        sender until the interval."""
        self.assertTrue(HAVE_SENDER, "rsyslogd and omrelp are required under CI=true")
        n = 3000
        with open(sx.WINLOGBEAT) as f:
            template = json.loads(f.readline())
        template["winlog"]["provider_name"] = template["event"]["provider"] = "RelpTest"
        with tempfile.TemporaryDirectory(prefix="es_relp_early_") as d:
            port = sx.free_port()
            sx.BINARY = BINARY
            daemon = sx.Daemon(d, relp_source(port, journal_max=16 * 65536), checkpoint_ms=600000)
            events = os.path.join(d, "events.log")
            with open(events, "w") as f:
                for i in range(1, n + 1):
                    template["winlog"]["record_id"] = i
                    f.write(json.dumps(template) + "\n")
            rs, rs_log = start_rsyslog(d, events, port)
            try:
                ok = daemon.wait_metric("eventsift_source_events_total", n, timeout=40)
                self.assertTrue(ok, f"{daemon.metric('eventsift_source_events_total')} of {n}"
                                    f"\n{daemon.log_text()}")
                self.assertGreater(daemon.metric("eventsift_source_relp_journal_full_total"), 0)
                self.assertEqual(daemon.metric("eventsift_source_relp_acked_total"), n)
            finally:
                stop_rsyslog(rs, rs_log)
                self.assertEqual(daemon.stop(), 0)


class StartupTest(unittest.TestCase):
    def start_fails(self, source):
        """Runs the daemon with one relp source (a YAML flow mapping); it must
        not start. Returns its stderr."""
        with tempfile.TemporaryDirectory(prefix="es_relp_start_") as d:
            config = os.path.join(d, "eventsift.yaml")
            with open(config, "w") as f:
                f.write(f"state_dir: {d}/state\nrules:\n  paths: [{sx.RULE}]\nsources:\n"
                        f"  - {source}\n"
                        "sinks:\n  - type: stdout\nmetrics:\n  address: ''\n")
            r = subprocess.run([BINARY, "daemon", "--config", config], cwd=ROOT,
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0)
            return r.stderr

    def test_a_non_ipv4_address_stops_the_start_naming_it(self):
        err = self.start_fails(f"{{name: sys, type: relp, address: '::1', port: {sx.free_port()}}}")
        self.assertIn("not an IPv4 address", err)
        self.assertIn("sys", err)

    def test_a_port_in_use_stops_the_start_with_librelps_reason(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            err = self.start_fails(f"{{name: sys, type: relp, port: {busy.getsockname()[1]}}}")
        self.assertIn("error while binding relp tcp socket", err)


class JournalRecoveryTest(unittest.TestCase):
    def test_a_cut_last_record_is_reported_and_reading_goes_on(self):
        with tempfile.TemporaryDirectory(prefix="es_relp_cut_") as d:
            jdir = os.path.join(d, "state", "relp-sys")
            os.makedirs(jdir)

            def raw(peer, frame):
                return str(len(frame)).encode() + b" " + peer + b" " + frame + b"\n"

            def record(peer, msg):
                return raw(peer, f"<134>1 2026-11-21T00:00:00Z h app - - - {msg}".encode())

            xml = [sx.event_xml("EX07.contoso.com", f"2026-11-21T0{i}:00:00.0000000Z", 700 + i)
                   for i in range(4)]
            # Left by a killed daemon: file 1 ends in a cut record (never
            # acknowledged), file 2 is whole.
            with open(os.path.join(jdir, f"relp-{1:020}.journal"), "wb") as f:
                f.write(record(b"relp:10.0.0.1", xml[0]) + record(b"relp:10.0.0.1", xml[1]))
                f.write(record(b"relp:10.0.0.1", xml[2])[:50])
            with open(os.path.join(jdir, f"relp-{2:020}.journal"), "wb") as f:
                f.write(record(b"relp:10.0.0.2", xml[3]) + raw(b"relp:10.0.0.2", b"no pri here"))
            daemon = start_daemon(d, relp_source(sx.free_port()))
            try:
                self.assertTrue(daemon.wait_metric("eventsift_source_events_total", 3, timeout=20),
                                daemon.log_text())
                deadline = time.time() + 10
                while time.time() < deadline and "last record cut" not in daemon.log_text():
                    time.sleep(0.1)
                log = daemon.log_text()
                cut = [l for l in log.splitlines() if "last record cut" in l]
                self.assertTrue(cut, log)
                self.assertIn(f"relp-{1:020}.journal", cut[0])
                bad = [l for l in log.splitlines() if "syslog message" in l]
                self.assertTrue(bad, log)
                self.assertIn("relp:10.0.0.2", bad[0])
                self.assertEqual(daemon.metric("eventsift_source_frame_errors_total"), 2)
            finally:
                self.assertEqual(daemon.stop(), 0)


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
