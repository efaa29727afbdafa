#!/usr/bin/env python3
"""Renumbers the record headers of an EVTX file as an export does.

Event Viewer's "Save As" and `wevtutil epl` write a new file whose record
headers are numbered 1, 2, 3, ... while each record's System/EventRecordID
keeps the number the source log gave it. This rewrites a copy that way:
record header numbers from `start` in file order, each chunk header's
first/last record number and id, the file header's next record id, and the
checksums over them (chunk header CRC32, event records CRC32, file header
CRC32), so readers that check CRCs accept it.

  renumber_evtx.py IN OUT [--start 1]  -> prints "old new" per record

Standard library only.
"""

import argparse
import struct
import sys
import zlib

FILE_HEADER = 4096
CHUNK = 65536
RECORD_MAGIC = b"\x2a\x2a\x00\x00"


def renumber(data, start=1):
    """Returns (new bytes, [(old number, new number), ...])."""
    buf = bytearray(data)
    pairs = []
    n = start
    chunk_count = (len(buf) - FILE_HEADER) // CHUNK
    for c in range(chunk_count):
        base = FILE_HEADER + c * CHUNK
        if buf[base:base + 8] != b"ElfChnk\x00":
            continue
        free = struct.unpack_from("<I", buf, base + 48)[0]
        pos, first, last = 512, None, None
        while pos + 24 <= min(free, CHUNK):
            at = base + pos
            if buf[at:at + 4] != RECORD_MAGIC:
                break
            size = struct.unpack_from("<I", buf, at + 4)[0]
            if size < 28 or pos + size > CHUNK:
                break
            old = struct.unpack_from("<Q", buf, at + 8)[0]
            struct.pack_into("<Q", buf, at + 8, n)
            pairs.append((old, n))
            first = n if first is None else first
            last = n
            n += 1
            pos += size
        if first is None:
            continue
        struct.pack_into("<QQQQ", buf, base + 8, first, last, first, last)
        struct.pack_into("<I", buf, base + 52, zlib.crc32(bytes(buf[base + 512:base + free])))
        header = bytes(buf[base:base + 120]) + bytes(buf[base + 128:base + 512])
        struct.pack_into("<I", buf, base + 124, zlib.crc32(header))
    struct.pack_into("<Q", buf, 24, n)  # next record identifier
    struct.pack_into("<I", buf, 124, zlib.crc32(bytes(buf[:120])))
    return bytes(buf), pairs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--start", type=int, default=1)
    a = ap.parse_args()
    with open(a.input, "rb") as f:
        out, pairs = renumber(f.read(), a.start)
    with open(a.output, "wb") as f:
        f.write(out)
    for old, new in pairs:
        print(old, new)


if __name__ == "__main__":
    sys.exit(main())
