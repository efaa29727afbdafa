#!/usr/bin/env python3
"""End-to-end test of the per-server CVE verdicts (docs/exchange-cves.md).

The events are made here, by events() below, in the Winlogbeat JSON shape of
tests/data/fleet/make_fleet_data.py (domain.md sections 1, 2 and 5): each
server's build comes from an MSExchange Common 4999 Watson report, EEMS from
MSExchange Mitigation Service 1005 (success) and 1008 (error) events. The 1005
text naming "M2.1.0" is an assumption: Microsoft documents the event ids and
the mitigation ids, not the message. The inventory is a CSV written here too.
The fleet, judged against the shipped data/exchange-cves.csv
(CVE-2026-42897: disclosed 2026-05-14, KEV 2026-05-15, mitigation M2, fixed in
15.1.2507.69 / 15.2.1544.41 / 15.2.1748.46 / 15.2.2562.43):

  expatch  15.2.2562.43 (SE Jun26 SU)                   -> patched
  exmitb   15.2.1748.43, 1005 naming M2.1.0 on 05-13    -> mitigated (before disclosure)
  exmita   15.2.1544.39, 1005 naming M2.1.0 on 05-20    -> mitigated, exposed from 05-14
  exfail   15.1.2507.66, 1008 hourly since 05-01        -> exposed: EEMS failing since 05-01
  exold    15.1.2507.16 (Nov22 SU), no EEMS events       -> exposed: EEMS cannot fetch
  exinv1   inventory only, 15.2.1748.43                  -> unknown (no logs)
  exinv2   inventory only, 15.1.2375.37 (older than March 2023) -> exposed: EEMS cannot fetch
  exinv3   inventory only, 15.2.1544.39, MitigationsApplied M2.1.0 -> mitigated (inventory)

Checked in the NDJSON alerts, the fleet table and the HTML report (rendered
in headless Chromium when installed), and in `eventsift builds check`.

Usage: cve_e2e_test.py --binary build/release/bin/eventsift [unittest args]
"""

import datetime as dt
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402

BINARY = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CVE = "CVE-2026-42897"
DOMAIN = "fabrikam.local"
EEMS = "MSExchange Mitigation Service"
EEMS_ERROR = ("An unexpected exception occurred. Diagnostic information: Exception encountered "
              "while fetching mitigations : System.Net.WebException: Could not establish trust "
              "relationship for the SSL/TLS secure channel.")


def t(s):
    return dt.datetime.fromisoformat(s).replace(tzinfo=dt.timezone.utc)


def watson(build):
    return ("Watson report about to be sent for process id: 9120, with parameters: E12IIS, "
            "c-RTL-AMD64, %s, w3wp#MSExchangeOWAAppPool, M.Exchange.Net, "
            "M.E.N.E.CertificateValidationComponent.Validate, System.NullReferenceException, "
            "8b2a, %s." % (build, build))


def events():
    out = []

    def add(host, when, provider, channel, event_id, level, message):
        out.append(dict(host=f"{host.upper()}.{DOMAIN}", time=when, provider=provider,
                        channel=channel, id=event_id, level=level, message=message))

    def build(host, when, version):
        padded = ".".join(p.zfill(2 if i == 1 else 4 if i == 2 else 3) if i else p
                          for i, p in enumerate(version.split(".")))
        add(host, when, "MSExchange Common", "Application", 4999, "error", watson(padded))

    build("expatch", t("2026-06-20T09:00:00"), "15.2.2562.43")
    add("expatch", t("2026-06-20T10:00:00"), EEMS, "Application", 1006, "information",
        "Exchange Emergency Mitigation Service checked for mitigations.")
    build("exmitb", t("2026-05-10T09:00:00"), "15.2.1748.43")
    add("exmitb", t("2026-05-13T22:00:00"), EEMS, "Application", 1005, "information",
        "Mitigation M2.1.0 applied.")
    build("exmita", t("2026-05-10T09:00:00"), "15.2.1544.39")
    add("exmita", t("2026-05-20T08:00:00"), EEMS, "Application", 1005, "information",
        "Mitigation M2.1.0 applied.")
    build("exfail", t("2026-04-20T09:00:00"), "15.1.2507.66")
    add("exfail", t("2026-04-30T10:00:00"), EEMS, "Application", 1006, "information",
        "Exchange Emergency Mitigation Service checked for mitigations.")
    for hours in range(0, 24 * 20, 24):
        add("exfail", t("2026-05-01T07:00:00") + dt.timedelta(hours=hours), EEMS, "Application",
            1008, "error", EEMS_ERROR)
    build("exold", t("2026-05-25T09:00:00"), "15.1.2507.16")
    return out


def winlogbeat(e, record):
    return json.dumps({
        "@timestamp": e["time"].strftime("%Y-%m-%dT%H:%M:%S.000Z"), "message": e["message"],
        "log": {"level": e["level"]},
        "event": {"code": str(e["id"]), "provider": e["provider"], "kind": "event"},
        "winlog": {"channel": e["channel"], "event_id": str(e["id"]),
                   "provider_name": e["provider"], "computer_name": e["host"],
                   "record_id": record, "event_data": {"param1": e["message"]}}},
        separators=(",", ":"))


INVENTORY = ("Name,AdminDisplayVersion,MitigationsApplied\n"
             f"exinv1.{DOMAIN},15.2.1748.43,\n"
             f"exinv2.{DOMAIN},15.1.2375.37,\n"
             f"exinv3.{DOMAIN},15.2.1544.39,\"M2.1.0, M1.1.0\"\n")

WANT = {  # host -> (verdict code, table text start, exposed_from)
    "expatch": ("patched", "patched", None),
    "exmitb": ("mitigated", "mitigated since 2026-05-13T22:00:00Z", None),
    "exmita": ("mitigated", "mitigated since 2026-05-20T08:00:00Z", "2026-05-14"),
    "exfail": ("exposed_eems_failing", "exposed: EEMS failing since 2026-05-01T07:00:00Z",
               "2026-05-14"),
    "exold": ("exposed_eems_cannot_fetch",
              "exposed: EEMS cannot fetch (build older than March 2023)", "2026-05-14"),
    "exinv1": ("unknown", "unknown", None),
    "exinv2": ("exposed_eems_cannot_fetch",
               "exposed: EEMS cannot fetch (build older than March 2023)", "2026-05-14"),
    "exinv3": ("mitigated", "mitigated (inventory)", None),
}
EXPOSED = sorted(h for h, w in WANT.items() if w[0].startswith("exposed"))


def run(*args, env=None):
    return subprocess.run([BINARY, *args], cwd=ROOT, capture_output=True, timeout=300,
                          env=env)


class Dom(html.parser.HTMLParser):
    """The title and, per host row, the attributes of its CVE cells."""

    def __init__(self):
        super().__init__()
        self.title, self.cells, self._row, self._in_title, self._cell = "", {}, None, False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "title":
            self._in_title = True
        elif tag == "tr" and "data-host" in a:
            self._row = a["data-host"]
        elif tag == "td" and self._row and "data-cve" in a:
            self._cell = dict(a, text="")
            self.cells.setdefault(self._row, {})[a["data-cve"]] = self._cell

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "td":
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._cell is not None:
            self._cell["text"] += data


class CveE2ETest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.events = os.path.join(cls.tmp.name, "fleet.ndjson")
        with open(cls.events, "w", encoding="utf-8") as f:
            for record, e in enumerate(events(), start=9001):
                f.write(winlogbeat(e, record) + "\n")
        cls.inventory = os.path.join(cls.tmp.name, "servers.csv")
        with open(cls.inventory, "w", encoding="utf-8") as f:
            f.write(INVENTORY)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def scan(self, *args, env=None):
        r = run("scan", "--inventory", self.inventory, *args, self.events, env=env)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return r

    def alerts(self, r):
        return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]

    def test_ndjson_alerts(self):
        r = self.scan()
        alerts = self.alerts(r)
        cve_alerts = [a for a in alerts if a["rule"]["id"] == "exchange_cve_exposure"]
        self.assertEqual(sorted(a["host"].split(".")[0] for a in cve_alerts), EXPOSED)
        for a in cve_alerts:
            host = a["host"].split(".")[0]
            self.assertEqual(a["rule"]["severity"], "critical")  # KEV
            c = a["cve"]
            self.assertEqual((c["id"], c["kev_added"], c["eems_mitigation"]),
                             (CVE, "2026-05-15", "M2"))
            self.assertEqual(c["verdict"], WANT[host][0])
            self.assertEqual(c["exposed_from"], "2026-05-14")
            self.assertTrue(c["verdict_text"].startswith(WANT[host][1]), c["verdict_text"])
            self.assertTrue(a["first_seen"].startswith("2026-05-14T00:00:00"), a["first_seen"])
            self.assertIn(f'EOMT.ps1 -CVE "{CVE}"', a["rule"]["remediation"])
            self.assertIn("outbound HTTPS", a["rule"]["remediation"]) if host == "exfail" else None
            self.assertIn("https://msrc.microsoft.com/update-guide/vulnerability/" + CVE,
                          a["rule"]["references"])
            self.assertTrue(c["evidence"])
        fail = next(a for a in cve_alerts if a["host"].startswith("exfail"))
        self.assertTrue(fail["cve"]["since"].startswith("2026-05-01T07:00:00"))
        self.assertIn("below 15.1.2507.69", fail["cve"]["evidence"])
        # The EEMS 1008 alert names the exposed CVE.
        eems = [a for a in alerts if a["rule"]["id"] == "eems_mitigation_error"]
        self.assertTrue(eems)
        for a in eems:
            self.assertEqual(a["host"], f"exfail.{DOMAIN}")
            self.assertEqual(a["exposed_cves"], [CVE])
            self.assertIn(CVE, a["rule"]["description"])
        # Every alert validates against the schema.
        v = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "validate_alerts.py"),
                            "-"], input=r.stdout, capture_output=True, cwd=ROOT)
        self.assertEqual(v.returncode, 0, v.stdout.decode() + v.stderr.decode())

    def test_alert_ids_repeat_across_scans(self):
        ids = lambda r: sorted(a["alert_id"] for a in self.alerts(r)  # noqa: E731
                               if a["rule"]["id"] == "exchange_cve_exposure")
        first, second = ids(self.scan("--threads", "1")), ids(self.scan("--threads", "2"))
        self.assertEqual(first, second)
        self.assertEqual(len(set(first)), len(EXPOSED))

    def test_table(self):
        r = self.scan("--format", "table")
        lines = r.stdout.decode().splitlines()
        start = next(i for i, l in enumerate(lines) if l.startswith("Exchange fleet:"))
        self.assertTrue(lines[start].endswith(f", {len(EXPOSED)} exposed to a listed CVE)"),
                        lines[start])
        header = lines[start + 1]
        column = header.index(f"{CVE} (KEV 2026-05-15)")
        # KEV columns first: CVE-2026-42897 is the first CVE column.
        self.assertLess(column, header.index("CVE-2022-41040"))
        self.assertIn("APPLIED MITIGATIONS", header)
        rows = {l.split()[0].split(".")[0]: l for l in lines[start + 2:] if l.strip()}
        self.assertEqual(sorted(rows), sorted(WANT))
        for host, (_, text, exposed_from) in WANT.items():
            cell = rows[host][column:]
            self.assertTrue(cell.startswith(text), f"{host}: {cell!r}")
            if exposed_from:
                self.assertIn(f"[exposed from {exposed_from}]", cell.split("  ")[0])
        self.assertIn("M2.1.0 (2026-05-20T08:00:00Z)", rows["exmita"])
        self.assertIn("M1.1.0 (inventory), M2.1.0 (inventory)", rows["exinv3"])

    @unittest.skipIf(CHROMIUM is None,
                     "chromium is not installed (scripts/setup.sh installs Debian's chromium)")
    def test_html_report_in_chromium(self):
        report = os.path.join(self.tmp.name, "cve_report.html")
        self.scan("--report", report, "--out", os.devnull)
        r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                            "--disable-dev-shm-usage", "--no-first-run",
                            "--virtual-time-budget=3000", "--dump-dom", "file://" + report],
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode()[-2000:])
        dom = Dom()
        dom.feed(r.stdout.decode())
        self.assertIn(f": {len(EXPOSED)} of {len(WANT)} servers exposed to a listed CVE",
                      dom.title)
        self.assertEqual(sorted(h.split(".")[0] for h in dom.cells), sorted(WANT))
        for host, cells in dom.cells.items():
            code, text, exposed_from = WANT[host.split(".")[0]]
            cell = cells[CVE]
            self.assertEqual(cell["data-verdict"], code, host)
            self.assertTrue(cell["text"].startswith(text), f"{host}: {cell['text']!r}")
            self.assertEqual(cell["data-exposed-from"], exposed_from or "", host)
            self.assertTrue(cell["title"], host)  # the evidence as tooltip

    def test_cve_list_override_and_errors(self):
        # $EVENTSIFT_CVES and --cves replace the list; a bad row names file and line.
        cves = os.path.join(self.tmp.name, "cves.csv")
        with open(cves, "w", encoding="utf-8") as f:
            f.write("cve,title,disclosed,kev_added,eems_mitigation,fixed_builds,source,note\n"
                    "CVE-2030-00001,test,2030-01-01,,M9,15.1.2507.99;15.2.2562.99,https://example.org/x,\n")
        env = dict(os.environ, EVENTSIFT_CVES=cves)
        alerts = self.alerts(self.scan(env=env))
        got = sorted((a["host"].split(".")[0], a["cve"]["id"], a["rule"]["severity"])
                     for a in alerts if a["rule"]["id"] == "exchange_cve_exposure")
        # Not in KEV: severity high. exmitb, exmita and expatch had EEMS
        # successes naming no M9 (unknown); the pre-March-2023 builds cannot
        # fetch; exfail's EEMS is failing.
        self.assertEqual(got, [(h, "CVE-2030-00001", "high") for h in ["exfail", "exinv2", "exold"]])
        with open(cves, "a", encoding="utf-8") as f:
            f.write("CVE-2030-00002,test,2030-13-01,,,,https://example.org/x,\n")
        r = run("scan", "--cves", cves, self.events)
        self.assertEqual(r.returncode, 2, r.stderr.decode())
        self.assertIn(f"{cves}:3", r.stderr.decode())
        self.assertIn("disclosed", r.stderr.decode())

    def test_builds_check(self):
        r = run("builds", "check", "--format", "json", "15.2.2562.43", "15.2.1748.43",
                "15.1.2507.16")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        answers = [{c["id"]: c["answer"] for c in b["cves"]} for b in json.loads(r.stdout)]
        self.assertEqual([a[CVE] for a in answers], ["fixed", "eems_can_mitigate", "cannot"])
        text = run("builds", "check", "15.1.2507.16").stdout.decode()
        self.assertRegex(text, re.escape(f"{CVE} (KEV 2026-05-15): EEMS cannot mitigate"))



DAEMON_CONFIG = """state_dir: {state}
exit_when_sources_end: true
sources:
  - name: in
    type: stdin
sinks:
  - type: stdout
"""


class CveDaemonTest(unittest.TestCase):
    """The daemon judges the same verdicts as it reads (stdin here), sends an
    exchange_cve_exposure alert when a verdict becomes exposed, and keeps
    what it judged across restarts (its state file)."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.state = os.path.join(self.tmp.name, "state")
        self.config = os.path.join(self.tmp.name, "eventsift.yaml")
        with open(self.config, "w") as f:
            f.write(DAEMON_CONFIG.format(state=self.state))
        self.record = 9001

    def tearDown(self):
        self.tmp.cleanup()

    def daemon(self, evs):
        lines = []
        for e in evs:
            lines.append(winlogbeat(e, self.record))
            self.record += 1
        r = subprocess.run([BINARY, "daemon", "--config", self.config], cwd=ROOT,
                           input=("\n".join(lines) + "\n").encode(), capture_output=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode()[-2000:])
        return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]

    def test_check_config_loads_the_cve_list(self):
        bad = os.path.join(self.tmp.name, "cves.csv")
        with open(bad, "w") as f:
            f.write("cve,title,disclosed,kev_added,eems_mitigation,fixed_builds,source,note\n"
                    "CVE-2026-1,title,2026-13-01,,,,https://example.org,\n")
        with open(self.config, "a") as f:
            f.write(f"exchange_cves: {bad}\n")
        r = subprocess.run([BINARY, "daemon", "--config", self.config, "--check-config"],
                           cwd=ROOT, capture_output=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(f"{bad}:2", r.stderr.decode())

    def saved_verdicts(self):
        with open(os.path.join(self.state, "state.json"), encoding="utf-8") as f:
            state = json.load(f)
        return {h["host"].split(".")[0]: h["verdicts"].get(CVE)
                for h in state["exchange_cves"]["hosts"]}

    def test_verdicts_as_events_arrive_and_across_restarts(self):
        alerts = self.daemon(events())
        cve = {a["host"].split(".")[0]: a for a in alerts
               if a["rule"]["id"] == "exchange_cve_exposure"}
        # The servers the logs show (the inventory is scan's): exposed ones alert.
        self.assertEqual(sorted(cve), ["exfail", "exold"])
        for host, a in cve.items():
            self.assertEqual(a["cve"]["verdict"], WANT[host][0])
            self.assertTrue(a["cve"]["verdict_text"].startswith(WANT[host][1]))
            self.assertEqual(a["rule"]["severity"], "critical")
        # Same alert ids as scan, so consumers de-duplicate across both.
        scanned = subprocess.run([BINARY, "scan", "-"], cwd=ROOT, capture_output=True,
                                 input=("\n".join(winlogbeat(e, i) for i, e in
                                                  enumerate(events(), start=9001)) + "\n").encode(),
                                 timeout=120)
        self.assertEqual(scanned.returncode, 0, scanned.stderr.decode()[-2000:])
        scan_ids = sorted(json.loads(l)["alert_id"] for l in scanned.stdout.decode().splitlines()
                          if l.strip() and json.loads(l)["rule"]["id"] == "exchange_cve_exposure")
        self.assertEqual(sorted(a["alert_id"] for a in cve.values()), scan_ids)
        eems = [a for a in alerts if a["rule"]["id"] == "eems_mitigation_error"]
        self.assertTrue(eems)
        for a in eems:
            self.assertEqual(a["exposed_cves"], [CVE])
        self.assertEqual(self.saved_verdicts()["expatch"], "patched")
        self.assertEqual(self.saved_verdicts()["exmita"], "mitigated")

        # Restarted with more of the same: no verdict changes, no CVE alert.
        more = []
        for hours in (0, 24):
            more.append(dict(host=f"EXFAIL.{DOMAIN}", time=t("2026-05-25T07:00:00") +
                             dt.timedelta(hours=hours), provider=EEMS, channel="Application",
                             id=1008, level="error", message=EEMS_ERROR))
        alerts = self.daemon(more)
        self.assertEqual([a for a in alerts if a["rule"]["id"] == "exchange_cve_exposure"], [])

        # EEMS works again on exfail and applies M2: mitigated, no alert.
        alerts = self.daemon([dict(host=f"EXFAIL.{DOMAIN}", time=t("2026-06-01T07:00:00"),
                                   provider=EEMS, channel="Application", id=1005,
                                   level="information", message="Mitigation M2.1.0 applied.")])
        self.assertEqual([a for a in alerts if a["rule"]["id"] == "exchange_cve_exposure"], [])
        self.assertEqual(self.saved_verdicts()["exfail"], "mitigated")
        self.assertEqual(self.saved_verdicts()["exold"], "exposed_eems_cannot_fetch")

        # A server first seen now, on a build older than March 2023: alerted.
        alerts = self.daemon([dict(host=f"EXNEW.{DOMAIN}", time=t("2026-06-02T09:00:00"),
                                   provider="MSExchange Common", channel="Application", id=4999,
                                   level="error", message=watson("15.01.2507.016"))])
        new = [a for a in alerts if a["rule"]["id"] == "exchange_cve_exposure"]
        self.assertEqual([a["host"].split(".")[0] for a in new], ["exnew"])
        self.assertEqual(new[0]["cve"]["verdict"], "exposed_eems_cannot_fetch")

if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
