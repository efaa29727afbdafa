#!/usr/bin/env python3
"""Writes the synthetic fleet test files in this folder (tests/data/SOURCES.md).

A small Exchange fleet whose state is known by construction, for the fleet
table and the HTML report (tests/e2e/fleet_e2e_test.py, fleet_report_test.py):

  EX11  build 15.1.2375.37 (2016 CU22 Nov22 SU, older than March 2023) from a
        4999 Watson report; one EEMS success (1005), then hourly 1008 errors:
        EEMS failing since the first error after that success.
  EX12  build 15.2.1544.14 (2019 CU14 Nov24v2 SU); EEMS successes only (1005
        once, then 1006 every 6 hours): working.
  EX13  no build; ordinary cmdlets only (incl. an export to a local .pst, a
        near miss of the ProxyShell export rule) and an MSExchange ADAccess
        1008 look-alike: no EEMS events, no indicators.
  EX14  no build; EEMS successes, then errors (stopped); the ProxyShell chain
        (role assignment, export to .aspx, export removal, certificate request
        into inetpub) and one ProxyLogon CVE-2021-26857 Unified Messaging
        error. Its cmdlet events are in evtx_dump shape (data values, no
        message), the rest Winlogbeat.

Every event is synthetic: shapes from /work/shared/docs/domain.md (section 1
for EEMS, 2 for the Watson build, 4 for the CmdletLogs layout and the Sigma
keywords, 5 for Winlogbeat and evtx_dump JSON). The 1005/1006 texts and their
Information level are assumptions (Microsoft documents the ids only).

Run: python3 tests/data/fleet/make_fleet_data.py (deterministic output).
"""

import datetime as dt
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = dt.datetime(2026, 11, 18, 6, 0, 0, tzinfo=dt.timezone.utc)
EEMS = "MSExchange Mitigation Service"
EEMS_ERROR = ("An unexpected exception occurred. Diagnostic information: Exception encountered "
              "while fetching mitigations : System.AggregateException: One or more errors "
              "occurred. ---> System.Net.WebException: The underlying connection was closed: "
              "Could not establish trust relationship for the SSL/TLS secure channel.")
LEVELS = {2: "error", 3: "warning", 4: "information"}


def watson(build):
    return ("Watson report about to be sent for process id: 9120, with parameters: E12IIS, "
            "c-RTL-AMD64, %s, w3wp#MSExchangeOWAAppPool, M.Exchange.Net, "
            "M.E.N.E.CertificateValidationComponent.Validate, System.NullReferenceException, "
            "8b2a, %s." % (build, build))


def cmdlet(event_id, name, params):
    """MSExchange CmdletLogs data as in the real record domain.md section 4 quotes."""
    verb = "succeeded" if event_id == 1 else "failed"
    data = [name, params, "fabrikam.local/Users/svc-admin", "S-1-5-21-7-8-9-1104",
            "S-1-5-21-7-8-9-1104", "Remote-ManagementShell-Unknown",
            "5668 w3wp#MSExchangePowerShellAppPool"]
    return dict(provider="MSExchange CmdletLogs", channel="MSExchange Management", id=event_id,
                level=4, message="Cmdlet %s. Cmdlet %s, parameters %s." % (verb, name, params),
                data=data)


def eems_error():
    return dict(provider=EEMS, channel="Application", id=1008, level=2, message=EEMS_ERROR,
                data=[EEMS_ERROR])


def eems_success(event_id, text):
    return dict(provider=EEMS, channel="Application", id=event_id, level=4, message=text,
                data=[text])


def events():
    out = []

    def add(host, t, shape="winlogbeat", **e):
        out.append(dict(e, host=host, time=t, shape=shape))

    # EX11: outdated, one success, then failing hourly.
    add("EX11.fabrikam.local", T0 + dt.timedelta(minutes=5), **dict(
        provider="MSExchange Common", channel="Application", id=4999, level=2,
        message=watson("15.01.2375.037"), data=[watson("15.01.2375.037")]))
    add("EX11.fabrikam.local", T0 + dt.timedelta(minutes=10),
        **eems_success(1005, "Mitigation PING1 applied successfully."))
    for h in range(1, 31):
        add("EX11.fabrikam.local", T0 + dt.timedelta(hours=h, minutes=10), **eems_error())
    # EX12: current build, successes only.
    add("ex12", T0 + dt.timedelta(minutes=7), **dict(
        provider="MSExchange Common", channel="Application", id=4999, level=2,
        message=watson("15.02.1544.014"), data=[watson("15.02.1544.014")]))
    add("EX12.fabrikam.local", T0 + dt.timedelta(minutes=20),
        **eems_success(1005, "Mitigation M1 applied successfully."))
    for h in range(6, 31, 6):
        add("EX12.fabrikam.local", T0 + dt.timedelta(hours=h, minutes=20),
            **eems_success(1006, "Mitigations fetched and verified successfully."))
    # EX13: no EEMS events; benign cmdlets and look-alikes.
    add("EX13.fabrikam.local", T0 + dt.timedelta(hours=2), **cmdlet(1, "Get-Mailbox", '-Identity "ceo"'))
    add("EX13.fabrikam.local", T0 + dt.timedelta(hours=3), **cmdlet(
        1, "New-MailboxExportRequest", '-Mailbox "ceo" -FilePath "D:\\exports\\ceo.pst"'))
    add("EX13.fabrikam.local", T0 + dt.timedelta(hours=4), **dict(
        provider="MSExchange ADAccess", channel="Application", id=1008, level=2,
        message="Process w3wp.exe: the certificate for the trust relationship could not be read.",
        data=["w3wp.exe"]))
    # EX14: EEMS stopped; ProxyShell chain; ProxyLogon UM error.
    for h in range(0, 6):
        add("EX14.fabrikam.local", T0 + dt.timedelta(hours=h, minutes=40),
            **eems_success(1006, "Mitigations fetched and verified successfully."))
    for h in range(12, 31):
        add("EX14.fabrikam.local", T0 + dt.timedelta(hours=h, minutes=40), **eems_error())
    chain = [
        cmdlet(1, "New-ManagementRoleAssignment", '-Role "Mailbox Import Export" -User "svc-admin"'),
        cmdlet(1, "New-MailboxExportRequest",
               '-Mailbox "administrator@fabrikam.local" -FilePath '
               '"\\\\127.0.0.1\\C$\\inetpub\\wwwroot\\aspnet_client\\shell.aspx"'),
        cmdlet(1, "Remove-MailboxExportRequest",
               '-Identity "administrator\\MailboxExport" -Confirm "False"'),
        cmdlet(1, "New-ExchangeCertificate",
               '-GenerateRequest "True" -BinaryEncoded "True" -RequestFile '
               '"C:\\inetpub\\wwwroot\\aspnet_client\\cert.aspx" -SubjectName "CN=x"'),
    ]
    for i, c in enumerate(chain):
        add("EX14.fabrikam.local", T0 + dt.timedelta(hours=20, minutes=3 * i), shape="evtx_dump", **c)
    add("EX14.fabrikam.local", T0 + dt.timedelta(hours=21), **dict(
        provider="MSExchange Unified Messaging", channel="Application", id=1000, level=2,
        message="Watson report: System.InvalidCastException: Unable to cast object of type "
                "'System.Object' to type 'Microsoft.Exchange.UM.UMCommon.UMMailboxPolicy'.",
        data=["System.InvalidCastException"]))
    out.sort(key=lambda e: (e["time"], e["host"]))
    return out


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def winlogbeat(e, record):
    data = {"param%d" % (i + 1): v for i, v in enumerate(e["data"])}
    doc = {"@timestamp": iso(e["time"]), "message": e["message"],
           "log": {"level": LEVELS[e["level"]]},
           "event": {"code": str(e["id"]), "provider": e["provider"], "kind": "event"},
           "host": {"name": e["host"].split(".")[0].lower()},
           "winlog": {"channel": e["channel"], "event_id": str(e["id"]),
                      "provider_name": e["provider"], "computer_name": e["host"],
                      "record_id": record, "event_data": data}}
    return json.dumps(doc, separators=(",", ":"))


def evtx_dump(e, record):
    system = {"Provider": {"#attributes": {"Name": e["provider"]}},
              "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": e["id"]},
              "Level": e["level"], "Task": 1, "Keywords": "0x80000000000000",
              "TimeCreated": {"#attributes": {"SystemTime": iso(e["time"])}},
              "EventRecordID": record, "Channel": e["channel"], "Computer": e["host"]}
    doc = {"Event": {"System": system, "EventData": {"Data": {"#text": e["data"]}}}}
    return json.dumps(doc, separators=(",", ":"))


def main():
    lines = {"winlogbeat": [], "evtx_dump": []}
    for record, e in enumerate(events(), start=7001):
        render = winlogbeat if e["shape"] == "winlogbeat" else evtx_dump
        lines[e["shape"]].append(render(e, record))
    for shape, name in [("winlogbeat", "fleet_winlogbeat.ndjson"),
                        ("evtx_dump", "fleet_cmdlets_evtx_dump.jsonl")]:
        with open(os.path.join(HERE, name), "w", newline="\n") as f:
            f.write("\n".join(lines[shape]) + "\n")


if __name__ == "__main__":
    main()
