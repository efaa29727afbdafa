#!/usr/bin/env python3
"""The sample data's logical events (tests/data/json/make_test_data.py) as
EVTX files, written the way the event log service writes them.

Exchange's services log through the classic event-log API (ReportEvent): each
event's message text is its unnamed <Data> insertion strings, EventID carries
Qualifiers, and the provider is an event source in the Application log. Those
events get tests/tools/evtx_writer.py's classic layout; the Security logon
keeps its manifest layout (named Data, provider GUID).

    python3 tests/tools/eems_evtx.py OUT_DIR   # writes one .evtx per host

Each host's events go to its own Application/System/... file mix as a
server's log would hold them: one file per host and channel.
"""

import datetime as dt
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "data", "json"))

import evtx_writer as ew  # noqa: E402
import make_test_data  # noqa: E402

# The evtx_dump shape's spellings: its JSON and these files name the hosts
# alike, so scans of both key the same hosts.
HOSTS = make_test_data.HOSTS["evtx_dump"]


def events():
    """make_test_data's logical events plus a 1006 (a mitigation applied)
    on each host, so the logs hold 1005, 1006 and 1008 as Exchange writes
    them."""
    ev = make_test_data.logical_events()
    start = make_test_data.START
    rec = {0: 82000, 1: 53000}
    for host, minutes in ((0, 11), (1, 47)):
        rec[host] += 1
        ev.append(dict(host=host, time=start + dt.timedelta(minutes=minutes), record=rec[host],
                       qualifiers=16384, task=1, keywords=0x80000000000000, pid=4312, tid=5121,
                       provider="MSExchange Mitigation Service", id=1006, level=4,
                       channel="Application", message="Mitigation M1 was applied.",
                       data=[(None, "M1"), (None, "Applied")], user=None, kind="benign"))
    ev.sort(key=lambda e: e["time"])
    return ev


def write_evtx(ev, out_dir):
    """One EVTX file per (host, channel), records in time order. Returns the
    paths written."""
    writers = {}
    templates = {}
    for e in ev:
        host = HOSTS[e["host"]]
        key = (host, e["channel"])
        w = writers.setdefault(key, ew.EvtxWriter())
        named = [n for n, _ in e["data"] if n is not None]
        if named:
            tkey = (e["provider"], e["channel"], host, tuple(named))
            if tkey not in templates:
                templates[tkey] = ew.manifest_event_template(e["provider"], (e.get("guid") or "").lower(),
                                                             e["channel"], host, named)
            values = ew.manifest_values(e["id"], e["level"], e["task"], e["keywords"], e["time"],
                                        e["record"], e["pid"], e["tid"],
                                        [v for _, v in e["data"]], user_sid=e["user"],
                                        qualifiers=e["qualifiers"])
        else:
            tkey = (e["provider"], e["channel"], host)
            if tkey not in templates:
                templates[tkey] = ew.classic_event_template(e["provider"], e["channel"], host)
            values = ew.classic_values(e["id"], e["qualifiers"], e["level"], e["task"],
                                       e["keywords"], e["time"], e["record"], e["pid"], e["tid"],
                                       [v for _, v in e["data"]], user_sid=e["user"])
        w.add_record(templates[tkey], values, record_id=e["record"],
                     written=ew.filetime(e["time"]))
    paths = []
    for (host, channel), w in sorted(writers.items()):
        name = "%s_%s.evtx" % (host.rstrip(".").replace(".", "_"), channel.replace(" ", "_"))
        path = os.path.join(out_dir, name)
        with open(path, "wb") as f:
            f.write(w.to_bytes())
        paths.append(path)
    return paths


def write_json(ev, path):
    """The same events as evtx_dump's JSON lines (make_test_data's shape)."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        for e in ev:
            f.write(make_test_data.evtx_dump(e) + "\n")
    return path


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    for p in write_evtx(events(), out):
        print(p)
