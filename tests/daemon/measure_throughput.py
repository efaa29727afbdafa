#!/usr/bin/env python3
"""Measures `eventsift daemon` throughput per source type, in events per
CPU-second of the daemon process (user + sys from /proc/<pid>/stat), so the
numbers do not depend on what else the machine is running. Used for
docs/scaling.md. Run from the repository root after a Release build:

  tests/daemon/measure_throughput.py --binary build/release/bin/eventsift \
      --ndjson /tmp/perf/events.ndjson --evtx-dir /tmp/perf/evtx

--ndjson: Winlogbeat NDJSON (one event per line); --evtx-dir: .evtx files.
"""
import argparse
import gzip
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def metric(port, name):
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return -1
    for line in body.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return -1


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config(work, port, source_yaml, rules):
    path = os.path.join(work, "eventsift.yaml")
    with open(path, "w") as f:
        f.write(f"""state_dir: {work}/state
rules: {{paths: [{rules}]}}
sources:
{source_yaml}
sinks: [{{type: file, path: {work}/alerts.ndjson}}]
metrics: {{address: "127.0.0.1:{port}"}}
log: {{level: warn}}
""")
    return path


def run(binary, rules, source_yaml, feed, expected, label):
    work = tempfile.mkdtemp(prefix="es_measure_")
    port = free_port()
    cfg = config(work, port, source_yaml.replace("@WORK@", work), rules)
    os.makedirs(os.path.join(work, "in"), exist_ok=True)
    proc = subprocess.Popen([binary, "daemon", "--config", cfg], stdin=subprocess.DEVNULL)
    while metric(port, "eventsift_events_total") < 0:
        time.sleep(0.05)
    start_cpu = cpu_seconds(proc.pid)
    start = time.time()
    feed(work)
    while metric(port, "eventsift_events_total") < expected:
        time.sleep(0.05)
    cpu = cpu_seconds(proc.pid) - start_cpu
    wall = time.time() - start
    events = metric(port, "eventsift_events_total")
    proc.terminate()
    proc.wait()
    shutil.rmtree(work)
    print(f"{label}: {events:.0f} events, {cpu:.2f} CPU-s, {events / cpu:,.0f} events/CPU-s "
          f"(wall {wall:.2f} s)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--rules", default="rules/eems_mitigation_error.yaml")
    ap.add_argument("--ndjson")
    ap.add_argument("--evtx-dir")
    ap.add_argument("--evtx-events", type=int, help="events in --evtx-dir (eventsift dump count)")
    ap.add_argument("--kafka-brokers", help="with --kafka-topic: consume raw events already in the topic")
    ap.add_argument("--kafka-topic")
    ap.add_argument("--kafka-events", type=int, help="messages in --kafka-topic")
    a = ap.parse_args()
    if a.ndjson:
        n = sum(1 for _ in open(a.ndjson, "rb"))
        run(a.binary, a.rules, "  - {name: drop, type: directory, path: @WORK@/in}",
            lambda w: shutil.copy(a.ndjson, os.path.join(w, "in", "events.ndjson")), n,
            "directory/ndjson")
        # The same file gzip- and zstd-compressed in the drop directory.
        gz = os.path.join(tempfile.mkdtemp(prefix="es_measure_gz_"), "events.ndjson")
        subprocess.run(["gzip", "-k", "-6", "-f", a.ndjson, "-c"], check=True,
                       stdout=open(gz + ".gz", "wb"))
        run(a.binary, a.rules, "  - {name: drop, type: directory, path: @WORK@/in}",
            lambda w: shutil.copy(gz + ".gz", os.path.join(w, "in", "events.ndjson.gz")), n,
            "directory/ndjson.gz")
        if shutil.which("zstd"):
            subprocess.run(["zstd", "-q", "-3", "-f", a.ndjson, "-o", gz + ".zst"], check=True)
            run(a.binary, a.rules, "  - {name: drop, type: directory, path: @WORK@/in}",
                lambda w: shutil.copy(gz + ".zst", os.path.join(w, "in", "events.ndjson.zst")), n,
                "directory/ndjson.zst")
        shutil.rmtree(os.path.dirname(gz))
        # Syslog: each line as an octet-counted RFC 5424 frame.
        syslog_port = free_port()

        def send_syslog(_):
            head = b"<134>1 2026-12-07T00:00:00Z wec01 winevent - - - "
            with socket.create_connection(("127.0.0.1", syslog_port)) as s, \
                    open(a.ndjson, "rb") as f:
                batch = []
                for line in f:
                    body = head + line.rstrip(b"\n")
                    batch.append(b"%d %s" % (len(body), body))
                    if len(batch) == 1000:
                        s.sendall(b"".join(batch))
                        batch = []
                s.sendall(b"".join(batch))

        run(a.binary, a.rules, f"  - {{name: sys, type: syslog, port: {syslog_port}}}",
            send_syslog, n, "syslog/octet-counted ndjson")
        tcp_port = free_port()

        def send(_):
            with socket.create_connection(("127.0.0.1", tcp_port)) as s, open(a.ndjson, "rb") as f:
                while chunk := f.read(1 << 20):
                    s.sendall(chunk)

        run(a.binary, a.rules, f"  - {{name: net, type: tcp, port: {tcp_port}}}", send, n, "tcp/ndjson")
        # The same inside TLS: a throwaway self-signed P-256 certificate.
        certs = tempfile.mkdtemp(prefix="es_measure_tls_")
        crt, key = os.path.join(certs, "server.crt"), os.path.join(certs, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                        "-subj", "/CN=localhost", "-days", "1"], check=True, capture_output=True)
        tls_port = free_port()

        def send_tls(_):
            ctx = ssl.create_default_context(cafile=crt)
            ctx.check_hostname = False
            with socket.create_connection(("127.0.0.1", tls_port)) as raw, \
                    ctx.wrap_socket(raw) as s, open(a.ndjson, "rb") as f:
                while chunk := f.read(1 << 20):
                    s.sendall(chunk)

        run(a.binary, a.rules,
            f"  - {{name: net, type: tcp, port: {tls_port}, tls: {{cert_file: {crt}, key_file: {key}}}}}",
            send_tls, n, "tcp+tls/ndjson")
        shutil.rmtree(certs)
        # The http source: ~1 MiB NDJSON batches posted one after the other
        # on one keep-alive connection, each waiting for its 200 (the batch
        # durable: the wall time includes a checkpoint per batch).
        batches = []
        with open(a.ndjson, "rb") as f:
            cur = []
            size = 0
            for line in f:
                cur.append(line)
                size += len(line)
                if size >= (1 << 20):
                    batches.append(b"".join(cur))
                    cur, size = [], 0
            if cur:
                batches.append(b"".join(cur))
        for encoding in ("identity", "gzip"):
            http_port = free_port()
            bodies = batches if encoding == "identity" else [gzip.compress(b, 1) for b in batches]

            def post_all(_, bodies=bodies, encoding=encoding, http_port=http_port):
                conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=60)
                for body in bodies:
                    conn.request("POST", "/", body=body, headers={"Content-Encoding": encoding})
                    r = conn.getresponse()
                    r.read()
                    if r.status != 200:
                        raise SystemExit(f"http: answer {r.status}")
                conn.close()

            run(a.binary, a.rules,
                f"  - {{name: web, type: http, port: {http_port}, max_body_bytes: 4194304}}",
                post_all, n, f"http/ndjson ({encoding}, {len(batches)} batches of ~1 MiB)")
    if a.evtx_dir:
        def copy(w):
            for name in sorted(os.listdir(a.evtx_dir)):
                shutil.copy(os.path.join(a.evtx_dir, name), os.path.join(w, "in", name))
        run(a.binary, a.rules, "  - {name: drop, type: directory, path: @WORK@/in, include: ['*.evtx']}",
            copy, a.evtx_events, "directory/evtx")

    if a.kafka_topic:
        group = f"measure-{os.getpid()}"
        run(a.binary, a.rules,
            f"  - {{name: raw, type: kafka, brokers: '{a.kafka_brokers}', topic: {a.kafka_topic}, "
            f"group_id: {group}}}", lambda _: None, a.kafka_events, "kafka/ndjson")


if __name__ == "__main__":
    main()
