#!/usr/bin/env python3
"""Writes the synthetic JSON-export test files in this folder.

Every event here is synthetic: built from the shapes documented in
/work/shared/docs/domain.md (sections 1, 2 and 5), not captured from a real
server. The same logical events (EEMS 1008 errors hourly on two Exchange
hosts, an MSExchange Common 4999 Watson report carrying the build, benign
events and 1008 look-alikes) are written once per export shape, with the host
names spelled differently per shape (FQDN, short name, case, trailing dot).

Run from anywhere: python3 tests/data/json/make_test_data.py
Output is deterministic (fixed times, no randomness; gzip mtime 0).
"""

import datetime as dt
import gzip
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

DIAG = ("Exception encountered while fetching mitigations : System.AggregateException: "
        "One or more errors occurred. ---> System.Net.Http.HttpRequestException: An error "
        "occurred while sending the request. ---> System.Net.WebException: The underlying "
        "connection was closed: Could not establish trust relationship for the SSL/TLS secure "
        "channel. ---> System.Security.Authentication.AuthenticationException: The remote "
        "certificate is invalid according to the validation procedure.\r\n"
        "   at System.Net.TlsStream.EndWrite(IAsyncResult asyncResult)\r\n"
        "   at System.Net.ConnectStream.WriteHeadersCallback(IAsyncResult ar)\r\n"
        "   --- End of inner exception stack trace ---\r\n"
        "   at Microsoft.Exchange.Mitigation.Service.MitigationFetcher.FetchMitigations()")
EEMS_MESSAGE = "An unexpected exception occurred. Diagnostic information: " + DIAG
BUILD = "15.01.2507.016"
WATSON = ("Watson report about to be sent for process id: 10368, with parameters: E12IIS, "
          "c-RTL-AMD64, " + BUILD + ", w3wp#MSExchangeOWAAppPool, M.Exchange.Net, "
          "M.E.N.E.CertificateValidationComponent.Validate, System.NullReferenceException, "
          "8b2a, " + BUILD + ".\r\nErrorReportingEnabled: False")

# Host spellings per shape: (EX01, EX02).
HOSTS = {
    "winlogbeat": ("EX01.contoso.com", "EX02.contoso.com."),
    "nxlog": ("ex01", "EX02.CONTOSO.COM"),
    "powershell": ("EX01.contoso.com", "ex02.contoso.com"),
    "evtx_dump": ("Ex01.Contoso.Com", "EX02"),
}
START = dt.datetime(2026, 11, 20, 23, 5, 12, 345000, tzinfo=dt.timezone.utc)


def logical_events():
    """The events every shape file carries, sorted by time. `host` is 0 or 1."""
    ev = []
    rec = {0: 81000, 1: 52000}

    def add(host, t, **kw):
        rec[host] += 1
        e = dict(host=host, time=t, record=rec[host], qualifiers=None, task=0, keywords=0x80000000000000,
                 pid=4312, tid=5120, data=[], message="", level=4, user=None)
        e.update(kw)
        ev.append(e)

    for h in range(26):  # EX01: 26 hourly 1008s
        add(0, START + dt.timedelta(hours=h), provider="MSExchange Mitigation Service", id=1008,
            qualifiers=49152, level=2, task=1, channel="Application", message=EEMS_MESSAGE,
            data=[(None, DIAG)], kind="eems")
    for h in range(24):  # EX02: 24 hourly 1008s, 36 minutes later in the hour
        add(1, START + dt.timedelta(hours=h, minutes=36, seconds=45), provider="MSExchange Mitigation Service",
            id=1008, qualifiers=49152, level=2, task=1, channel="Application", message=EEMS_MESSAGE,
            data=[(None, DIAG)], kind="eems")
    add(0, START + dt.timedelta(hours=3, minutes=12), provider="MSExchange Common", id=4999, qualifiers=16388,
        level=2, task=6, channel="Application", message=WATSON, data=[(None, WATSON)], pid=10368, tid=7716,
        kind="watson")
    add(0, START + dt.timedelta(minutes=10), provider="MSExchange Mitigation Service", id=1005, qualifiers=16384,
        level=4, task=1, channel="Application", message="Mitigation M1 applied successfully.",
        data=[(None, "M1")], kind="benign")
    # Look-alikes that must not match the EEMS rule.
    add(1, START + dt.timedelta(hours=5, minutes=2), provider="MSExchange Mitigation Service", id=1008,
        qualifiers=16384, level=4, task=1, channel="Application",
        message="An unexpected exception occurred. Diagnostic information: none (test run).",
        data=[(None, "none (test run)")], kind="lookalike_info")
    add(0, START + dt.timedelta(hours=7, minutes=30), provider="MSExchange ADAccess", id=1008,
        qualifiers=49152, level=2, task=2, channel="Application",
        message="Process w3wp.exe: the certificate for the trust relationship could not be read.",
        data=[(None, "w3wp.exe")], kind="lookalike_provider")
    # Benign events.
    add(0, START + dt.timedelta(hours=1, minutes=1), provider="Service Control Manager", id=7036,
        qualifiers=16384, level=4, channel="System", pid=712, tid=8840,
        message="The Windows Update service entered the running state.",
        data=[("param1", "Windows Update"), ("param2", "running")], kind="benign")
    add(1, START + dt.timedelta(hours=2, minutes=20), provider="Microsoft-Windows-Security-Auditing", id=4624,
        level=0, task=12544, keywords=0x8020000000000000, channel="Security", pid=700, tid=1412,
        guid="{54849625-5478-4994-A5BA-3E3B0328C30D}", user="S-1-5-18",
        message="An account was successfully logged on.",
        data=[("SubjectUserSid", "S-1-5-18"), ("TargetUserName", "HealthMailbox01"), ("LogonType", "3"),
              ("IpAddress", "10.0.0.12")], kind="benign")
    add(0, START + dt.timedelta(hours=4, minutes=44), provider="MSExchange CmdletLogs", id=1, qualifiers=16384,
        level=4, channel="MSExchange Management", pid=5668, tid=9001,
        message="Cmdlet succeeded. Cmdlet Get-Mailbox, parameters -Identity \"admin\".",
        data=[(None, "Get-Mailbox"), (None, "-Identity \"admin\""), (None, "contoso.com/Users/Administrator"),
              (None, "S-1-5-21-1-2-3-500"), (None, "S-1-5-21-1-2-3-500"), (None, "Remote-ManagementShell-Unknown"),
              (None, "5668 w3wp#MSExchangePowerShellAppPool")], kind="benign")
    ev.sort(key=lambda e: e["time"])
    return ev


def iso_ms(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def iso_7(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%06d0Z" % t.microsecond


LEVEL_NAMES = {0: "information", 1: "critical", 2: "error", 3: "warning", 4: "information"}
NX_SEVERITY = {0: (2, "INFO"), 1: (5, "CRITICAL"), 2: (4, "ERROR"), 3: (3, "WARNING"), 4: (2, "INFO")}


def winlogbeat(e):
    host = HOSTS["winlogbeat"][e["host"]]
    short = host.split(".")[0].lower()
    data = {}
    unnamed = [v for n, v in e["data"] if n is None]
    # EX02 uses the 0-based renderer naming (param0...), EX01 Winlogbeat's param1...
    base = 0 if e["host"] == 1 else 1
    for i, v in enumerate(unnamed):
        data["param%d" % (i + base)] = v
    for n, v in e["data"]:
        if n is not None:
            data[n] = v
    winlog = {"channel": e["channel"],
              "event_id": str(e["id"]) if e["host"] == 0 else e["id"],
              "provider_name": e["provider"], "computer_name": host, "record_id": e["record"],
              "api": "wineventlog", "process": {"pid": e["pid"], "thread": {"id": e["tid"]}},
              "keywords": ["Classic"] if e["keywords"] == 0x80000000000000 else ["Audit Success"],
              "opcode": "Info", "event_data": data}
    if "guid" in e:
        winlog["provider_guid"] = e["guid"]
    if e["user"]:
        winlog["user"] = {"identifier": e["user"], "name": "SYSTEM", "domain": "NT AUTHORITY", "type": "User"}
    doc = {"@timestamp": iso_ms(e["time"]), "message": e["message"],
           "log": {"level": LEVEL_NAMES[e["level"]]},
           "event": {"code": str(e["id"]), "provider": e["provider"], "kind": "event",
                     "created": iso_ms(e["time"] + dt.timedelta(seconds=2))},
           "host": {"name": short}, "agent": {"type": "winlogbeat", "version": "8.11.1"},
           "ecs": {"version": "8.0.0"}, "winlog": winlog}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def nxlog(e):
    host = HOSTS["nxlog"][e["host"]]
    sv, sname = NX_SEVERITY[e["level"]]
    # EX01 writes zone-less EventTime (a UTC host), EX02 ISO 8601 with Z.
    t = e["time"].strftime("%Y-%m-%d %H:%M:%S") if e["host"] == 0 else iso_7(e["time"])
    event_type = "AUDIT_SUCCESS" if e["channel"] == "Security" else sname
    doc = {"EventTime": t, "Hostname": host, "Keywords": e["keywords"], "EventType": event_type,
           "SeverityValue": sv, "Severity": sname, "EventID": e["id"], "SourceName": e["provider"]}
    if "guid" in e:
        doc["ProviderGuid"] = e["guid"]
    doc.update({"Version": 0, "TaskValue": e["task"], "OpcodeValue": 0, "RecordNumber": e["record"],
                "ExecutionProcessID": e["pid"], "ExecutionThreadID": e["tid"], "Channel": e["channel"]})
    if e["user"]:
        doc.update({"Domain": "NT AUTHORITY", "AccountName": "SYSTEM", "UserID": e["user"], "AccountType": "Well Known Group"})
    doc.update({"Message": e["message"], "Opcode": "Info"})
    for n, v in e["data"]:
        if n is not None:
            doc[n] = v
    unnamed = [v for n, v in e["data"] if n is None]
    if unnamed and e["host"] == 1:  # OpenWEC's NXLog format keeps unnamed Data
        doc["Data"] = unnamed
    doc.update({"EventReceivedTime": e["time"].strftime("%Y-%m-%d %H:%M:%S"),
                "SourceModuleName": "eventlog", "SourceModuleType": "im_msvistalog"})
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def powershell(e):
    host = HOSTS["powershell"][e["host"]]
    ms = int(e["time"].timestamp() * 1000)
    user = None
    if e["user"]:
        user = {"BinaryLength": 12, "AccountDomainSid": None, "Value": e["user"]}
    return {"Id": e["id"], "Version": 0, "Qualifiers": e["qualifiers"], "Level": e["level"], "Task": e["task"],
            "Opcode": 0, "Keywords": e["keywords"], "RecordId": e["record"], "ProviderName": e["provider"],
            "ProviderId": e.get("guid", "{}")[1:-1] or None, "LogName": e["channel"], "ProcessId": e["pid"],
            "ThreadId": e["tid"], "MachineName": host, "UserId": user, "TimeCreated": "/Date(%d)/" % ms,
            "ActivityId": None, "RelatedActivityId": None, "ContainerLog": e["channel"],
            "MatchedQueryIds": [], "Bookmark": {}, "LevelDisplayName": LEVEL_NAMES[e["level"]].title(),
            "OpcodeDisplayName": "Info", "TaskDisplayName": None, "KeywordsDisplayNames": ["Classic"],
            "Properties": [{"Value": v} for _, v in e["data"]], "Message": e["message"]}


def powershell_text(events):
    # ConvertTo-Json indents; Windows PowerShell 5.1 writes \/Date(ms)\/ and CRLF.
    text = json.dumps([powershell(e) for e in events], ensure_ascii=False, indent=4)
    text = text.replace('"/Date(', '"\\/Date(').replace(')/"', ')\\/"')
    return text.replace("\n", "\r\n") + "\r\n"


def evtx_dump(e):
    host = HOSTS["evtx_dump"][e["host"]]
    # EX02 came through event forwarding: evtx_dump prints its numbers as strings.
    s = (lambda v: str(v)) if e["host"] == 1 else (lambda v: v)
    event_id = s(e["id"])
    if e["qualifiers"] is not None:
        event_id = {"#attributes": {"Qualifiers": s(e["qualifiers"])}, "#text": s(e["id"])}
    provider = {"Name": e["provider"]}
    if "guid" in e:
        provider["Guid"] = e["guid"]
    system = {"Provider": {"#attributes": provider}, "EventID": event_id, "Version": s(0), "Level": s(e["level"]),
              "Task": s(e["task"]), "Opcode": s(0), "Keywords": "0x%x" % e["keywords"],
              "TimeCreated": {"#attributes": {"SystemTime": iso_7(e["time"])}},
              "EventRecordID": s(e["record"]), "Correlation": None,
              "Execution": {"#attributes": {"ProcessID": s(e["pid"]), "ThreadID": s(e["tid"])}},
              "Channel": e["channel"], "Computer": host,
              "Security": {"#attributes": {"UserID": e["user"]}} if e["user"] else None}
    named = {n: v for n, v in e["data"] if n is not None}
    unnamed = [v for n, v in e["data"] if n is None]
    if unnamed:
        event_data = {"Data": {"#text": unnamed if len(unnamed) > 1 else unnamed[0]}}
    else:
        event_data = named
    doc = {"Event": {"#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
                     "System": system, "EventData": event_data}}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def evtx_dump_log_cleared():
    # A UserData event (the Security log cleared on EX02).
    t = START + dt.timedelta(hours=9)
    doc = {"Event": {"#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
                     "System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Eventlog",
                                                             "Guid": "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}"}},
                                "EventID": 1102, "Version": 0, "Level": 4, "Task": 104, "Opcode": 0,
                                "Keywords": "0x4020000000000000",
                                "TimeCreated": {"#attributes": {"SystemTime": iso_7(t)}},
                                "EventRecordID": 9001, "Correlation": None,
                                "Execution": {"#attributes": {"ProcessID": 1020, "ThreadID": 3344}},
                                "Channel": "Security", "Computer": "EX02",
                                "Security": None},
                     "UserData": {"LogFileCleared": {
                         "#attributes": {"xmlns": "http://manifests.microsoft.com/win/2004/08/windows/eventlog"},
                         "SubjectUserSid": "S-1-5-21-1-2-3-500", "SubjectUserName": "Administrator",
                         "SubjectDomainName": "CONTOSO", "SubjectLogonId": "0x3e7"}}}}
    return json.dumps(doc, separators=(",", ":"))


def write(name, text, mode="w", encoding="utf-8"):
    with open(os.path.join(HERE, name), mode, encoding=encoding, newline="") as f:
        f.write(text)


def main():
    events = logical_events()
    write("winlogbeat.ndjson", "".join(winlogbeat(e) + "\n" for e in events))
    write("nxlog.ndjson", "".join(nxlog(e) + "\n" for e in events))
    write("powershell_array.json", powershell_text(events))
    # Windows PowerShell 5.1 `>` / Out-File: UTF-16LE with a BOM.
    with open(os.path.join(HERE, "powershell_utf16le.json"), "wb") as f:
        f.write(b"\xff\xfe" + powershell_text(events).encode("utf-16-le"))
    lines = [evtx_dump(e) for e in events]
    lines.insert(30, evtx_dump_log_cleared())
    write("evtx_dump.jsonl", "".join(l + "\n" for l in lines))
    # One file mixing all four shapes, gzip-compressed (first EX01 1008 of each).
    first = next(e for e in events if e["kind"] == "eems" and e["host"] == 0)
    mixed = [winlogbeat(first), nxlog(first), json.dumps(powershell(first), separators=(",", ":")),
             evtx_dump(first)]
    malformed_files(events)
    with open(os.path.join(HERE, "mixed_shapes.ndjson.gz"), "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
            gz.write("".join(l + "\n" for l in mixed).encode())


def malformed_files(events):
    """Bad lines between good ones; the unit tests pin each line number."""
    first = next(e for e in events if e["kind"] == "eems" and e["host"] == 0)
    good_nx = nxlog(first)
    lines = [
        good_nx,                                                                   # 1 good (NXLog)
        "",                                                                        # 2 blank: skipped
        '{"EventID":1008,"SourceName":"MSExchange Mitigation Service","Hostname":"ex01"',  # 3 cut off
        winlogbeat(first),                                                         # 4 good (Winlogbeat)
        "not json at all",                                                         # 5 not JSON
        '{"foo":"bar","answer":42}',                                               # 6 JSON, no known shape
        "[1,2,3]",                                                                 # 7 not an object
        '{"EventID":"abc","SourceName":"X","Hostname":"h"}',                       # 8 EventID not a number
        json.dumps(powershell(first), separators=(",", ":")),                      # 9 good (PowerShell)
        '{"EventID":1,"SourceName":"A","Hostname":"h"} trailing',                  # 10 junk after object
        evtx_dump(first),                                                          # 11 good (evtx_dump)
        '{"Event":{"System":{"Channel":"Application"}}}',                          # 12 no EventID
        "   ",                                                                     # 13 blank: skipped
    ]
    text = "".join(l + "\n" for l in lines) + good_nx + "\r\n"                   # 14 good, CRLF
    write("malformed.ndjson", text)
    # A PowerShell array cut off inside its third element (a killed export).
    full = powershell_text(events[:3])
    cut = full.index('"Properties"', full.index('"Id": 1008', full.index('"Id"', full.index('"Id"') + 1) + 1))
    write("truncated_array.json", full[:cut])


if __name__ == "__main__":
    main()
