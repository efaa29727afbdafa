#!/usr/bin/env python3
"""The daemon's syslog source through the real binary.

* A real sender: Debian's rsyslogd, unprivileged, its own config in a temp
  directory, reads a file of Windows events (Winlogbeat JSON lines, and
  event XML on one line each) with imfile and forwards them with omfwd in
  RFC 5424 (RSYSLOG_SyslogProtocol23Format): octet-counted framing, LF
  ("traditional") framing, and octet-counted inside TLS (the ossl stream
  driver). Every event arrives, the EEMS rule fires on the JSON and on the
  XML events. Skipped with a message when rsyslogd is absent (required when
  CI=true).
* Framing errors from a raw socket (garbage, a bad length, an oversize
  frame, a bad header): each is reported naming the peer, counted in
  eventsift_source_frame_errors_total, and the frames after it are read.
* SIGKILL mid-stream with rsyslogd's omfwd as the sender: plain TCP syslog
  has no acknowledgement, so what was in flight at the kill (in the kernel's
  socket buffers, or read and not yet written out) is lost; the test counts
  it and checks that it is one contiguous run of the stream, that rsyslogd
  reconnects and every event after that run arrives, and that no event
  arrives damaged (docs/operations.md: the relp source is the loss-free way).

Run by ctest as `e2e_syslog`."""

import json
import os
import shutil
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
RULE = os.path.join(ROOT, "rules", "eems_mitigation_error.yaml")
WINLOGBEAT = os.path.join(ROOT, "tests", "data", "json", "winlogbeat.ndjson")
RSYSLOGD = shutil.which("rsyslogd") or ("/usr/sbin/rsyslogd" if os.path.exists("/usr/sbin/rsyslogd") else None)
EEMS_IN_WINLOGBEAT = 50  # 26 + 24 EEMS 1008 errors (tests/data/SOURCES.md)

DIAG = ("Exception encountered while fetching mitigations : System.Net.WebException: "
        "Could not establish trust relationship for the SSL/TLS secure channel.")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def event_xml(host, when, record, provider="MSExchange Mitigation Service", event_id=1008, level=2):
    """One Windows event as the XML Event Viewer shows, on one line."""
    return ('<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
            f'<Provider Name="{provider}"/><EventID Qualifiers="49152">{event_id}</EventID>'
            f'<Version>0</Version><Level>{level}</Level><Task>1</Task><Opcode>0</Opcode>'
            '<Keywords>0x80000000000000</Keywords>'
            f'<TimeCreated SystemTime="{when}"/><EventRecordID>{record}</EventRecordID>'
            '<Correlation/><Execution ProcessID="4312" ThreadID="5120"/>'
            f'<Channel>Application</Channel><Computer>{host}</Computer><Security/></System>'
            f'<EventData><Data>{DIAG}</Data></EventData>'
            '<RenderingInfo Culture="en-US"><Message>An unexpected exception occurred. '
            'Diagnostic information: ' + DIAG + '</Message></RenderingInfo></Event>')


def tls_files(d):
    crt, key = os.path.join(d, "server.crt"), os.path.join(d, "server.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return crt, key


class Daemon:
    def __init__(self, d, source_yaml, extra_yaml="", checkpoint_ms=200):
        self.dir = d
        self.metrics_port = free_port()
        self.config = os.path.join(d, "eventsift.yaml")
        with open(self.config, "w") as f:
            f.write(f"""state_dir: {d}/state
checkpoint_interval_ms: {checkpoint_ms}
shutdown_timeout_ms: 5000
rules:
  paths: [{RULE}]
sources:
{source_yaml}
sinks:
  - type: file
    path: {d}/alerts.ndjson
metrics:
  address: 127.0.0.1:{self.metrics_port}
log:
  format: json
{extra_yaml}""")
        self.log_path = os.path.join(d, "daemon.log")
        self.log = open(self.log_path, "wb")
        self.p = subprocess.Popen([BINARY, "daemon", "--config", self.config], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 15
        while self.metrics() is None:
            if time.time() > deadline or self.p.poll() is not None:
                raise AssertionError("daemon did not start: " + self.log_text())
            time.sleep(0.1)

    def metrics(self):
        try:
            return urllib.request.urlopen(
                f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=2).read().decode()
        except OSError:
            return None

    def metric(self, name, source="sys"):
        text = self.metrics() or ""
        for line in text.splitlines():
            if line.startswith(name + "{") and f'source="{source}"' in line:
                return float(line.split()[-1])
            if line.startswith(name + " ") and source is None:
                return float(line.split()[-1])
        return None

    def wait_metric(self, name, value, timeout=30, source="sys"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.metric(name, source) == value:
                return True
            if self.p.poll() is not None:
                return False
            time.sleep(0.2)
        return False

    def log_text(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()
        return self.p.returncode


def numbered_events(provider, message):
    """A function giving Winlogbeat event i (record id i, one of 7 hosts) as
    one line: the SIGKILL tests count which of them arrived."""
    with open(WINLOGBEAT) as f:
        template = json.loads(f.readline())
    template["message"] = message
    template["winlog"]["event_data"] = {"param1": "x" * 200}
    template["winlog"]["provider_name"] = template["event"]["provider"] = provider

    def line(i):
        template["winlog"]["record_id"] = i
        template["host"]["name"] = template["winlog"]["computer_name"] = f"H{i % 7}"
        return json.dumps(template)
    return line


def kill_mid_stream(daemon, metric, half, source="sys"):
    """Waits for the daemon's `metric` to pass `half`, then SIGKILLs it;
    returns the metric's value at the kill."""
    deadline = time.time() + 30
    got = half
    while time.time() < deadline:
        got = daemon.metric(metric, source) or half
        if got > half:
            break
        time.sleep(0.01)
    daemon.p.send_signal(signal.SIGKILL)
    daemon.p.wait(10)
    daemon.log.close()
    return got


def events_in_file(path):
    """(record ids, rows, lines cut) of an events sink file's complete lines;
    a line the kill cut is not JSON (it was not checkpointed, so it is
    delivered again after the restart)."""
    ids, rows, torn = set(), 0, 0
    if os.path.exists(path):
        with open(path) as f:
            for l in f:
                if not l.endswith("\n"):
                    break  # still being written
                try:
                    ids.add(json.loads(l)["winlog"]["record_id"])
                    rows += 1
                except ValueError:
                    torn += 1
    return ids, rows, torn


def syslog_source(port, extra=""):
    return (f"  - name: sys\n    type: syslog\n    address: 127.0.0.1\n    port: {port}\n"
            f"    max_line_bytes: 65536\n{extra}")


@unittest.skipIf(RSYSLOGD is None and os.environ.get("CI") != "true",
                 "rsyslogd not installed (Debian package rsyslog): real-sender tests skipped")
class RsyslogSenderTest(unittest.TestCase):
    def run_rsyslog(self, framing, tls=False):
        self.assertIsNotNone(RSYSLOGD, "rsyslogd is required under CI=true")
        with tempfile.TemporaryDirectory(prefix="es_syslog_") as d:
            port = free_port()
            extra = ""
            driver = ""
            if tls:
                crt, key = tls_files(d)
                extra = f"    tls:\n      cert_file: {crt}\n      key_file: {key}\n"
                driver = ('StreamDriver="ossl" StreamDriverMode="1" '
                          'StreamDriverAuthMode="anon"')
            daemon = Daemon(d, syslog_source(port, extra))
            try:
                events = os.path.join(d, "events.log")
                with open(WINLOGBEAT) as f:
                    lines = [line.rstrip("\n") for line in f if line.strip()]
                xml = [event_xml("EX05.contoso.com", f"2026-11-21T0{i}:00:00.0000000Z", 900 + i)
                       for i in range(3)]
                # Far later, no rule: moves event time on so the windows close.
                tick = event_xml("EX09.contoso.com", "2026-11-30T00:00:00.0000000Z", 999,
                                 provider="Tick", event_id=1, level=4)
                with open(events, "w") as f:
                    f.write("\n".join(lines + xml + [tick]) + "\n")
                total = len(lines) + len(xml) + 1
                work = os.path.join(d, "rsyslog")
                os.mkdir(work)
                tls_global = (f'global(DefaultNetstreamDriverCAFile="{crt}")\n' if tls else "")
                conf = os.path.join(d, "rsyslog.conf")
                with open(conf, "w") as f:
                    f.write(f"""global(workDirectory="{work}" maxMessageSize="64k")
{tls_global}module(load="imfile")
input(type="imfile" File="{events}" Tag="winevent" ruleset="forward")
ruleset(name="forward") {{
  action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp"
         TCP_Framing="{framing}" template="RSYSLOG_SyslogProtocol23Format" {driver})
}}
""")
                rs_log = open(os.path.join(d, "rsyslog.out"), "wb")
                rs = subprocess.Popen([RSYSLOGD, "-n", "-f", conf, "-i", os.path.join(d, "rs.pid")],
                                      stdout=rs_log, stderr=subprocess.STDOUT)
                try:
                    ok = daemon.wait_metric("eventsift_source_events_total", total, timeout=60)
                    with open(os.path.join(d, "rsyslog.out"), errors="replace") as f:
                        rs_text = f.read()
                    self.assertTrue(ok, f"events: {daemon.metric('eventsift_source_events_total')}"
                                        f" of {total}\n{daemon.log_text()}\nrsyslog:\n{rs_text}")
                finally:
                    rs.terminate()
                    rs.wait(10)
                    rs_log.close()
                self.assertEqual(daemon.metric("eventsift_source_parse_errors_total"), 0,
                                 daemon.log_text())
                self.assertEqual(daemon.metric("eventsift_source_frame_errors_total"), 0)
                self.assertEqual(daemon.metric("eventsift_source_lines_total"), total)
                hits = daemon.metrics()
                self.assertIn(f'eventsift_rule_hits_total{{rule="eems_mitigation_error"}} '
                              f'{EEMS_IN_WINLOGBEAT + len(xml)}', hits)
                if tls:
                    self.assertGreaterEqual(daemon.metric("eventsift_source_tls_handshakes_total"), 1)
                # The windows close (tick): alerts for the JSON hosts and the XML one.
                deadline = time.time() + 20
                hosts = set()
                while time.time() < deadline and "ex05" not in hosts:
                    if os.path.exists(os.path.join(d, "alerts.ndjson")):
                        # Complete lines only: the sink may be writing the last.
                        with open(os.path.join(d, "alerts.ndjson")) as f:
                            hosts = {json.loads(l)["host"].split(".")[0].lower()
                                     for l in f if l.endswith("\n") and l.strip()}
                    time.sleep(0.2)
                self.assertEqual(hosts, {"ex01", "ex02", "ex05"}, daemon.log_text())
            finally:
                self.assertEqual(daemon.stop(), 0)

    def test_octet_counted(self):
        self.run_rsyslog("octet-counted")

    def test_newline_framed(self):
        self.run_rsyslog("traditional")

    def test_octet_counted_over_tls(self):
        self.run_rsyslog("octet-counted", tls=True)


@unittest.skipIf(RSYSLOGD is None and os.environ.get("CI") != "true",
                 "rsyslogd not installed (Debian package rsyslog): real-sender tests skipped")
class SigkillTest(unittest.TestCase):
    def test_sigkill_loses_only_what_was_in_flight(self):
        self.assertIsNotNone(RSYSLOGD, "rsyslogd is required under CI=true")
        n = 6000
        line = numbered_events("SyslogTest", "syslog sigkill test")

        with tempfile.TemporaryDirectory(prefix="es_syslog_kill_") as d:
            port = free_port()
            events_out = os.path.join(d, "events.ndjson")
            extra = f"events:\n  type: file\n  path: {events_out}\n"
            daemon = Daemon(d, syslog_source(port), extra)
            events = os.path.join(d, "events.log")
            half = n // 2
            with open(events, "w") as f:
                f.write("".join(line(i) + "\n" for i in range(1, half + 1)))
            work = os.path.join(d, "rsyslog")
            os.mkdir(work)
            conf = os.path.join(d, "rsyslog.conf")
            # Retried for ever, every second: the restarted daemon is found again.
            with open(conf, "w") as f:
                f.write(f"""global(workDirectory="{work}" maxMessageSize="64k")
module(load="imfile")
input(type="imfile" File="{events}" Tag="winevent" ruleset="forward")
ruleset(name="forward") {{
  action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp"
         TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
         action.resumeRetryCount="-1" action.resumeInterval="1")
}}
""")
            rs_log = open(os.path.join(d, "rsyslog.out"), "wb")
            rs = subprocess.Popen([RSYSLOGD, "-n", "-f", conf, "-i", os.path.join(d, "rs.pid")],
                                  stdout=rs_log, stderr=subprocess.STDOUT)
            try:
                self.assertTrue(daemon.wait_metric("eventsift_source_events_total", half, timeout=60),
                                daemon.log_text())
                with open(events, "a") as f:
                    f.write("".join(line(i) + "\n" for i in range(half + 1, n + 1)))
                got = kill_mid_stream(daemon, "eventsift_source_events_total", half)
                self.assertGreater(got, half, "the second half never started")
                self.assertLess(got, n, "the kill did not land mid-stream (raise n)")
                daemon = Daemon(d, syslog_source(port), extra)
                # rsyslogd may have handed every remaining event to the dead
                # connection already (a slow daemon, large socket buffers):
                # events written after the restart make it send, find the
                # connection gone and reconnect; the last of them must arrive.
                total = n + 200
                with open(events, "a") as f:
                    f.write("".join(line(i) + "\n" for i in range(n + 1, total + 1)))
                deadline = time.time() + 90
                ids, _, torn = events_in_file(events_out)
                while time.time() < deadline and total not in ids:
                    time.sleep(0.3)
                    ids, _, torn = events_in_file(events_out)
                time.sleep(1.5)
                ids, _, torn = events_in_file(events_out)
            finally:
                rs.terminate()
                rs.wait(10)
                rs_log.close()
            self.assertIn(total, ids, "rsyslogd's stream did not resume after the restart\n"
                          + daemon.log_text())
            missing = sorted(set(range(1, total + 1)) - ids)
            runs = sum(1 for k, i in enumerate(missing) if k == 0 or missing[k - 1] != i - 1)
            print(f"\nplain syslog, SIGKILL with {int(got)} of {n} events read: {len(missing)} of {total} lost "
                  f"in {runs} run(s)" + (f" ({missing[0]}-{missing[-1]})" if missing else ""),
                  file=sys.stderr)
            # What was in flight (at the kill, and handed to the dead
            # connection before rsyslogd noticed) is one stretch of the
            # stream; nothing before or after it is lost, nothing damaged.
            self.assertLessEqual(runs, 1, missing[:20])
            self.assertLessEqual(torn, 1)
            self.assertEqual(daemon.metric("eventsift_source_parse_errors_total"), 0,
                             daemon.log_text())
            self.assertEqual(daemon.stop(), 0)


class FramingErrorTest(unittest.TestCase):
    def test_errors_name_the_peer_and_reading_goes_on(self):
        with tempfile.TemporaryDirectory(prefix="es_syslog_err_") as d:
            port = free_port()
            daemon = Daemon(d, syslog_source(port, "    max_line_bytes: 4096\n").replace(
                "    max_line_bytes: 65536\n", ""))
            try:
                def frame(msg):
                    body = f"<134>1 2026-11-21T00:00:00Z h app - - - {msg}".encode()
                    return str(len(body)).encode() + b" " + body

                good = [event_xml("EX07.contoso.com", f"2026-11-21T0{i}:00:00.0000000Z", 700 + i)
                        for i in range(6)]
                self.assertTrue(all(len(frame(g)) < 4096 for g in good))
                with socket.create_connection(("127.0.0.1", port)) as s:
                    local = s.getsockname()
                    s.sendall(frame(good[0]))
                    s.sendall(b"garbage without framing\n")                    # 1: garbage
                    s.sendall(frame(good[1]))
                    s.sendall(b"12x34 oops\n")                                 # 2: bad length
                    s.sendall(frame(good[2]))
                    s.sendall(b"99999 " + b"x" * 99999)                        # 3: oversize frame
                    s.sendall(frame(good[3]))
                    s.sendall(b"<134>1 2026-11-21T00:00:00Z h app - - - " + b"y" * 5000 + b"\n")  # 4
                    s.sendall(frame(good[4]))
                    s.sendall(b"16 not a syslog msg")                          # 5: no <PRI>
                    s.sendall(b"<134>1 2026-11-21T00:00:00Z h app - - - " + good[5].encode() + b"\n")
                    s.sendall(b"40 <134>1 cut")                                # 6: closed inside
                self.assertTrue(daemon.wait_metric("eventsift_source_frame_errors_total", 6),
                                daemon.log_text())
                self.assertTrue(daemon.wait_metric("eventsift_source_events_total", 6),
                                daemon.log_text())
                log = daemon.log_text()
                peer = f"tcp:127.0.0.1:{local[1]}"
                for text in ("expected a frame length or '<'", "bad frame length",
                             "frame of 99999 bytes is over max_line_bytes (4096)",
                             "message over max_line_bytes (4096) without a line feed",
                             "no <PRI> at the start of the message",
                             "connection closed inside a frame"):
                    lines = [l for l in log.splitlines() if text in l]
                    self.assertTrue(lines, f"{text!r} not logged:\n{log}")
                    self.assertIn(peer, lines[0])
                self.assertEqual(daemon.metric("eventsift_source_parse_errors_total"), 6)
                self.assertIsNone(daemon.p.poll())
            finally:
                self.assertEqual(daemon.stop(), 0)


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
