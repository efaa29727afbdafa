#!/usr/bin/env python3
"""Builds one valid EVTX file of a requested size out of real corpus chunks.

  make_big_evtx.py --out big.evtx --size-mb 300 [--corpus DIR | FILE...]
  make_big_evtx.py --out corpus-once.evtx --once        # every good chunk once
  make_big_evtx.py --out security.evtx --size-mb 256 --kind security --eventsift build/release/bin/eventsift

Chunks are copied whole from the corpus files (cycling through them in order
until the size is reached). A chunk is used only if its signature is
"ElfChnk\\0", both its CRC32s (header: bytes 0..119 + 128..511; records:
512..free-space offset) are valid, and its records walk cleanly from offset
512 to the free-space offset (signature 2a2a0000, size == trailing size copy).
Dirty, damaged and slack-only chunks are skipped, so the output measures
decoding speed, not recovery.

Chunks of the CAPI2, MSExchange and issue_201 sources are best left out
(--exclude, as bench/run does): evtxexport and python-evtx stop at their first
undecodable record there and would be credited with fewer records.

Record ids: by default every record is renumbered so ids run 1, 2, 3, ...
across the whole file, as in a real log that grew this large. That rewrites
the 8-byte id in each record header (EventRecordID is rendered from it, not
from BinXML) and the chunk header's first/last record number and id, so both
chunk CRCs are recomputed. With --keep-record-ids the chunks are copied byte
for byte (CRCs untouched) and record ids then repeat once per copy of a chunk:
python-evtx and evtxexport do not care, evtx_dump neither, but a decoder that
drops records whose id it has already seen (recovery de-duplication) would
report fewer records than the file holds, so the default is to renumber.

Kinds (--kind): only chunks whose records are mostly of one kind of log,
told by the channel eventsift's own `dump --format jsonl` gives each record
(its `source.chunk` says which chunk it came from): security (Security),
system (System), sysmon (Microsoft-Windows-Sysmon/Operational), application
(Application: the classic providers), powershell (Microsoft-Windows-
PowerShell/Operational and Windows PowerShell), and mixed (every chunk, the
default). The kind of each chunk is written to OUT.expect.json's
`chunk_kinds` summary.

The file header is rewritten: first chunk 0, last chunk n-1, next record id,
chunk count (u16; files above 65535 chunks store the low 16 bits, as Windows
does, and readers must count chunks from the file size), flags 0 (clean), and
its CRC32 (bytes 0..119). Standard library only.
"""

import argparse
import collections
import fnmatch
import glob
import json
import os
import re
import struct
import subprocess
import sys
import zlib

HEADER = 4096
CHUNK = 65536
CHUNK_HEADER = 512


def chunk_ok(c):
    """Returns the list of record offsets if chunk bytes `c` are usable."""
    if c[:8] != b"ElfChnk\x00":
        return None
    free = struct.unpack_from("<I", c, 48)[0]
    if free < CHUNK_HEADER or free > CHUNK:
        return None
    if zlib.crc32(c[:120] + c[128:CHUNK_HEADER]) != struct.unpack_from("<I", c, 124)[0]:
        return None
    if zlib.crc32(c[CHUNK_HEADER:free]) != struct.unpack_from("<I", c, 52)[0]:
        return None
    offsets = []
    off = CHUNK_HEADER
    while off < free:
        if off + 28 > free or c[off:off + 4] != b"\x2a\x2a\x00\x00":
            return None
        size = struct.unpack_from("<I", c, off + 4)[0]
        if size < 28 or off + size > free or struct.unpack_from("<I", c, off + size - 4)[0] != size:
            return None
        offsets.append(off)
        off += size
    return offsets or None


def renumber(c, offsets, first_id):
    c = bytearray(c)
    for i, off in enumerate(offsets):
        struct.pack_into("<Q", c, off + 8, first_id + i)
    last_id = first_id + len(offsets) - 1
    struct.pack_into("<QQQQ", c, 8, first_id, last_id, first_id, last_id)
    struct.pack_into("<I", c, 44, offsets[-1])  # last record offset
    free = struct.unpack_from("<I", c, 48)[0]
    struct.pack_into("<I", c, 52, zlib.crc32(bytes(c[CHUNK_HEADER:free])))
    struct.pack_into("<I", c, 124, zlib.crc32(bytes(c[:120] + c[128:CHUNK_HEADER])))
    return bytes(c)


KINDS = {
    "security": ("Security",),
    "system": ("System",),
    "sysmon": ("Microsoft-Windows-Sysmon/Operational",),
    "application": ("Application",),
    "powershell": ("Microsoft-Windows-PowerShell/Operational", "Windows PowerShell"),
}
CHANNEL_RE = re.compile(rb'"channel":"((?:[^"\\]|\\.)*)"')
CHUNK_RE = re.compile(rb'"source":\{[^}]*"chunk":(\d+)')


def chunk_kinds(eventsift, path):
    """{chunk index: kind} for the chunks of `path` whose records are mostly
    of one kind, from eventsift's dump of the file."""
    p = subprocess.run([eventsift, "dump", "--format", "jsonl", path], capture_output=True)
    tally = collections.defaultdict(collections.Counter)
    for line in p.stdout.splitlines():
        ch, ck = CHANNEL_RE.search(line), CHUNK_RE.search(line)
        if ch and ck:
            tally[int(ck.group(1))][ch.group(1).decode("utf-8", "replace")] += 1
    kinds = {}
    for chunk, channels in tally.items():
        channel, n = channels.most_common(1)[0]
        if 2 * n <= sum(channels.values()):
            continue
        for kind, names in KINDS.items():
            if channel in names:
                kinds[chunk] = kind
    return kinds


def collect(paths, kind=None, eventsift=None):
    chunks = []  # (bytes, record offsets, source)
    header = None
    skipped = 0
    for path in paths:
        with open(path, "rb") as f:
            image = f.read()
        if image[:8] != b"ElfFile\x00":
            continue
        if header is None:
            header = bytearray(image[:HEADER])
        kinds = chunk_kinds(eventsift, path) if kind else None
        for i in range((len(image) - HEADER) // CHUNK):
            c = image[HEADER + i * CHUNK:HEADER + (i + 1) * CHUNK]
            if kinds is not None and kinds.get(i) != kind:
                continue
            offsets = chunk_ok(c)
            if offsets is None:
                skipped += 1
            else:
                chunks.append((c, offsets, os.path.basename(path)))
    return header, chunks, skipped


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", help="source EVTX files (default: the corpus)")
    ap.add_argument("--corpus", help="corpus EVTX directory (default: <repo>/../shared/corpus/evtx)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--size-mb", type=float, default=300.0, help="target size in MiB")
    ap.add_argument("--once", action="store_true", help="each usable chunk exactly once")
    ap.add_argument("--exclude", action="append", default=[],
                    help="fnmatch on source file names to leave out (e.g. '*CAPI2*': "
                         "evtxexport stops at the first record it cannot decode)")
    ap.add_argument("--kind", choices=sorted(KINDS) + ["mixed"], default="mixed",
                    help="only chunks mostly of this kind of log (needs --eventsift)")
    ap.add_argument("--eventsift", help="eventsift binary that tells each chunk's kind (--kind)")
    ap.add_argument("--keep-record-ids", action="store_true",
                    help="copy chunks byte for byte (record ids repeat per copy)")
    ap.add_argument("--expect", action="store_true",
                    help="also write OUT.expect.json: records, chunks, bytes and source files, "
                         "which bench/run checks every decoder's record count against")
    args = ap.parse_args()

    paths = args.files
    if not paths:
        repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
        corpus = args.corpus or os.path.join(repo, "..", "shared", "corpus", "evtx")
        paths = sorted(glob.glob(os.path.join(corpus, "*.evtx")))
    paths = [p for p in paths if not any(fnmatch.fnmatch(os.path.basename(p), x) for x in args.exclude)]
    kind = None if args.kind == "mixed" else args.kind
    if kind and not args.eventsift:
        sys.exit("make_big_evtx: --kind %s needs --eventsift BINARY" % kind)
    header, chunks, skipped = collect(paths, kind, args.eventsift)
    if not chunks:
        sys.exit("make_big_evtx: no usable %schunks in %d files" % (kind + " " if kind else "", len(paths)))

    if args.once:
        n = len(chunks)
    else:
        n = max(1, int(args.size_mb * 1024 * 1024 - HEADER) // CHUNK)
    next_id = 1
    records = 0
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as out:
        out.write(b"\0" * HEADER)  # rewritten below
        for i in range(n):
            c, offsets, _ = chunks[i % len(chunks)]
            if not args.keep_record_ids:
                c = renumber(c, offsets, next_id)
                next_id += len(offsets)
            else:
                next_id = max(next_id, struct.unpack_from("<Q", c, 32)[0] + 1)
            records += len(offsets)
            out.write(c)
        struct.pack_into("<QQQ", header, 8, 0, n - 1, next_id)
        struct.pack_into("<IHHHH", header, 32, 128, 1, 3, HEADER, n & 0xFFFF)
        struct.pack_into("<I", header, 120, 0)  # flags: clean
        header[128:HEADER] = b"\0" * (HEADER - 128)
        struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])))
        out.seek(0)
        out.write(header)
    os.replace(tmp, args.out)
    if args.expect:
        used = sorted({src for c, o, src in chunks[:n]})
        with open(args.out + ".expect.json", "w") as f:
            json.dump({"generator": "bench/make_big_evtx.py", "records": records, "chunks": n,
                       "bytes": HEADER + n * CHUNK, "usable_chunks": len(chunks), "skipped_chunks": skipped,
                       "source_files": used, "excluded": args.exclude, "kind": args.kind,
                       "record_ids": "repeat" if args.keep_record_ids else "renumbered"}, f, indent=1)
    print("make_big_evtx: %s: %d chunks (%.1f MiB), %d records, from %d usable chunks of %d files "
          "(%d chunks skipped: bad signature/CRC/record walk or empty); record ids %s"
          % (args.out, n, (HEADER + n * CHUNK) / 1048576.0, records, len(chunks), len(paths), skipped,
             "repeat per copy" if args.keep_record_ids else "renumbered 1..%d" % (next_id - 1)))


if __name__ == "__main__":
    main()
