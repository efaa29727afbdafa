#!/usr/bin/env python3
"""Builds a large NDJSON file from the real JSON exports of the corpus, with
EEMS 1008 events planted at known positions, and a sidecar with the counts a
scan of it must report.

  make_big_ndjson.py --out big.ndjson --size-mb 1024 [--hosts 8 --episodes 4 --per-episode 3]
  -> big.ndjson and big.ndjson.expect.json

Corpus events: every *.json/*.ndjson/*.jsonl (optionally .gz) file of
<repo>/../shared/corpus/json (or --corpus), read in sorted order, framed as
eventsift frames them (docs/json-exports.md, Framing): a file whose first
non-blank byte is '[' (arrays: PowerShell, Winlogbeat) or whose first line is
just '{' (pretty-printed objects: evtx_dump JSON) is parsed and each event
written as one compact line; NDJSON files are copied line by line, byte for
byte. Blank lines are dropped. The corpus events are cycled until the output
reaches --size-mb MiB, so one event is one line and the count is of events,
not of the source files' lines.

Planted events: hosts x episodes x per-episode EEMS "cannot fetch mitigations"
events (MSExchange Mitigation Service, Application, 1008, error; message and
data carry the documented fetch-failure text). They alternate between the
Winlogbeat shape (event_id as a string and as a number) and the NXLog
to_json() shape, with the same FQDN per host in both, so both shapes feed one
host's series. Planted event i (ordered by episode, event, host) is written
before the first corpus line that would start at or after byte
(i + 1) * size / (n + 1): the plants are spread evenly through the file; their
line numbers and byte offsets are listed in the sidecar.

Times: episode j of host h starts at 2026-01-05T00:00:00Z + j * 96 h + h min,
and its events are 10 min apart. rules/eems_mitigation_error.yaml correlates
per host in 24 h tumbling windows (threshold 1) and folds windows that start
within 24 h of an alert's window end; episodes 96 h apart therefore never
share or fold into a window, and each episode is exactly one alert:

  planted alerts = hosts * episodes, planted hits = hosts * episodes * per-episode,
  expected events = corpus events written + planted events.

The corpus's own events may raise alerts too (the ProxyLogon capture does:
see bench/run). Cycling writes the first corpus events `reps + 1` times and
the others `reps` times (sidecar "corpus_ref"); the two groups are written once
each to <out>.corpus-more.ndjson and <out>.corpus-rest.ndjson, and bench/run
scans them to add the corpus's own hits (times their repetitions) and alerts
to the expectation: repeats carry the same times and hosts, so they fall into
the alert windows of their first copy.

Standard library only.
"""

import argparse
import datetime
import glob
import gzip
import hashlib
import json
import os
import sys

MESSAGE = ("An unexpected exception occurred. Diagnostic information: Exception encountered while "
           "fetching mitigations : System.Net.Http.HttpRequestException: An error occurred while "
           "sending the request. ---> System.Net.WebException: The underlying connection was closed: "
           "Could not establish trust relationship for the SSL/TLS secure channel. ---> "
           "System.Security.Authentication.AuthenticationException: The remote certificate is invalid "
           "according to the validation procedure.\r\n   at "
           "Microsoft.Exchange.Mitigation.Service.MitigationFetcher.FetchMitigations()")
DATA = MESSAGE[len("An unexpected exception occurred. Diagnostic information: "):]
BASE = datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc)
RULE = "eems_mitigation_error"


def structured_events(text):
    """The events of a structured file: arrays' elements and top-level objects,
    one after another (several arrays or pretty-printed objects may follow each
    other, as eventsift's framing accepts)."""
    dec = json.JSONDecoder()
    i = 0
    while True:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text):
            return
        doc, i = dec.raw_decode(text, i)
        for item in (doc if isinstance(doc, list) else [doc]):
            yield item


def corpus_lines(paths):
    """Yields every event of the corpus files as one line of bytes (no newline)."""
    for path in paths:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as f:
            data = f.read()
        body = data.lstrip(b"\xef\xbb\xbf").lstrip()
        head = body[:1]
        first_line = body.split(b"\n", 1)[0].strip()
        if head == b"[" or first_line == b"{":
            for doc in structured_events(data.decode("utf-8-sig")):
                yield json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            continue
        for line in data.split(b"\n"):
            line = line.rstrip(b"\r")
            if line.strip():
                yield line


def planted(i, host, episode, event, record_id):
    """One EEMS 1008 line; `i` chooses the shape."""
    t = BASE + datetime.timedelta(hours=96 * episode, minutes=host + 10 * event)
    fqdn = "EXBENCH%02d.bench.example" % (host + 1)
    short = "exbench%02d" % (host + 1)
    iso = t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if i % 2 == 0:
        doc = {
            "@timestamp": iso,
            "message": MESSAGE,
            "log": {"level": "error"},
            "event": {"code": "1008", "provider": "MSExchange Mitigation Service", "kind": "event"},
            "host": {"name": short},
            "agent": {"type": "winlogbeat", "version": "8.11.1"},
            "winlog": {
                "channel": "Application",
                # Winlogbeat writes a string; some pipelines retype it to a number.
                "event_id": "1008" if i % 4 == 0 else 1008,
                "provider_name": "MSExchange Mitigation Service",
                "computer_name": fqdn,
                "record_id": record_id,
                "api": "wineventlog",
                "event_data": {"param1": DATA},
            },
        }
    else:
        doc = {
            "EventTime": t.strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
            "Hostname": fqdn,
            "EventType": "ERROR",
            "SeverityValue": 4,
            "Severity": "ERROR",
            "EventID": 1008,
            "SourceName": "MSExchange Mitigation Service",
            "RecordNumber": record_id,
            "Channel": "Application",
            "Message": MESSAGE,
            "Opcode": "Info",
            "EventReceivedTime": t.strftime("%Y-%m-%d %H:%M:%S"),
            "SourceModuleName": "eventlog",
            "SourceModuleType": "im_msvistalog",
        }
    return json.dumps(doc, separators=(",", ":")).encode("utf-8"), fqdn, iso


def corpus_paths(corpus):
    paths = []
    for pat in ("*.json", "*.ndjson", "*.jsonl", "*.json.gz", "*.ndjson.gz", "*.jsonl.gz"):
        paths += glob.glob(os.path.join(corpus, pat))
    return sorted(set(paths))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--corpus", help="JSON export directory (default: <repo>/../shared/corpus/json)")
    ap.add_argument("--size-mb", type=float, default=1024.0, help="target size in MiB (at least)")
    ap.add_argument("--hosts", type=int, default=8)
    ap.add_argument("--episodes", type=int, default=4, help="alert episodes per host, 96 h apart")
    ap.add_argument("--per-episode", type=int, default=3, help="1008 events per episode, 10 min apart")
    args = ap.parse_args()
    if args.hosts < 1 or args.episodes < 1 or args.per_episode < 1 or args.per_episode > 100:
        sys.exit("make_big_ndjson: --hosts, --episodes >= 1, 1 <= --per-episode <= 100 (one 24 h window)")

    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    corpus = args.corpus or os.path.join(repo, "..", "shared", "corpus", "json")
    paths = corpus_paths(corpus)
    lines = list(corpus_lines(paths))
    if not lines:
        sys.exit("make_big_ndjson: no JSON events under %s" % corpus)

    plan = [(j, e, h) for j in range(args.episodes) for e in range(args.per_episode)
            for h in range(args.hosts)]
    target = int(args.size_mb * 1048576)
    n = len(plan)
    positions = [(i + 1) * target // (n + 1) for i in range(n)]

    written = 0
    corpus_written = 0
    line_no = 0
    plants = []
    next_plant = 0
    tmp = args.out + ".tmp"
    with open(tmp, "wb", buffering=1 << 22) as out:
        k = 0
        while written < target or next_plant < n:
            while next_plant < n and positions[next_plant] <= written:
                j, e, h = plan[next_plant]
                line, fqdn, iso = planted(next_plant, h, j, e, 900000 + next_plant)
                line_no += 1
                plants.append({"line": line_no, "offset": written, "host": fqdn, "time": iso,
                               "episode": j, "shape": "winlogbeat" if next_plant % 2 == 0 else "nxlog"})
                out.write(line + b"\n")
                written += len(line) + 1
                next_plant += 1
            if written >= target:
                continue
            line = lines[k % len(lines)]
            k += 1
            out.write(line + b"\n")
            written += len(line) + 1
            line_no += 1
            corpus_written += 1
    os.replace(tmp, args.out)

    # Which corpus events were written how often (see the docstring).
    reps, more = divmod(corpus_written, len(lines))
    ref = []
    for suffix, group, times in ((".corpus-more.ndjson", lines[:more], reps + 1),
                                 (".corpus-rest.ndjson", lines[more:], reps)):
        with open(args.out + suffix, "wb") as f:
            for line in group if times > 0 else []:
                f.write(line + b"\n")
        ref.append({"path": args.out + suffix, "events": len(group) if times > 0 else 0,
                    "reps": times})

    expect = {
        "generator": "bench/make_big_ndjson.py",
        "bytes": written,
        "events": corpus_written + n,
        "corpus_events": corpus_written,
        "corpus_distinct_events": len(lines),
        # The corpus's own hits and alerts are added by bench/run from these.
        "corpus_ref": ref,
        "planted_events": n,
        "rule": RULE,
        "hits": {RULE: n},
        "alerts": {RULE: args.hosts * args.episodes},
        "alerts_total": args.hosts * args.episodes,
        "params": {"size_mb": args.size_mb, "hosts": args.hosts, "episodes": args.episodes,
                   "per_episode": args.per_episode},
        "corpus_files": [{"name": os.path.basename(p), "bytes": os.path.getsize(p),
                          "sha256": hashlib.sha256(open(p, "rb").read()).hexdigest()} for p in paths],
        "plants": plants,
    }
    with open(args.out + ".expect.json", "w") as f:
        json.dump(expect, f, indent=1)
    print("make_big_ndjson: %s: %.1f MiB, %d events (%d corpus events from %d files, %d planted EEMS 1008 "
          "on %d hosts); expect %d planted alerts plus the corpus's own" % (args.out, written / 1048576.0, corpus_written + n,
                                              corpus_written, len(paths), n, args.hosts,
                                              args.hosts * args.episodes))


if __name__ == "__main__":
    main()
