#!/usr/bin/env python3
"""XML differential: `eventsift dump --format xml` against `evtx_dump -o xml`
(evtx 0.15.1, crates.io), record by record, on every EVTX file of the shared
corpus (../shared/corpus/evtx relative to the repository root), and on the
files tests/tools/crafted_evtx.py writes for rules the corpus does not
exercise (DependencyId, Real32/Real64 text, arrays).

Both tools print each record as a line `Record <n>` and the record's XML.
Records are paired by that number (the record header's id, or what a tool
prints in its place); records left unpaired are then paired by equal
canonical XML, so the test does not depend on which id the `Record` line
carries. Canonicalization, applied to both sides alike:

  1. the XML declaration line is dropped, and blank lines at the start and
     end of the record;
  2. indentation is dropped: a line end followed by spaces and then a tag
     (`\n  <`). Both tools indent alike today (the raw records are equal),
     but an indentation change is not a rendering difference. Whitespace
     that is not a line end plus spaces before a tag (a value of spaces, a
     tab) is kept, so values made of whitespace are still compared.

Nothing else is folded: line ends, attribute order, quoting, empty-element
forms, value text, escaping must all be equal. A record that differs fails the test
unless its difference is of a kind listed in docs/evtx-format.md's section
"Differences from evtx_dump 0.15.1" (the `kind` column) with the reason ours
is right; KINDS below says how each listed kind is recognised, so a listed
kind can only excuse the difference it names.

Records evtx_dump prints that eventsift does not are failures. Records only
eventsift prints are failures too, unless the doc lists kind `resync-extra`
and the file's account (`dump --stats`) counts at least that many records as
recovered by scanning: extra records must be ones eventsift found by
resynchronising, not ones it made up.

Exit status: 0 pass, 1 failure, 77 skip (evtx_dump absent outside CI; under
CI=true a missing evtx_dump is a failure). Without the corpus only the
crafted files are compared, and the output says so.
"""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import crafted_evtx  # noqa: E402
import peers  # noqa: E402

SKIP = 77
_RECORD_LINE = re.compile(r"^Record (\d+)$", re.M)
_INDENT = re.compile(r"\n *(?=<)")
_DECL = re.compile(r"^<\?xml[^>]*\?>")


def canonical(xml):
    xml = _DECL.sub("", xml.strip("\n"))
    return _INDENT.sub("", xml).strip("\n")


def split_records(text):
    """[(number, canonical xml)] in output order."""
    out = []
    marks = list(_RECORD_LINE.finditer(text))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out.append((int(m.group(1)), canonical(text[m.end():end])))
    return out


# ---------------------------------------------------------------------------
# Kinds of difference docs/evtx-format.md may list. Each takes (ours, theirs)
# canonical XML and says whether the records differ only in that way.
# ---------------------------------------------------------------------------

# Kinds that excuse a record both print differently: none today. Kinds that
# excuse records only eventsift prints are checked in compare_file.
KINDS = {}
ONLY_OURS_KINDS = {"resync-extra"}


def listed_kinds(doc_path):
    """The `kind` cells of the doc's table of differences."""
    try:
        with open(doc_path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return set()
    part = text.split("## Differences from evtx_dump 0.15.1", 1)
    if len(part) < 2:
        return set()
    kinds = set()
    for line in part[1].split("\n## ", 1)[0].splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and (cells[0] in KINDS or cells[0] in ONLY_OURS_KINDS):
            kinds.add(cells[0])
    return kinds


def first_difference(a, b, width=90):
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    lo = max(0, i - width // 2)
    return "eventsift ...%s...\n      evtx_dump ...%s..." % (a[lo:i + width // 2], b[lo:i + width // 2])


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, timeout=600)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def compare_file(args):
    eventsift, evtx_dump, path, kinds, tmp = args
    stats_path = os.path.join(tmp, os.path.basename(path) + ".stats.json")
    rc1, ours_text, err1 = run([eventsift, "dump", "--format", "xml", "--threads", "1",
                                "--stats", stats_path, path])
    rc2, theirs_text, err2 = run([evtx_dump, "-o", "xml", "-t", "1", path])
    ours = split_records(ours_text)
    theirs = split_records(theirs_text)
    result = dict(path=path, ours=len(ours), theirs=len(theirs), equal=0, excused={}, failures=[],
                  only_ours=0)
    if rc1 != 0 and not ours:
        result["failures"].append("eventsift dump exited %d: %s" % (rc1, err1.strip()[-300:]))
        return result
    by_number = {}
    for n, xml in ours:
        by_number.setdefault(n, []).append(xml)
    unpaired_theirs = []
    for n, xml in theirs:
        cands = by_number.get(n)
        if cands:
            o = cands.pop(0)
            if o == xml:
                result["equal"] += 1
                continue
            excuse = next((k for k in sorted(kinds) if k in KINDS and KINDS[k](o, xml)), None)
            if excuse:
                result["excused"][excuse] = result["excused"].get(excuse, 0) + 1
            else:
                result["failures"].append("record %d differs:\n      %s" % (n, first_difference(o, xml)))
        else:
            unpaired_theirs.append((n, xml))
    leftovers = {}
    for cands in by_number.values():
        for xml in cands:
            leftovers[xml] = leftovers.get(xml, 0) + 1
    for n, xml in unpaired_theirs:
        if leftovers.get(xml):
            leftovers[xml] -= 1
            result["equal"] += 1
        else:
            result["failures"].append("record %d: evtx_dump prints it, eventsift does not" % n)
    result["only_ours"] = sum(leftovers.values())
    if result["only_ours"]:
        try:
            with open(stats_path, encoding="utf-8") as f:
                recovered = json.load(f)["inputs"][0].get("records_recovered", 0)
        except (OSError, ValueError, KeyError, IndexError):
            recovered = 0
        if "resync-extra" not in kinds:
            result["failures"].append("%d records only eventsift prints (kind resync-extra is not "
                                      "listed)" % result["only_ours"])
        elif recovered < result["only_ours"]:
            result["failures"].append("%d records only eventsift prints, but its account counts "
                                      "only %d recovered" % (result["only_ours"], recovered))
        else:
            result["excused"]["resync-extra"] = result["only_ours"]
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eventsift", required=True)
    ap.add_argument("--repo", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap.add_argument("--corpus", help="corpus root (default: <repo>/../shared/corpus)")
    ap.add_argument("--evtx-dump", help="evtx_dump 0.15.1 (default: PATH, then ~/.cargo/bin)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", help="substring of the file names to compare")
    args = ap.parse_args()

    repo = os.path.abspath(args.repo)
    corpus = os.path.abspath(args.corpus or os.path.join(repo, "..", "shared", "corpus"))
    evtx_dir = os.path.join(corpus, "evtx")
    evtx_dump = args.evtx_dump
    if not evtx_dump:
        evtx_dump, why = peers.find_evtx_dump()
        if evtx_dump is None:
            if peers.in_ci():
                print("FAIL: CI=true and " + why)
                return 1
            print("SKIP: " + why)
            return SKIP
    tmp = tempfile.TemporaryDirectory()
    files = crafted_evtx.write_all(tmp.name)
    if os.path.isdir(evtx_dir):
        files += sorted(os.path.join(evtx_dir, f) for f in os.listdir(evtx_dir)
                        if f.lower().endswith(".evtx"))
    else:
        print("NOTE: the shared corpus is absent (%s): only the %d crafted files are compared"
              % (evtx_dir, len(files)))
    if args.only:
        files = [f for f in files if args.only in os.path.basename(f)]
    doc = os.path.join(repo, "docs", "evtx-format.md")
    kinds = listed_kinds(doc)
    print("corpus: %s; %d EVTX files with the crafted ones; evtx_dump: %s; kinds of difference "
          "listed in %s: %s" % (evtx_dir, len(files), evtx_dump, doc, ", ".join(sorted(kinds)) or "none"))

    totals = dict(equal=0, theirs=0, ours=0, only_ours=0)
    excused = {}
    failed = []
    jobs = [(os.path.abspath(args.eventsift), evtx_dump, f, kinds, tmp.name) for f in files]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for r in pool.map(compare_file, jobs):
            name = os.path.basename(r["path"])
            for k in ("equal", "theirs", "ours", "only_ours"):
                totals[k] += r[k]
            for k, n in r["excused"].items():
                excused[k] = excused.get(k, 0) + n
            status = "ok" if not r["failures"] else "%d DIFFERENCES" % len(r["failures"])
            notes = []
            if r["excused"]:
                notes.append(", ".join("%d %s" % (n, k) for k, n in sorted(r["excused"].items())))
            if r["only_ours"]:
                notes.append("%d only in eventsift" % r["only_ours"])
            if r["failures"] or notes:
                print("%-90s ours %5d evtx_dump %5d  %s%s" % (name[:90], r["ours"], r["theirs"], status,
                                                             " (" + "; ".join(notes) + ")" if notes else ""))
            for msg in r["failures"][:5]:
                print("    " + msg)
            if len(r["failures"]) > 5:
                print("    ... %d more" % (len(r["failures"]) - 5))
            if r["failures"]:
                failed.append(name)
    print("\n%d files: evtx_dump printed %d records, eventsift %d; %d identical after "
          "canonicalization, %s; %d only in eventsift"
          % (len(files), totals["theirs"], totals["ours"], totals["equal"],
             ", ".join("%d excused as %s" % (n, k) for k, n in sorted(excused.items())) or "none excused",
             totals["only_ours"]))
    if failed:
        print("FAIL: %d files differ: %s" % (len(failed), ", ".join(failed)))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
