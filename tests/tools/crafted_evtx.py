#!/usr/bin/env python3
"""EVTX files made with tests/tools/evtx_writer.py for rendering rules the
shared corpus does not exercise, so the XML differential
(tests/differential/evtx_xml_differential.py) compares them with evtx_dump
too:

  dependency.evtx  elements whose DependencyId names a NULL value (left out,
                   MS-EVEN6 2.2.12), a literal and a substitution among them;
                   the same template with the value set;
  reals.evtx       Real64 and Real32 values: zero, negative zero, whole
                   numbers, fractions, and magnitudes from 1e-10 to 1e22;
  arrays.evtx      a string array substitution (one <Data Name="x"> per
                   item), the same name again later, and an empty array.

    python3 tests/tools/crafted_evtx.py OUT_DIR
"""

import datetime as dt
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evtx_writer as ew  # noqa: E402
from evtx_writer import (FILETIME, NULL, REAL32, REAL64, STRING, STRING_ARRAY, UINT8,  # noqa: E402
                         UINT16, UINT64, Element, Sub, Template)

_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=dt.timezone.utc)


def _event(data_children, provider="Crafted"):
    """An event whose System uses values 0-2 (event id, time, record id)."""
    system = Element("System", children=[
        Element("Provider", attrs=[("Name", provider)]),
        Element("EventID", children=[Sub(0, UINT16)]),
        Element("TimeCreated", attrs=[("SystemTime", Sub(1, FILETIME))]),
        Element("EventRecordID", children=[Sub(2, UINT64)]),
        Element("Channel", children=["Application"]),
        Element("Computer", children=["crafted.example"]),
    ])
    return Template(Element("Event", attrs=[("xmlns", _NS)],
                            children=[system, Element("EventData", children=data_children)]))


def _head(record_id, event_id=1):
    return [(UINT16, event_id), (FILETIME, ew.filetime(WHEN)), (UINT64, record_id)]


def dependency(path):
    t = _event([
        Element("Data", attrs=[("Name", "Literal")], children=["text"], depends_on=3),
        Element("Data", attrs=[("Name", "Other")], children=[Sub(4, STRING)], depends_on=3),
        Element("Data", attrs=[("Name", "Own")], children=[Sub(5, STRING)], depends_on=5),
        Element("Data", attrs=[("Name", "Always")], children=[Sub(6, STRING)]),
    ])
    w = ew.EvtxWriter()
    for rid, dep, own in ((1, (NULL, None), (NULL, None)), (2, (UINT8, 1), (STRING, "own")),
                          (3, (NULL, None), (STRING, "own"))):
        w.add_record(t, _head(rid) + [dep, (STRING, "other"), own, (STRING, "always")],
                     record_id=rid, written=ew.filetime(WHEN))
    with open(path, "wb") as f:
        f.write(w.to_bytes())


REALS = [0.0, -0.0, 2.0, 1.5, -1.5, 0.1, 123456.0, float("inf"), float("-inf"), float("nan"),
         5e-324] + [m * 10.0 ** k for k in range(-10, 23) for m in (1.0, 1.5, 123.456)]


def reals(path):
    n = len(REALS)
    t = _event([Element("Data", attrs=[("Name", "D%d" % i)], children=[Sub(3 + i, REAL64)])
                for i in range(n)] +
               [Element("Data", attrs=[("Name", "F%d" % i)], children=[Sub(3 + n + i, REAL32)])
                for i in range(n)])
    w = ew.EvtxWriter()
    w.add_record(t, _head(1) + [(REAL64, v) for v in REALS] + [(REAL32, v) for v in REALS],
                 record_id=1, written=ew.filetime(WHEN))
    with open(path, "wb") as f:
        f.write(w.to_bytes())


def arrays(path):
    t = _event([
        Element("Data", attrs=[("Name", "Items")], children=[Sub(3, STRING_ARRAY)]),
        Element("Data", attrs=[("Name", "Single")], children=[Sub(4, STRING)]),
        Element("Data", attrs=[("Name", "Items")], children=[Sub(5, STRING)]),
        Element("Data", attrs=[("Name", "Items")], children=[Sub(6, STRING)]),
    ])
    w = ew.EvtxWriter()
    for rid, items in ((1, ["a", "", "c,d"]), (2, ["only"]), (3, [])):
        w.add_record(t, _head(rid) + [(STRING_ARRAY, items), (STRING, "one"), (STRING, "later"),
                                      (STRING, "again")],
                     record_id=rid, written=ew.filetime(WHEN))
    with open(path, "wb") as f:
        f.write(w.to_bytes())


def write_all(out_dir):
    paths = []
    for name, fn in (("dependency.evtx", dependency), ("reals.evtx", reals), ("arrays.evtx", arrays)):
        path = os.path.join(out_dir, name)
        fn(path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    for p in write_all(out):
        print(p)
