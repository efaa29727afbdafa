#!/usr/bin/env python3
"""`eventsift daemon` with an http source, driven by curl and by a real
sender, syslog-ng's http() destination: 2xx only once the batch is durable
(the alert of an EEMS 1008 event is on the alert output by then), gzip,
bearer auth, 413, refused lines named in the answer and the log, 429/503
with Retry-After, per-client counters in /metrics, and a SIGKILL mid-stream
that loses no acknowledged event. Run by ctest as `e2e_http_source`.

syslog-ng conflicts with rsyslog as a Debian package (both are the system
log daemon), so scripts/setup.sh unpacks it into ~/.cache/eventsift/syslog-ng
(ES_SYSLOG_NG_DIR overrides); an installed syslog-ng on PATH is used too.
Its test is skipped, saying so, when neither is there."""

import datetime
import gzip
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import e2e_args  # noqa: E402

BINARY = None
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RULE = os.path.join(ROOT, "rules", "eems_mitigation_error.yaml")
T0 = 1714557600  # 2024-05-01T10:00:00Z
DAY = 86400
TOKEN = "test-token-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")


def eems(host, t, record):
    """An EEMS 1008 event (rules/eems_mitigation_error.yaml) as Winlogbeat NDJSON."""
    return json.dumps({
        "@timestamp": iso(t),
        "message": "An unexpected exception occurred. Diagnostic information: "
                   "Exception encountered while fetching mitigations.",
        "log": {"level": "error"},
        "winlog": {"channel": "Application", "event_id": "1008",
                   "provider_name": "MSExchange Mitigation Service",
                   "computer_name": host, "record_id": record}})


def tick(host, t, record):
    """An event no rule matches: it moves event time on, closing windows."""
    return json.dumps({
        "@timestamp": iso(t), "message": "Service started.", "log": {"level": "information"},
        "winlog": {"channel": "Application", "event_id": "1000", "provider_name": "Test Ticker",
                   "computer_name": host, "record_id": record}})


def alert_hosts(path):
    """Short host names of the EEMS alerts in the NDJSON alert file."""
    hosts = []
    if not os.path.exists(path):
        return hosts
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                a = json.loads(line)
                hosts.append(a["host"].split(".")[0].upper())
    return hosts


def wait_for(pred, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def post(port, body, headers=None, timeout=15):
    """POST /ingest; returns (status, headers dict, body text) or (None, {}, error)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/ingest", body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
    except (OSError, http.client.HTTPException) as e:
        return None, {}, str(e)
    finally:
        conn.close()


def auth(extra=None):
    h = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson"}
    h.update(extra or {})
    return h


def curl(port, data_file, *args):
    """curl's status code, headers and body for a POST of data_file."""
    r = subprocess.run(["curl", "-sS", "-o", "-", "-D", "/dev/stderr", "-X", "POST",
                        "--data-binary", f"@{data_file}", *args,
                        f"http://127.0.0.1:{port}/ingest"],
                       capture_output=True, text=True, timeout=30)
    status = None
    for line in r.stderr.splitlines():
        if line.startswith("HTTP/"):
            status = int(line.split()[1])
    return status, r.stderr, r.stdout


def metric(port, sample):
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
    except OSError:
        return None
    for line in text.decode().splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return None


class Daemon:
    def __init__(self, workdir, http_extra="", checkpoint_ms=60000):
        self.dir = workdir
        self.port = free_port()
        self.metrics_port = free_port()
        self.alerts = os.path.join(workdir, "alerts.ndjson")
        self.log = os.path.join(workdir, "daemon.log")
        token_file = os.path.join(workdir, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        self.config = os.path.join(workdir, "eventsift.yaml")
        with open(self.config, "w") as f:
            f.write(f"""state_dir: {workdir}/state
checkpoint_interval_ms: {checkpoint_ms}
shutdown_timeout_ms: 5000
rules:
  paths: [{RULE}]
sources:
  - name: web
    type: http
    address: 127.0.0.1
    port: {self.port}
    auth_token_file: {token_file}
{http_extra}
sinks:
  - type: file
    path: {self.alerts}
metrics:
  address: 127.0.0.1:{self.metrics_port}
""")
        self.proc = None

    def start(self):
        log = open(self.log, "a")
        self.proc = subprocess.Popen([BINARY, "daemon", "--config", self.config],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        if not wait_for(up, 15):
            raise AssertionError("daemon did not listen:\n" + self.read_log())

    def read_log(self):
        with open(self.log) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()
        return self.proc.returncode if self.proc else None

    def metric(self, sample):
        return metric(self.metrics_port, sample)


class HttpSourceTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="es_http_source_")
        self.dir = self.tmp.name
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.stop(signal.SIGKILL)
        self.tmp.cleanup()

    def daemon(self, **kw):
        d = Daemon(self.dir, **kw)
        self.daemons.append(d)
        d.start()
        return d

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    def test_curl_auth_gzip_oversize_refused_lines_and_client_metrics(self):
        # Checkpoints come only from the batches: a 200 must have caused one.
        d = self.daemon(http_extra="    max_body_bytes: 65536\n    max_line_bytes: 4096\n"
                                   "    commit_delay_ms: 20\n")
        batch = "\n".join([eems("EXA.contoso.com", T0, 1),
                           tick("EXA.contoso.com", T0 + 3 * DAY, 2)]) + "\n"
        plain = self.write("batch.ndjson", batch)

        status, headers, _ = curl(d.port, plain)
        self.assertEqual(status, 401)
        self.assertIn("www-authenticate: bearer", headers.lower())
        status, _, _ = curl(d.port, plain, "-H", "Authorization: Bearer not-the-token")
        self.assertEqual(status, 401)
        self.assertEqual(alert_hosts(d.alerts), [], "nothing unauthenticated is processed")

        gz = self.write("batch.ndjson.gz", gzip.compress(batch.encode()))
        status, headers, body = curl(d.port, gz, "-H", f"Authorization: Bearer {TOKEN}",
                                     "-H", "Content-Encoding: gzip",
                                     "-H", "Content-Type: application/x-ndjson")
        self.assertEqual(status, 200, headers + body)
        answer = json.loads(body)
        self.assertEqual((answer["records"], answer["events"], answer["refused"]), (2, 2, 0))
        # Durable before the answer: the alert is already on the output and a
        # checkpoint was written (the interval alone would take a minute).
        self.assertEqual(alert_hosts(d.alerts), ["EXA"], d.read_log())
        self.assertGreaterEqual(d.metric("eventsift_checkpoints_total"), 1)

        big = self.write("big.ndjson", (tick("EXB", T0, 3) + "\n") * 1000)
        status, headers, body = curl(d.port, big, "-H", f"Authorization: Bearer {TOKEN}")
        self.assertEqual(status, 413, headers + body)
        # The bound is on the decompressed body: a small gzip of it is refused too.
        with open(big, "rb") as f:
            big_gz = self.write("big.ndjson.gz", gzip.compress(f.read()))
        self.assertLess(os.path.getsize(big_gz), 65536)
        status, _, body = curl(d.port, big_gz, "-H", f"Authorization: Bearer {TOKEN}",
                               "-H", "Content-Encoding: gzip")
        self.assertEqual(status, 413, body)

        long_line = json.dumps({"message": "x" * 5000})
        mixed = "\n".join([eems("EXC.contoso.com", T0 + 10 * DAY, 4), "this is not json",
                           long_line, tick("EXC.contoso.com", T0 + 13 * DAY, 5)]) + "\n"
        status, headers, body = curl(d.port, self.write("mixed.ndjson", mixed),
                                     "-H", f"Authorization: Bearer {TOKEN}")
        self.assertEqual(status, 200, headers + body)
        answer = json.loads(body)
        self.assertEqual((answer["records"], answer["events"], answer["refused"]), (3, 2, 2),
                         body)
        self.assertTrue(any("record 3:" in e and "max_line_bytes" in e
                            for e in answer["errors"]), body)
        self.assertIn("EXC", alert_hosts(d.alerts), "the rest of the batch went on")
        log = d.read_log()
        # The log names the client, the request and the line of each refusal.
        self.assertRegex(log, r"http:127\.0\.0\.1/\d+: record 3: record of \d+ bytes")
        self.assertRegex(log, r"http:127\.0\.0\.1/\d+:2: not a JSON object")

        array = "[" + ",".join([eems("EXD.contoso.com", T0 + 20 * DAY, 6),
                                tick("EXD.contoso.com", T0 + 23 * DAY, 7)]) + "]"
        status, _, body = curl(d.port, self.write("array.json", array),
                               "-H", f"Authorization: Bearer {TOKEN}",
                               "-H", "Content-Type: application/json")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["events"], 2)
        self.assertEqual(alert_hosts(d.alerts), ["EXA", "EXC", "EXD"])

        client = '{source="web",client="127.0.0.1"}'
        self.assertEqual(d.metric("eventsift_http_client_requests_total" + client), 7)
        self.assertEqual(d.metric("eventsift_http_client_events_total" + client), 6)
        self.assertEqual(d.metric("eventsift_http_client_refused_total" + client), 2)
        self.assertEqual(d.metric("eventsift_http_client_bytes_total" + client),
                         len(batch) + len(mixed) + len(array))
        self.assertEqual(d.metric('eventsift_http_responses_total{source="web",code="401"}'), 2)
        self.assertEqual(d.metric('eventsift_http_responses_total{source="web",code="413"}'), 2)
        self.assertEqual(d.metric('eventsift_http_responses_total{source="web",code="200"}'), 3)
        self.assertEqual(d.stop(), 0)

    def test_backpressure_429_and_not_durable_503_with_retry_after(self):
        d = self.daemon(http_extra="    max_pending_requests: 1\n    ack_timeout_ms: 2000\n"
                                   "    retry_after_seconds: 3\n    backpressure_status: 429\n"
                                   "    commit_delay_ms: 20\n")
        # A directory where the state's temporary file goes: no checkpoint can
        # be written, so no batch becomes durable.
        os.mkdir(os.path.join(self.dir, "state", "state.json.tmp"))
        batch = "\n".join([eems("EXA.contoso.com", T0, 1),
                           tick("EXA.contoso.com", T0 + 3 * DAY, 2)]) + "\n"
        first = {}

        def send_first():
            first["answer"] = post(d.port, batch, auth())
        t = threading.Thread(target=send_first)
        t.start()
        self.assertTrue(wait_for(
            lambda: (d.metric('eventsift_source_events_total{source="web",type="http"}') or 0)
            >= 2, 10), d.read_log())
        status, headers, body = post(d.port, batch, auth())
        self.assertEqual(status, 429, body)
        self.assertEqual(headers.get("retry-after"), "3")
        t.join(20)
        status, headers, body = first["answer"]
        self.assertEqual(status, 503, body)
        self.assertEqual(headers.get("retry-after"), "3")
        self.assertIn("not durable within 2000 ms", body)
        self.assertGreaterEqual(d.metric("eventsift_checkpoint_failures_total"), 1)

    def test_tls_with_curl(self):
        crt, key = os.path.join(self.dir, "server.crt"), os.path.join(self.dir, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", crt], check=True, capture_output=True)
        d = self.daemon(http_extra=f"    tls:\n      cert_file: {crt}\n      key_file: {key}\n"
                                   "    commit_delay_ms: 20\n")
        batch = self.write("batch.ndjson", "\n".join([
            eems("EXT.contoso.com", T0, 1), tick("EXT.contoso.com", T0 + 3 * DAY, 2)]) + "\n")
        r = subprocess.run(["curl", "-sS", "--cacert", crt, "-X", "POST", "--data-binary",
                            f"@{batch}", "-H", f"Authorization: Bearer {TOKEN}",
                            "-w", "\n%{http_code}", f"https://127.0.0.1:{d.port}/ingest"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.stdout.splitlines()[-1], "200", r.stdout + r.stderr)
        self.assertEqual(alert_hosts(d.alerts), ["EXT"])
        # Plain HTTP to the TLS port is not answered as HTTP.
        status, _, _ = curl(d.port, batch, "-H", f"Authorization: Bearer {TOKEN}")
        self.assertNotEqual(status, 200)
        self.assertEqual(d.stop(), 0)

    def test_sighup_with_a_changed_http_source_listens_again_on_its_port(self):
        d = self.daemon(http_extra="    commit_delay_ms: 20\n")
        self.assertEqual(post(d.port, tick("A", T0, 1) + "\n", auth())[0], 200)
        with open(d.config) as f:
            text = f.read()
        with open(d.config, "w") as f:
            f.write(text.replace("commit_delay_ms: 20", "commit_delay_ms: 30"))
        d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for(
            lambda: d.metric('eventsift_reloads_total{result="ok"}') == 1, 10), d.read_log())
        self.assertEqual(post(d.port, tick("A", T0 + 1, 2) + "\n", auth())[0], 200)
        self.assertEqual(d.metric('eventsift_source_events_total{source="web",type="http"}'), 1,
                         "the replaced source counts from zero")
        self.assertEqual(d.stop(), 0)

    def test_metrics_scraped_through_reloads_that_replace_the_source(self):
        # /metrics walks the source list from its own thread while a reload
        # replaces the source: it must never see an entry mid-move (a scrape
        # once called through a moved-from entry's null source; UBSan).
        d = self.daemon(http_extra="    commit_delay_ms: 20\n")
        stop = threading.Event()
        scrapes = []

        def scrape():
            while not stop.is_set():
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{d.metrics_port}/metrics",
                                           timeout=5).read()
                    scrapes.append(1)
                except OSError:
                    pass

        threads = [threading.Thread(target=scrape) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            with open(d.config) as f:
                text = f.read()
            for n in range(1, 7):
                delay = 30 if n % 2 else 20
                with open(d.config, "w") as f:
                    f.write(text.replace("commit_delay_ms: 20", f"commit_delay_ms: {delay}"))
                d.proc.send_signal(signal.SIGHUP)
                self.assertTrue(wait_for(
                    lambda: d.metric('eventsift_reloads_total{result="ok"}') == n, 10), d.read_log())
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        self.assertGreater(len(scrapes), 6)
        self.assertEqual(post(d.port, tick("A", T0, 1) + "\n", auth())[0], 200)
        self.assertEqual(d.stop(), 0, d.read_log())

    def test_syslog_ng_http_destination_delivers_to_the_alert_output(self):
        sng = find_syslog_ng()
        if sng is None:
            self.skipTest("syslog-ng not found (scripts/setup.sh unpacks it into "
                          "~/.cache/eventsift/syslog-ng): the real-sender test did not run")
        d = self.daemon(http_extra="    commit_delay_ms: 50\n")
        hosts = [f"EX{i:02}" for i in range(20)]
        lines = [eems(f"{h}.contoso.com", T0 + i * 60, i + 1) for i, h in enumerate(hosts)]
        lines.append(tick("EX99.contoso.com", T0 + 3 * DAY, 100))
        events = self.write("events.ndjson", "\n".join(lines) + "\n")
        sng_dir = os.path.join(self.dir, "syslog-ng")
        os.mkdir(sng_dir)
        conf = os.path.join(sng_dir, "syslog-ng.conf")
        with open(conf, "w") as f:
            f.write(f"""@version: 3.38
options {{ stats_freq(0); }};
source s_events {{
  file("{events}" flags(no-parse) follow-freq(0.1));
}};
destination d_eventsift {{
  http(
    url("http://127.0.0.1:{d.port}/ingest")
    method("POST")
    headers("Authorization: Bearer {TOKEN}", "Content-Type: application/x-ndjson")
    body("${{MESSAGE}}")
    delimiter("\\n")
    batch-lines(8)
    batch-timeout(200)
  );
}};
log {{ source(s_events); destination(d_eventsift); }};
""")
        stderr = open(os.path.join(sng_dir, "stderr"), "w")
        self.addCleanup(stderr.close)
        proc = subprocess.Popen(
            sng["argv"] + ["-F", "--no-caps", "-f", conf, "-R", os.path.join(sng_dir, "persist"),
                           "-p", os.path.join(sng_dir, "pid"),
                           "-c", os.path.join(sng_dir, "ctl")],
            env=sng["env"], stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            ok = wait_for(lambda: len(alert_hosts(d.alerts)) >= len(hosts), 15)
            with open(os.path.join(sng_dir, "stderr")) as f:
                sng_log = f.read()
            self.assertTrue(ok, f"alerts: {alert_hosts(d.alerts)}\nsyslog-ng:\n{sng_log}\n"
                                f"daemon:\n{d.read_log()}")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        self.assertEqual(sorted(alert_hosts(d.alerts)), hosts)
        client = '{source="web",client="127.0.0.1"}'
        self.assertEqual(d.metric("eventsift_http_client_events_total" + client), len(lines))
        self.assertGreaterEqual(d.metric("eventsift_http_client_requests_total" + client), 3)
        self.assertEqual(d.stop(), 0)

    def test_sigkill_mid_stream_loses_no_acknowledged_event(self):
        d = self.daemon(http_extra="    commit_delay_ms: 30\n", checkpoint_ms=60000)
        batches = []  # (hosts, body): each host's EEMS event opens its own alert
        record = 0
        for b in range(60):
            hosts = [f"B{b:02}H{h}" for h in range(5)]
            lines = []
            for i, h in enumerate(hosts):
                record += 1
                lines.append(eems(f"{h}.contoso.com", T0 + b * 60 + i, record))
            batches.append((hosts, "\n".join(lines) + "\n"))
        acked = set()
        lock = threading.Lock()
        sending = threading.Event()  # cleared: the client holds its retries
        sending.set()
        retries = [0]

        def client():
            # A sender as collectors behave: each batch until a 2xx, retrying
            # on errors, 429/503 and refused connections.
            for i, (_, body) in enumerate(batches):
                while True:
                    sending.wait()
                    status, _, _ = post(d.port, body, auth(), timeout=5)
                    if status == 200:
                        with lock:
                            acked.add(i)
                        break
                    retries[0] += 1
                    time.sleep(0.1)
        t = threading.Thread(target=client, daemon=True)
        t.start()
        self.assertTrue(wait_for(lambda: len(acked) >= 15, 20), d.read_log())
        sending.clear()
        d.proc.send_signal(signal.SIGKILL)  # a batch is being posted or processed
        d.proc.wait(timeout=5)
        with lock:
            acked_at_kill = set(acked)

        # Restart, and before the client sends anything again, close every
        # window: what was answered 200 before the kill must all be there
        # once this batch is answered (nothing re-sent can stand in for it).
        d.start()
        status, _, body = post(d.port, tick("EXZ.contoso.com", T0 + 10 * DAY, 99999) + "\n",
                               auth())
        self.assertEqual(status, 200, body)
        got = set(alert_hosts(d.alerts))
        missing = sorted(h for i in acked_at_kill for h in batches[i][0] if h not in got)
        self.assertEqual(missing, [], "alerts of batches answered 200 before the SIGKILL")
        self.assertLess(len(acked_at_kill), len(batches), "the kill came mid-stream")

        sending.set()
        t.join(30)
        self.assertFalse(t.is_alive())
        self.assertEqual(len(acked), len(batches), "the client's retries cover the rest")
        status, _, body = post(d.port, tick("EXZ.contoso.com", T0 + 20 * DAY, 100000) + "\n",
                               auth())
        self.assertEqual(status, 200, body)
        self.assertEqual(d.stop(), 0)
        ids = alert_hosts(d.alerts)
        self.assertEqual(set(ids), {h for hosts, _ in batches for h in hosts})
        print(f"sigkill: {len(acked_at_kill)} of {len(batches)} batches answered 200 before "
              f"the kill, {retries[0]} retries, {len(ids) - len(set(ids))} duplicate alerts",
              file=sys.stderr)


def find_syslog_ng():
    """argv and environment to run syslog-ng with its http() module, or None."""
    unpacked = os.environ.get("ES_SYSLOG_NG_DIR",
                              os.path.expanduser("~/.cache/eventsift/syslog-ng"))
    binary = os.path.join(unpacked, "usr", "sbin", "syslog-ng")
    if os.path.exists(os.path.join(unpacked, "usr/lib/syslog-ng/3.38/libhttp.so")) and \
            os.access(binary, os.X_OK):
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(unpacked, "usr/lib/syslog-ng"))
        return {"argv": [binary, f"--module-path={unpacked}/usr/lib/syslog-ng/3.38"],
                "env": env}
    installed = shutil.which("syslog-ng") or (
        "/usr/sbin/syslog-ng" if os.path.exists("/usr/sbin/syslog-ng") else None)
    if installed and os.path.exists("/usr/lib/syslog-ng/3.38/libhttp.so"):
        return {"argv": [installed], "env": dict(os.environ)}
    return None


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
