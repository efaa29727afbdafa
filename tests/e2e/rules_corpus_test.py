#!/usr/bin/env python3
"""The shipped rules on real data, through the real binary.

1. The whole shared corpus (/work/shared/corpus, SOURCES.md there: real EVTX
   samples and OTRF JSON exports) raises exactly the alerts listed in
   CORPUS_ALERTS below, each explained. Skipped, saying so, when the corpus is
   absent (a fresh clone elsewhere).
2. The real MSExchange Management record (tests/data/evtx/
   MSExchange_Management_wec.evtx: one CmdletLogs event, Set-Mailbox
   -ForwardingSmtpAddress, forwarded by WEC) holds none of the ProxyShell or
   ProxyLogon patterns, so the cmdlet rules are tested on records built from
   it: its evtx_dump form (tests/data/evtx_golden/...jsonl, the oracle's
   rendering of the same record) with Data[0] (cmdlet) and Data[1]
   (parameters) replaced by each documented shape (domain.md section 4, the
   Sigma keywords) and by near misses; all its other 25 values, the
   provider, channel, qualifiers and WEC host layout stay as recorded.
3. Hourly EEMS 1008 repeats on one host make one alert per window, with the
   count, suppressed repeats and first/last seen.

Usage: rules_corpus_test.py --binary build/release/bin/eventsift [unittest args]
"""

import copy
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402

BINARY = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.environ.get("EVENTSIFT_CORPUS",
                        os.path.join(os.path.dirname(ROOT), "shared", "corpus"))
REAL_RECORD = os.path.join(ROOT, "tests", "data", "evtx_golden",
                           "MSExchange_Management_wec.evtx.jsonl")
REAL_EVTX = os.path.join(ROOT, "tests", "data", "evtx", "MSExchange_Management_wec.evtx")

# (rule id, host) of every alert the shipped rules raise on the shared
# corpus, each a true positive:
# - proxylogon_ssrf_rce_poc_2021-03-14T01401970.json.gz (OTRF, NXLog-style
#   NDJSON from a real Exchange server, MXS01, attacked with a ProxyLogon
#   proof of concept) holds the MSExchange CmdletLogs event 1 (channel
#   "MSExchange Management", 2021-03-14T01:40:12.987Z) whose Message field
#   records "Cmdlet Set-OabVirtualDirectory, parameters -ExternalUrl
#   "http://ffff/#<script language="JScript" runat="server"> function
#   Page_Load(){/**/eval(Request["code"],"unsafe");}</script>" -Identity
#   "OAB (Default Web Site)"": the OAB virtual directory's ExternalUrl set to
#   a JScript web shell, the ProxyLogon write (CVE-2021-27065) the rule is
#   for. Its Hostname is MXS01.azsentinel.local (hosts are compared lower case).
# Nothing else in the corpus is an Exchange server's attack or EEMS failure:
# its one MSExchange Management EVTX record is an ordinary Set-Mailbox (a near
# miss: it has -Identity).
CORPUS_ALERTS = [("proxylogon_oab_virtual_directory", "mxs01.azsentinel.local")]
PROXYLOGON_FILE = "proxylogon_ssrf_rce_poc_2021-03-14T01401970.json.gz"

# (cmdlet, parameters, the rule that must fire or None), per domain.md
# section 4. Parameters are written as CmdletLogs writes them: -Name "value".
CASES = [
    ("New-MailboxExportRequest",
     '-Mailbox "administrator@ave.local" -FilePath "\\\\127.0.0.1\\C$\\inetpub\\wwwroot\\aspnet_client\\x.aspx"',
     "proxyshell_mailbox_export"),
    ("New-MailboxExportRequest", '-Mailbox "Administrateur" -FilePath "\\\\fileserver\\pst$\\a.pst"',
     "proxyshell_mailbox_export"),
    ("New-MailboxExportRequest", '-Mailbox "Administrateur" -FilePath "D:\\exports\\a.pst"', None),
    ("New-MailboxExportRequest", '-FilePath "\\\\fileserver\\pst$\\a.pst"', None),  # no -Mailbox
    ("New-ManagementRoleAssignment", '-Role "Mailbox Import Export" -User "Administrateur"',
     "proxyshell_mailbox_import_export_role"),
    ("New-ManagementRoleAssignment", '-Role "Mail Recipients" -User "helpdesk"', None),
    ("New-ManagementRoleAssignment", '-Role "Mailbox Import Export" -SecurityGroup "Org Admins"',
     None),  # no -User
    ("Remove-MailboxExportRequest", '-Identity "Administrateur\\MailboxExport" -Confirm "False"',
     "proxyshell_remove_mailbox_export"),
    ("Remove-MailboxExportRequest", '-Identity "Administrateur\\MailboxExport"', None),
    ("New-ExchangeCertificate",
     '-GenerateRequest "True" -BinaryEncoded "True" -RequestFile "\\\\localhost\\C$\\inetpub\\wwwroot\\aspnet_client\\c.aspx"',
     "proxyshell_certificate_generation"),
    ("New-ExchangeCertificate",
     '-GenerateRequest "True" -BinaryEncoded "True" -RequestFile "C:\\Users\\adm\\cert.req"', None),
    ("Set-OabVirtualDirectory",
     '-ExternalUrl "http://f/<script language=\\"JScript\\" runat=\\"server\\">function Page_Load(){eval(Request[\\"c\\"],\\"unsafe\\");}</script>" -Identity "OAB (Default Web Site)"',
     "proxylogon_oab_virtual_directory"),
    ("Set-OabVirtualDirectory", '-ExternalUrl "https://mail.ave.local/OAB" -Identity "OAB (Default Web Site)"',
     None),
    # The real record itself.
    (None, None, None),
]


def run(*args):
    return subprocess.run([BINARY, *args], cwd=ROOT, capture_output=True, timeout=600)


def alerts_of(stdout):
    return [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]


class RulesCorpusTest(unittest.TestCase):
    def test_whole_shared_corpus_raises_only_the_listed_alerts(self):
        if not os.path.isdir(CORPUS):
            self.skipTest(f"shared corpus not found at {CORPUS} (set EVENTSIFT_CORPUS)")
        r = run("scan", "--threads", "2", CORPUS)
        # Some corpus files are damaged on purpose: errors are reported, the
        # scan goes on; no input is unreadable.
        self.assertIn(r.returncode, (0,), r.stderr.decode()[-3000:])
        alerts = alerts_of(r.stdout)
        got = sorted((a["rule"]["id"], a["host"]) for a in alerts)
        self.assertEqual(got, sorted(CORPUS_ALERTS))
        # The ProxyLogon alert comes from the event explained above, nowhere else.
        oab = [a for a in alerts if a["rule"]["id"] == "proxylogon_oab_virtual_directory"]
        for sample in oab[0]["samples"]:
            self.assertTrue(sample["source"]["file"].endswith(PROXYLOGON_FILE), sample)
            self.assertEqual((sample["provider"], sample["event_id"], sample["channel"]),
                             ("MSExchange CmdletLogs", 1, "MSExchange Management"))
            self.assertEqual(sample["time"], "2021-03-14T01:40:12.9870000Z")
            self.assertIn("Cmdlet Set-OabVirtualDirectory, parameters -ExternalUrl", sample["message"])
            self.assertIn('runat="server"', sample["message"])
        # The scan did read the corpus (not an empty run passing by accident).
        self.assertRegex(r.stderr.decode(), r"eventsift scan: [1-9]\d* inputs \(0 unreadable\), "
                                            r"[1-9]\d{4,} events")

    def test_cmdlet_rules_on_records_built_from_the_real_one(self):
        with open(REAL_RECORD) as f:
            real = json.loads(f.readline())
        data = real["Event"]["EventData"]["Data"]["#text"]
        self.assertEqual(len(data), 27)  # the recorded layout
        self.assertEqual(data[0], "Set-Mailbox")
        lines, want = [], {}
        for i, (cmdlet, params, rule) in enumerate(CASES):
            e = copy.deepcopy(real)
            host = f"case{i:02d}.ave.local"
            e["Event"]["System"]["Computer"] = host
            e["Event"]["System"]["EventRecordID"] = str(4000 + i)
            if cmdlet is not None:
                e["Event"]["EventData"]["Data"]["#text"][0] = cmdlet
                e["Event"]["EventData"]["Data"]["#text"][1] = params
            lines.append(json.dumps(e, ensure_ascii=False))
            want[host] = [rule] if rule else []
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "cases.jsonl")
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
            r = run("scan", path)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        got = {h: [] for h in want}
        for a in alerts_of(r.stdout):
            got[a["host"]].append(a["rule"]["id"])
        for i, (cmdlet, params, _) in enumerate(CASES):
            host = f"case{i:02d}.ave.local"
            self.assertEqual(got[host], want[host], f"{cmdlet} {params}")

    def test_real_cmdlet_evtx_is_exchange_but_no_indicator(self):
        r = run("dump", "--format", "jsonl", REAL_EVTX)
        events = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
        self.assertTrue(events)
        # The rules' exact filters pass on it, so "no alert" is the regexes' verdict.
        self.assertTrue(all(e["provider"] == "MSExchange CmdletLogs" and
                            e["channel"] == "MSExchange Management" for e in events))
        r = run("scan", REAL_EVTX)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(alerts_of(r.stdout), [])

    def test_hourly_eems_errors_make_one_alert_per_window(self):
        t0 = dt.datetime(2026, 11, 10, 8, 15, tzinfo=dt.timezone.utc)
        text = ("An unexpected exception occurred. Diagnostic information: Exception encountered "
                "while fetching mitigations : Connection attempted against untrusted endpoint")
        lines = []
        for h in range(30):  # 30 hourly errors: 24 in the first 24h window, 6 after it
            t = t0 + dt.timedelta(hours=h)
            lines.append(json.dumps({
                "@timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "message": text,
                "log": {"level": "error"},
                "winlog": {"channel": "Application", "event_id": "1008",
                           "provider_name": "MSExchange Mitigation Service",
                           "computer_name": "EX21.contoso.com", "record_id": 100 + h,
                           "event_data": {"param1": text}}}))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "hourly.ndjson")
            with open(path, "w") as f:
                f.write("\n".join(lines) + "\n")
            r = run("scan", path)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        alerts = alerts_of(r.stdout)
        self.assertEqual(len(alerts), 1)
        a = alerts[0]
        self.assertEqual((a["rule"]["id"], a["host"]), ("eems_mitigation_error", "ex21.contoso.com"))
        # Window 24h from the first error; the next window starts within the
        # 24h suppression of the alert's end, so its 6 errors fold into it.
        self.assertEqual((a["count"], a["suppressed"]), (24, 6))
        self.assertEqual(a["first_seen"], "2026-11-10T08:15:00.0000000Z")
        self.assertEqual(a["last_seen"], "2026-11-11T07:15:00.0000000Z")


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
