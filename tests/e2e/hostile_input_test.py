#!/usr/bin/env python3
"""Hostile and unlucky inputs through the real binary: cut and unreadable
files, template expansion bombs, many large templates, files that shrink
while read, FIFOs and process substitution. Every crafted input is made here
(tests/e2e/evtx_craft.py), none is checked in.

Each case checks what the user sees: the error names the file (and offset or
record), the summary counts it, the exit code follows docs/cli.md, the other
inputs are still read, and memory stays bounded.

Usage: hostile_input_test.py --binary build/release/bin/eventsift [unittest args]
"""

import gzip
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402
import evtx_craft  # noqa: E402

BINARY = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE_EVTX = os.path.join(ROOT, "tests", "data", "evtx", "Security_short_selected.evtx")
SAMPLE_JSON = os.path.join(ROOT, "tests", "data", "json")


def run(*args, timeout=120, **kw):
    return subprocess.run([BINARY, *args], cwd=ROOT, capture_output=True, timeout=timeout, **kw)


def rss_ceiling(mib):
    """The peak RSS a run may reach, in MiB: `mib`, or no ceiling for an ASan
    build, whose shadow memory and quarantine (256 MiB by default) say
    nothing about what the code keeps."""
    with open(BINARY, "rb") as f:
        return float("inf") if b"__asan_init" in f.read() else mib


def run_rss(*args, timeout=120):
    """Runs the binary; returns (returncode, stdout bytes, stderr text, peak RSS in MiB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen([BINARY, *args], cwd=ROOT, stdout=out, stderr=err)
        deadline = time.time() + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid != 0:
                break
            if time.time() > deadline:
                p.kill()
                raise AssertionError(f"{args} did not finish in {timeout}s")
            time.sleep(0.02)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read(), err.read().decode(), usage.ru_maxrss / 1024


def summary(stderr):
    """The numbers of scan's summary line."""
    m = re.search(r"eventsift scan: (\d+) inputs \((\d+) unreadable\), (\d+) events, .*?"
                  r"(\d+) errors in", stderr)
    assert m, stderr
    return {"inputs": int(m.group(1)), "unreadable": int(m.group(2)),
            "events": int(m.group(3)), "errors": int(m.group(4))}


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path


class UnreadableInputTest(TempDirTest):
    def test_evtx_cut_inside_its_file_header_is_truncated_with_offset(self):
        with open(SAMPLE_EVTX, "rb") as f:
            image = f.read()
        for size in (128, 129, 1000, 4095):
            cut = self.write(f"cut{size}.evtx", image[:size])
            for cmd in (["scan"], ["dump", "--format", "jsonl"]):
                r = run(*cmd, cut, SAMPLE_EVTX)
                err = r.stderr.decode()
                self.assertEqual(r.returncode, 3, f"{cmd} {size}: {err}")
                self.assertRegex(err, rf"truncated: .*cut{size}\.evtx@0x{size:x}: file header")
            s = summary(run("scan", cut, SAMPLE_EVTX).stderr.decode())
            self.assertEqual(s["unreadable"], 1)
            self.assertGreater(s["events"], 0)  # the other input was read

    def test_short_and_bad_gzip_inputs_are_counted_unreadable_exit_3(self):
        lines = b"".join(b'{"EventID": %d, "Computer": "h%d", "Message": "%s"}\n' %
                         (i, i, b"x" * (i % 200)) for i in range(3000))
        bad_crc = bytearray(gzip.compress(lines))
        bad_crc[-8] ^= 0xFF  # CRC32 of the trailer
        cases = {
            "eight.evtx": b"ElfFile\x00",
            "badcrc.json.gz": bytes(bad_crc),
        }
        for name, data in cases.items():
            path = self.write(name, data)
            r = run("scan", path, SAMPLE_EVTX)
            err = r.stderr.decode()
            self.assertEqual(r.returncode, 3, f"{name}: {err}")
            self.assertIn(name, err)
            s = summary(err)
            self.assertEqual(s["unreadable"], 1, f"{name}: {err}")
            self.assertGreater(s["events"], 0)
            self.assertEqual(run("dump", "--format", "jsonl", path).returncode, 3, name)


class TemplateBombTest(TempDirTest):
    """Nested templates that expand far beyond their bytes: the record fails
    with a report naming file, offset and record, the next record and the
    other inputs are still read, and memory stays small."""

    def check_bomb(self, image, bound):
        bomb = self.write("bomb.evtx", image)
        runs = [["dump", "--format", f] for f in ("xml", "json", "jsonl")]
        runs.append(["scan"])
        for cmd in runs:
            rc, out, err, rss = run_rss(*cmd, bomb, SAMPLE_EVTX)
            with self.subTest(cmd=cmd):
                self.assertEqual(rc, 0, err)  # a bad record is reported, not fatal
                self.assertRegex(
                    err, r"resource exhausted: .*bomb\.evtx@0x1200: chunk 0 offset 0x200: "
                    r"record 1 at chunk offset 0x200: record " + bound)
                self.assertLess(rss, rss_ceiling(200), "peak RSS in MiB")
                if cmd[0] == "dump":
                    # The record after the bomb and the other input's last one.
                    flat = out.replace(b" ", b"")
                    for eid in (7, 4673):
                        want = b"<EventID>%d</EventID>" % eid if cmd[2] == "xml" else \
                            b'"event_id":%d' % eid
                        self.assertTrue(want in flat, f"{want} missing")
                    self.assertLess(len(out), 64 << 20)
                else:
                    s = summary(err)
                    self.assertEqual(s["unreadable"], 0)
                    self.assertEqual(s["errors"], 1)
                    self.assertGreater(s["events"], 1)

    def test_output_size_bound(self):
        # 16 x 16 x 64 references to a 15,000-character entity name: 245 MB
        # of XML from one 64 KiB chunk, in 16,384 nodes.
        self.check_bomb(evtx_craft.template_bomb(2, 15000), "renders past 16 MiB")

    def test_output_size_bound_deeper(self):
        # Four levels: 4M references, gigabytes; the output bound fires first.
        self.check_bomb(evtx_craft.template_bomb(4, 15000), "renders past 16 MiB")

    def test_node_bound(self):
        # 16 x 16 x 16 x 64 references to a one-character name: under 1 MB of
        # output but past 2^18 nodes.
        self.check_bomb(evtx_craft.template_bomb(3, 1), "expands past 262144 nodes")


class TemplateCacheMemoryTest(TempDirTest):
    def test_a_large_new_template_per_chunk_keeps_memory_flat(self):
        # 150 chunks (9.8 MB), each one record of its own template of 60,000
        # one-byte tokens: the cross-chunk cache took 2.9 MB per chunk.
        chunks = [evtx_craft.big_template_chunk(i) for i in range(150)]
        path = self.write("templates.evtx", evtx_craft.evtx_file(chunks, next_record_id=151))
        for cmd in (["dump", "--format", "jsonl"], ["dump", "--format", "xml"], ["scan"]):
            rc, out, err, rss = run_rss(*cmd, path)
            with self.subTest(cmd=cmd):
                self.assertEqual(rc, 0, err)
                self.assertLess(rss, rss_ceiling(150), "peak RSS in MiB")
                if cmd[0] == "dump":
                    self.assertEqual(out.count(b"<Event>" if cmd[2] == "xml" else b'"record_id"'),
                                     150)
                else:
                    self.assertEqual(summary(err)["events"], 150)

    def test_a_template_repeating_a_long_name_is_not_copied_per_reference(self):
        # 6,000 references to one 14,000-character name per template: caching
        # it copied the name per reference, 84 MB for each chunk. Its records
        # render past 16 MiB and fail; memory must not grow with the chunks.
        chunks = [evtx_craft.big_template_chunk(i, tokens=6000, name_chars=14000)
                  for i in range(12)]
        path = self.write("names.evtx", evtx_craft.evtx_file(chunks, next_record_id=13))
        for fmt in ("jsonl", "xml"):
            rc, out, err, rss = run_rss("dump", "--format", fmt, path)
            with self.subTest(fmt=fmt):
                self.assertEqual(rc, 0, err)
                # JSON takes no entity references outside the event data.
                # One error line per record; the input's account line
                # (docs/cli.md "Accounting") quotes the first one again.
                errors = [ln for ln in err.splitlines() if "resource exhausted" in ln
                          and "account:" not in ln]
                self.assertEqual(sum("renders past 16 MiB" in ln for ln in errors),
                                 12 if fmt == "xml" else 0, err)
                self.assertLess(rss, rss_ceiling(200), "peak RSS in MiB")


class ShrinkingFileTest(TempDirTest):
    def big_evtx(self, chunks):
        """The sample's chunk repeated: a file of `chunks` valid chunks."""
        with open(SAMPLE_EVTX, "rb") as f:
            image = f.read()
        header, chunk = image[:evtx_craft.HEADER], image[evtx_craft.HEADER:][:evtx_craft.CHUNK]
        return self.write("big.evtx", header + chunk * chunks)

    def test_file_truncated_while_dumped_is_an_error_naming_it(self):
        for fmt in ("xml", "jsonl"):
            path = self.big_evtx(600)
            p = subprocess.Popen([BINARY, "dump", "--format", fmt, path, SAMPLE_EVTX], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            first = p.stdout.read(1 << 16)  # dump is under way and blocks on its output
            os.truncate(path, evtx_craft.HEADER + 3 * evtx_craft.CHUNK + 100)
            rest, err = p.communicate(timeout=120)
            err = err.decode()
            with self.subTest(fmt=fmt):
                self.assertEqual(p.returncode, 3, err)  # was SIGBUS (-7, shell 135)
                self.assertRegex(err, r"io error: .*big\.evtx@0x[0-9a-f]+: file shrank while read")
                out = first + rest
                # The other input after it was dumped whole.
                alone = run("dump", "--format", fmt, SAMPLE_EVTX).stdout
                self.assertGreater(len(alone), 1000)
                self.assertTrue(out.endswith(alone), "the next input's records are missing")


class StreamInputTest(TempDirTest):
    """FIFOs and process substitution are read once: nothing is lost to format
    sniffing, EVTX works too, and waiting for a writer stays interruptible."""

    def ndjson(self):
        path = os.path.join(SAMPLE_JSON, "nxlog.ndjson")
        with open(path, "rb") as f:
            return path, f.read()

    def fifo(self, name):
        path = os.path.join(self.dir, name)
        os.mkfifo(path)
        return path

    def feed(self, fifo, data):
        def write():
            with open(fifo, "wb") as f:
                f.write(data)
        t = threading.Thread(target=write, daemon=True)
        t.start()
        return t

    def test_fifo_gives_the_same_events_as_the_file(self):
        for name, data, fmt in (
                ("x.ndjson", self.ndjson()[1], "jsonl"),
                ("x.evtx", open(SAMPLE_EVTX, "rb").read(), "jsonl"),
                ("x.xml.evtx", open(SAMPLE_EVTX, "rb").read(), "xml")):
            with self.subTest(input=name):
                plain = self.write("plain-" + name, data)
                want = run("dump", "--format", fmt, plain)
                self.assertEqual(want.returncode, 0)
                fifo = self.fifo(name)
                t = self.feed(fifo, data)
                got = run("dump", "--format", fmt, fifo)
                t.join(10)
                self.assertEqual(got.returncode, 0, got.stderr.decode())
                lines = want.stdout.replace(plain.encode(), b"F").splitlines()
                self.assertGreater(len(lines), 5)
                self.assertEqual(got.stdout.replace(fifo.encode(), b"F").splitlines(), lines)
                # scan: every event, no error.
                t = self.feed(fifo, data)
                r = run("scan", fifo)
                t.join(10)
                s = summary(r.stderr.decode())
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                self.assertEqual((s["events"], s["errors"], s["unreadable"]),
                                 (summary(run("scan", plain).stderr.decode())["events"], 0, 0))

    def test_process_substitution_loses_no_events(self):
        path, _ = self.ndjson()
        want = summary(run("scan", path).stderr.decode())["events"]
        for src in (path, SAMPLE_EVTX):
            r = subprocess.run(["bash", "-c", f'"$0" scan <(cat "$1")', BINARY, src], cwd=ROOT,
                               capture_output=True, timeout=120)
            s = summary(r.stderr.decode())
            with self.subTest(src=src):
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                self.assertEqual(s["errors"], 0, r.stderr.decode())
                expected = want if src == path else \
                    summary(run("scan", SAMPLE_EVTX).stderr.decode())["events"]
                self.assertEqual(s["events"], expected)

    def test_fifo_without_writer_ends_on_sigint_and_sigterm(self):
        fifo = self.fifo("idle.ndjson")
        for sig in (signal.SIGINT, signal.SIGTERM):
            p = subprocess.Popen([BINARY, "scan", fifo, SAMPLE_EVTX], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(0.5)
            self.assertIsNone(p.poll(), "scan should wait for a writer")
            p.send_signal(sig)
            try:
                _, err = p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                self.fail(f"scan ignored {sig.name} while waiting for a FIFO writer")
            with self.subTest(sig=sig.name):
                self.assertEqual(p.returncode, 130, err.decode())
                self.assertIn("idle.ndjson", err.decode())


class DaemonHostileEvtxTest(TempDirTest):
    def test_daemon_survives_a_template_bomb_in_its_drop_directory(self):
        import socket
        import urllib.request
        with socket.socket() as so:
            so.bind(("127.0.0.1", 0))
            port = so.getsockname()[1]
        indir = os.path.join(self.dir, "in")
        os.makedirs(indir)
        config = self.write("eventsift.yaml", f"""state_dir: {self.dir}/state
checkpoint_interval_ms: 200
shutdown_timeout_ms: 5000
rules:
  paths: [{ROOT}/rules]
sources:
  - name: drop
    type: directory
    path: {indir}
    include: ["*.evtx"]
    rotate_wait_ms: 300
sinks:
  - type: file
    path: {self.dir}/alerts.ndjson
metrics:
  address: 127.0.0.1:{port}
""".encode())

        def metric(name):
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()
            except OSError:
                return None
            for line in text.decode().splitlines():
                if line.startswith(name + "{") and 'source="drop"' in line:
                    return float(line.split()[-1])
            return None

        log_path = os.path.join(self.dir, "daemon.log")
        with open(log_path, "wb") as log:
            p = subprocess.Popen([BINARY, "daemon", "--config", config], cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.time() + 15
            while metric("eventsift_source_events_total") is None and time.time() < deadline:
                time.sleep(0.1)
            # Four levels of nesting: gigabytes unbounded. Then a good file.
            self.write("in/bomb.evtx", evtx_craft.template_bomb(4, 15000))
            time.sleep(0.5)
            with open(SAMPLE_EVTX, "rb") as f:
                self.write("in/sample.evtx", f.read())
            want = 1 + summary(run("scan", SAMPLE_EVTX).stderr.decode())["events"]
            deadline = time.time() + 30
            while metric("eventsift_source_events_total") != want and time.time() < deadline:
                self.assertIsNone(p.poll(), "the daemon died")
                time.sleep(0.2)
            with open(log_path) as f:
                log_text = f.read()
            self.assertEqual(metric("eventsift_source_events_total"), want, log_text)
            self.assertIn("record 1 at chunk offset 0x200: record renders past 16 MiB", log_text)
            self.assertIsNone(p.poll())
            p.send_signal(signal.SIGTERM)
            _, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            self.assertEqual(p.returncode, 0)
            self.assertLess(usage.ru_maxrss / 1024, rss_ceiling(300), "peak RSS in MiB")
        finally:
            if p.returncode is None:
                p.kill()
                p.wait()


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
