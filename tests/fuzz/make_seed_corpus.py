#!/usr/bin/env python3
"""Writes seed corpora for the libFuzzer targets in tests/fuzz/.

  make_seed_corpus.py --out DIR [--repo ROOT] [--corpus DIR]

DIR/evtx/: small EVTX files (tests/data/evtx and the shared corpus files of
one chunk) and chunk-sized slices of the larger corpus files (the 4 KiB file
header followed by one 64 KiB chunk), each prefixed with evtx_fuzzer's flag
byte (bit 0 carve, bit 1 XML rendering, bit 2 strict, bit 3 JSON rendering,
bit 4 JSON lines by chunk), cycled so every option
is seeded. Slices are taken from the first chunk, the last chunk with a valid
signature, and any chunk whose signature is wrong (bad-chunk-magic sample),
plus one two-chunk slice per file (the header and its first two chunks).

DIR/json/: the first lines of each NDJSON export in the corpus (plain, as a
JSON array, and gzip-compressed) for json_fuzzer.

Standard library only. The seeds are derived data: they live in the build
directory, not in git.
"""

import argparse
import glob
import gzip
import hashlib
import os

HEADER = 4096
CHUNK = 65536
MAX_SLICES_PER_FILE = 3


def write_seed(out_dir, data):
    os.makedirs(out_dir, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(data)


def evtx_seeds(paths, out_dir):
    n = 0
    flags = 0
    for path in paths:
        with open(path, "rb") as f:
            image = f.read()
        if len(image) < HEADER or image[:8] != b"ElfFile\x00":
            continue
        header = image[:HEADER]
        nchunks = (len(image) - HEADER) // CHUNK
        if nchunks <= 1:
            pieces = [image]
        else:
            picks = [0]
            valid = [i for i in range(nchunks)
                     if image[HEADER + i * CHUNK:HEADER + i * CHUNK + 8] == b"ElfChnk\x00"]
            if valid and valid[-1] not in picks:
                picks.append(valid[-1])
            bad = [i for i in range(nchunks) if i not in valid and
                   any(image[HEADER + i * CHUNK:HEADER + (i + 1) * CHUNK])]
            picks += bad[:1]
            pieces = [header + image[HEADER + i * CHUNK:HEADER + (i + 1) * CHUNK]
                      for i in picks[:MAX_SLICES_PER_FILE]]
            # Two consecutive chunks: events and names must survive the
            # hand-over from one chunk to the next.
            if len(valid) >= 2:
                a = valid[0]
                pieces.append(header + image[HEADER + a * CHUNK:HEADER + (a + 2) * CHUNK])
        for piece in pieces:
            write_seed(out_dir, bytes([flags & 31]) + piece)
            flags += 1
            n += 1
    return n


def json_seeds(paths, out_dir, lines_per_seed=20):
    n = 0
    for path in paths:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as f:
            lines = []
            for line in f:
                lines.append(line)
                if len(lines) >= lines_per_seed:
                    break
        if not lines:
            continue
        ndjson = b"".join(lines)
        write_seed(out_dir, ndjson)
        write_seed(out_dir, b"[" + b",".join(l.rstrip(b"\r\n") for l in lines[:5]) + b"]")
        write_seed(out_dir, gzip.compress(b"".join(lines[:5]), mtime=0))
        n += 3
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--repo", default=os.path.join(here, "..", ".."))
    ap.add_argument("--corpus", help="default: <repo>/../shared/corpus")
    args = ap.parse_args()
    repo = os.path.abspath(args.repo)
    corpus = os.path.abspath(args.corpus or os.path.join(repo, "..", "shared", "corpus"))
    if not os.path.isdir(corpus):
        print("make_seed_corpus: corpus not found at %s, using tests/data only" % corpus)

    evtx = sorted(glob.glob(os.path.join(repo, "tests", "data", "evtx", "*.evtx")))
    evtx += sorted(glob.glob(os.path.join(corpus, "evtx", "*.evtx")))
    jsons = sorted(glob.glob(os.path.join(repo, "tests", "data", "json", "*.json*")))
    jsons += sorted(glob.glob(os.path.join(repo, "tests", "data", "json", "*.ndjson*")))
    jsons += sorted(glob.glob(os.path.join(corpus, "json", "*.json*")))
    ne = evtx_seeds(evtx, os.path.join(args.out, "evtx"))
    nj = json_seeds(jsons, os.path.join(args.out, "json"))
    print("make_seed_corpus: %d EVTX seeds, %d JSON seeds in %s" % (ne, nj, args.out))


if __name__ == "__main__":
    main()
