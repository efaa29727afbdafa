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

DIR/lists/: lists_fuzzer's seeds, each prefixed with its selector byte
(0 build list, 1 inventory CSV, 2 inventory JSON, 3 version string, 4 host
names; 0x80 on 1 and 2 asks for UTF-16LE): data/exchange-builds.csv whole,
with CRLF, and split into pieces (the header with one product's rows, with one
CU's rows); the inventories the tests feed the parser (the string literals
passed to Parse/Error in tests/unit/correlate/inventory_test.cc and written by
tests/e2e/builds_e2e_test.py); and the version strings and host names quoted
in tests/unit/correlate and tests/e2e/builds_e2e_test.py.

Standard library only. The seeds are derived data: they live in the build
directory, not in git.
"""

import argparse
import ast
import glob
import gzip
import hashlib
import os
import re
import sys

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


def hostile_evtx_seeds(repo, out_dir):
    """Crafted inputs the decoder must bound (tests/e2e/evtx_craft.py): a
    template expansion bomb by output size and one by node count, and chunks
    each with their own large template."""
    sys.path.insert(0, os.path.join(repo, "tests", "e2e"))
    import evtx_craft  # noqa: E402
    seeds = [evtx_craft.template_bomb(2, 15000), evtx_craft.template_bomb(3, 1),
             evtx_craft.evtx_file([evtx_craft.big_template_chunk(i) for i in range(2)])]
    for i, image in enumerate(seeds):
        write_seed(out_dir, bytes([(2 * i + 2) & 31]) + image)  # XML and JSON renderings
    return len(seeds)


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


LIST_BUILDS, LIST_INV_CSV, LIST_INV_JSON, LIST_VERSION, LIST_HOSTS, LIST_CVES = range(6)

# A C++ string literal (no raw strings in those tests) and runs of them.
CXX_LITERAL = r'"(?:[^"\\\n]|\\.)*"'
CXX_LITERALS = re.compile(r'(?:%s\s*)+' % CXX_LITERAL)


def cxx_unescape(run):
    """The bytes of a run of adjacent C++ literals ("a" "b" is "ab")."""
    out = b""
    for lit in re.findall(CXX_LITERAL, run):
        body = lit[1:-1]
        out += re.sub(rb'\\(x[0-9A-Fa-f]{2}|.)', lambda m: (
            bytes([int(m.group(1)[1:], 16)]) if m.group(1)[:1] == b"x" else
            {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"0": b"\0"}.get(m.group(1), m.group(1))),
            body.encode("utf-8"))
    return out


def call_arguments(text, callee):
    """The string arguments of every callee("..." "...") in C++ source."""
    return [cxx_unescape(m.group(1)) for m in
            re.finditer(r'\b%s\(\s*(%s)' % (callee, CXX_LITERALS.pattern), text)]


def python_writes(text):
    """The strings written with f.write('...' '...') in a Python test."""
    out = []
    for m in re.finditer(r"f\.write\(((?:\s*(?:'[^'\n]*'|\"[^\"\n]*\"))+)\)", text):
        try:
            out.append(ast.literal_eval("(" + m.group(1) + ")").encode("utf-8"))
        except (ValueError, SyntaxError):
            pass
    return out


def build_list_pieces(csv):
    """The build list whole, with CRLF, and cut into smaller valid-looking lists."""
    lines = csv.split(b"\n")
    header = next(l for l in lines if l.startswith(b"product,"))
    rows = [l for l in lines if l and not l.startswith(b"#") and l != header]
    pieces = [csv, csv.replace(b"\n", b"\r\n"), b"\xef\xbb\xbf" + csv]
    by_product, by_cu = {}, {}
    for row in rows:
        cols = row.split(b",")
        by_product.setdefault(cols[0], []).append(row)
        by_cu.setdefault((cols[0], cols[1]), []).append(row)
    for group in list(by_product.values()) + list(by_cu.values()):
        pieces.append(b"\n".join([header] + group) + b"\n")
    return pieces


def list_seeds(repo, out_dir):
    n = 0

    def seed(selector, data):
        nonlocal n
        write_seed(out_dir, bytes([selector]) + data)
        n += 1

    with open(os.path.join(repo, "data", "exchange-builds.csv"), "rb") as f:
        for piece in build_list_pieces(f.read()):
            seed(LIST_BUILDS, piece)
    with open(os.path.join(repo, "data", "exchange-cves.csv"), "rb") as f:
        cves = f.read()
    seed(LIST_CVES, cves)
    seed(LIST_CVES, cves.replace(b"\n", b"\r\n"))
    header, *rows = [l for l in cves.split(b"\n") if l and not l.startswith(b"#")]
    for row in rows:
        seed(LIST_CVES, header + b"\n" + row + b"\n")
    with open(os.path.join(repo, "tests", "unit", "correlate", "inventory_test.cc")) as f:
        cxx = f.read()
    inventories = call_arguments(cxx, "Parse") + call_arguments(cxx, "Error")
    with open(os.path.join(repo, "tests", "e2e", "builds_e2e_test.py")) as f:
        inventories += python_writes(f.read())
    for i, inv in enumerate(inventories):
        if inv.startswith(b"\xff\xfe"):
            continue  # the fuzzer's 0x80 bit makes UTF-16 itself
        kind = LIST_INV_JSON if inv.lstrip()[:1] in (b"[", b"{") else LIST_INV_CSV
        seed(kind | (0x80 if i % 4 == 3 else 0), inv)
    versions, hosts = set(), set()
    version_like = re.compile(rb"\d+\.\d+|Version 1")
    for path in sorted(glob.glob(os.path.join(repo, "tests", "unit", "correlate", "*.cc"))):
        with open(path) as f:
            text = f.read()
        for m in CXX_LITERALS.finditer(text):
            s = cxx_unescape(m.group(0))
            if version_like.search(s) and len(s) < 100:
                versions.add(s)
        if path.endswith("host_key_test.cc"):
            hosts.update(call_arguments(text, "NormalizeHostName"))
            hosts.update(call_arguments(text, "See"))
    with open(os.path.join(repo, "tests", "e2e", "builds_e2e_test.py")) as f:
        for lit in re.findall(r'"([^"\n]*)"', f.read()):
            if version_like.search(lit.encode()) and len(lit) < 100:
                versions.add(lit.encode())
    for v in sorted(versions):
        seed(LIST_VERSION, v)
    seed(LIST_HOSTS, b"\n".join(sorted(hosts)))
    for h in sorted(hosts):
        seed(LIST_HOSTS, h)
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
    jsons += sorted(glob.glob(os.path.join(repo, "tests", "data", "openwec", "*.ndjson")))
    jsons += sorted(glob.glob(os.path.join(corpus, "json", "*.json*")))
    ne = evtx_seeds(evtx, os.path.join(args.out, "evtx"))
    ne += hostile_evtx_seeds(repo, os.path.join(args.out, "evtx"))
    nj = json_seeds(jsons, os.path.join(args.out, "json"))
    nl = list_seeds(repo, os.path.join(args.out, "lists"))
    print("make_seed_corpus: %d EVTX seeds, %d JSON seeds, %d list seeds in %s"
          % (ne, nj, nl, args.out))


if __name__ == "__main__":
    main()
