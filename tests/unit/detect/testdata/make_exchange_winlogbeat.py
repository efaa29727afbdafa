#!/usr/bin/env python3
"""Writes exchange_winlogbeat.ndjson: synthetic Winlogbeat events (domain.md
section 5 shape) for the shipped rules, one positive per rule and near misses,
on hosts named after what they should trigger. Deterministic; rerun to
regenerate. Every event is synthetic (built from domain.md sections 1 and 4).
"""
import json
import pathlib

EEMS = "MSExchange Mitigation Service"
CMDLET = "MSExchange CmdletLogs"
MGMT = "MSExchange Management"
UM = "MSExchange Unified Messaging"


def event(host, minute, provider, channel, event_id, level, message, data):
    return {
        "@timestamp": f"2026-11-20T10:{minute:02d}:00.000Z",
        "message": message,
        "log": {"level": level},
        "event": {"code": str(event_id), "provider": provider},
        "host": {"name": host.split(".")[0]},
        "winlog": {
            "channel": channel,
            "event_id": str(event_id),
            "provider_name": provider,
            "computer_name": host,
            "record_id": 1000 + minute,
            "event_data": {f"param{i + 1}": v for i, v in enumerate(data)},
        },
    }


def cmdlet(host, minute, event_id, name, params, with_message=True):
    verb = "succeeded" if event_id == 1 else "failed"
    message = f"Cmdlet {verb}. Cmdlet {name}, parameters {params}." if with_message else ""
    level = "information" if event_id == 1 else "error"
    return event(host, minute, CMDLET, MGMT, event_id, level, message,
                 [name, params, "contoso.com/Users/x", "S-1-5-21-1-2-3-500",
                  "S-1-5-21-1-2-3-500", "Remote-ManagementShell-Unknown",
                  "5668 w3wp#MSExchangePowerShellAppPool"])


events = [
    # Positives, one host per rule.
    event("eems.contoso.com", 1, EEMS, "Application", 1008, "error",
          "An unexpected exception occurred.\nDiagnostic information: Exception encountered "
          "while fetching mitigations : System.AggregateException: Could not establish trust "
          "relationship for the SSL/TLS secure channel.", ["fetching mitigations"]),
    cmdlet("export.contoso.com", 2, 1, "New-MailboxExportRequest",
           '-Mailbox "admin" -FilePath "\\\\localhost\\c$\\inetpub\\wwwroot\\aspnet_client\\s.aspx"'),
    cmdlet("role.contoso.com", 3, 1, "New-ManagementRoleAssignment",
           '-Role "Mailbox Import Export" -User "attacker"'),
    cmdlet("remove.contoso.com", 4, 1, "Remove-MailboxExportRequest",
           '-Identity "admin\\MailboxExport" -Confirm "False"', with_message=False),
    cmdlet("cert.contoso.com", 5, 1, "New-ExchangeCertificate",
           '-GenerateRequest "True" -BinaryEncoded "True" -RequestFile '
           '"C:\\inetpub\\wwwroot\\aspnet_client\\r.aspx"'),
    cmdlet("oab.contoso.com", 6, 1, "Set-OabVirtualDirectory",
           '-ExternalUrl "http://f/<script language=\\"JScript\\" runat=\\"server\\">function '
           'Page_Load(){eval(Request[\\"x\\"],\\"unsafe\\");}</script>" -Identity "OAB"'),
    cmdlet("getapp.contoso.com", 7, 6, "Get-App", '-Mailbox "victim"'),
    event("getappexc.contoso.com", 8, CMDLET, MGMT, 8, "error",
          "Task Get-App throwing unhandled exception: System.InvalidCastException: Unable to "
          "cast object.", ["Get-App", "System.InvalidCastException: Unable to cast object."]),
    event("um.contoso.com", 9, UM, "Application", 1000, "error",
          "Watson report: System.InvalidCastException: Unable to cast object.", []),
    # Near misses, all on one host that must raise nothing.
    event("quiet.contoso.com", 10, EEMS, "Application", 1008, "error",
          "An unexpected exception occurred. Disk full.", ["System.IO.IOException"]),
    event("quiet.contoso.com", 11, EEMS, "Application", 1005, "information",
          "Mitigation PING1 applied.", []),
    cmdlet("quiet.contoso.com", 12, 1, "New-MailboxExportRequest",
           '-Mailbox "admin" -FilePath "D:\\exports\\admin.pst"'),
    cmdlet("quiet.contoso.com", 13, 1, "Set-Mailbox", '-Identity "admin" -Confirm "False"'),
    cmdlet("quiet.contoso.com", 14, 1, "Get-App", '-Mailbox "victim"'),
    event("quiet.contoso.com", 15, UM, "Application", 1000, "warning",
          "System.InvalidCastException", []),
]

out = pathlib.Path(__file__).with_name("exchange_winlogbeat.ndjson")
out.write_text("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events))
