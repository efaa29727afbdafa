#!/usr/bin/env python3
"""Writes openwec.ndjson: the synthetic events of tests/data/json (same
logical events, see make_test_data.py there) in OpenWEC's "Json" output
format, built from OpenWEC's doc/formats.md (github.com/cea-sec/openwec,
section "Json format": System / EventData / UserData / RenderingInfo /
OpenWEC keys, numeric EventID with EventIDQualifiers beside it, UserData as
the element's XML text). Nothing here was captured from a real collector.

Kept out of tests/data/json so the scans of that folder (and their golden
alerts) do not count these events twice.

Run from anywhere: python3 tests/data/openwec/make_openwec.py
"""

import datetime as dt
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "json"))
import make_test_data as m  # noqa: E402

HOSTS = ("ex01.contoso.com", "EX02.contoso.com")
LEVEL_TEXT = {0: "Information", 1: "Critical", 2: "Error", 3: "Warning", 4: "Information"}


def iso_7(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%06d0Z" % t.microsecond


def openwec_meta(e, t):
    received = t + dt.timedelta(seconds=2)
    return {"IpAddress": "10.0.0.%d" % (11 + e["host"]),
            "TimeReceived": received.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d+00:00" % (received.microsecond // 1000),
            "Principal": "%s$@CONTOSO.COM" % HOSTS[e["host"]].split(".")[0].upper(),
            "Node": "wec01",
            "Subscription": {"Uuid": "8B18D83D-2964-4F35-AC3B-6F4E6FFA727B",
                             "Version": "AD0D118F-31EF-4111-A0CA-D87249747278",
                             "Name": "exchange", "Uri": "/exchange"}}


def openwec(e):
    provider = {"Name": e["provider"]}
    if "guid" in e:
        provider["Guid"] = e["guid"]
    system = {"Provider": provider, "EventID": e["id"]}
    if e["qualifiers"] is not None:
        system["EventIDQualifiers"] = e["qualifiers"]
    system.update({"Version": 0, "Level": e["level"], "Task": e["task"], "Opcode": 0,
                   "Keywords": "0x%x" % e["keywords"], "TimeCreated": iso_7(e["time"]),
                   "EventRecordID": e["record"], "Correlation": {},
                   "Execution": {"ProcessID": e["pid"], "ThreadID": e["tid"]},
                   "Channel": e["channel"], "Computer": HOSTS[e["host"]]})
    if e["user"]:
        system["UserID"] = e["user"]
    event_data = {n: v for n, v in e["data"] if n is not None}
    unnamed = [v for n, v in e["data"] if n is None]
    if unnamed:
        event_data["Data"] = unnamed
    doc = {"System": system, "EventData": event_data,
           "RenderingInfo": {"Message": e["message"], "Level": LEVEL_TEXT[e["level"]],
                             "Opcode": "Info", "Channel": e["channel"], "Provider": e["provider"],
                             "Keywords": ["Classic"], "Culture": "en-US"},
           "OpenWEC": openwec_meta(e, e["time"])}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def log_cleared():
    """The Security log cleared on EX02: UserData as XML text."""
    t = m.START + dt.timedelta(hours=9)
    xml = ('<UserData><LogFileCleared xmlns="http://manifests.microsoft.com/win/2004/08/windows/eventlog">'
           "<SubjectUserSid>S-1-5-21-1-2-3-500</SubjectUserSid><SubjectUserName>Administrator</SubjectUserName>"
           "<SubjectDomainName>CONTOSO</SubjectDomainName><SubjectLogonId>0x3e7</SubjectLogonId>"
           "</LogFileCleared></UserData>")
    doc = {"System": {"Provider": {"Name": "Microsoft-Windows-Eventlog",
                                   "Guid": "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}"},
                      "EventID": 1102, "Version": 0, "Level": 4, "Task": 104, "Opcode": 0,
                      "Keywords": "0x4020000000000000", "TimeCreated": iso_7(t), "EventRecordID": 9001,
                      "Correlation": {}, "Execution": {"ProcessID": 1020, "ThreadID": 3344},
                      "Channel": "Security", "Computer": HOSTS[1]},
           "UserData": xml,
           "RenderingInfo": {"Message": "The audit log was cleared.", "Level": "Information",
                             "Task": "Log clear", "Opcode": "Info", "Channel": "Security",
                             "Provider": "Microsoft-Windows-Eventlog", "Keywords": ["Audit Success"],
                             "Culture": "en-US"},
           "OpenWEC": openwec_meta({"host": 1}, t)}
    return json.dumps(doc, separators=(",", ":"))


def main():
    lines = [openwec(e) for e in m.logical_events()]
    lines.insert(30, log_cleared())
    with open(os.path.join(HERE, "openwec.ndjson"), "w", encoding="utf-8", newline="") as f:
        f.write("".join(line + "\n" for line in lines))


if __name__ == "__main__":
    main()
