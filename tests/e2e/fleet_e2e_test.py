#!/usr/bin/env python3
"""End-to-end test of the fleet summary that ends `eventsift scan --format table`.

Runs the real binary on tests/data/fleet (a fleet built by
tests/data/fleet/make_fleet_data.py: failing and outdated, success only, no
EEMS events, ProxyShell indicators) plus the real MSExchange Management EVTX,
and compares every fleet row with what fleet_oracle.py derives from
`eventsift dump` and the documented rule conditions. A few facts known by
construction of the data are asserted by name as well, so an oracle bug
cannot hide a wrong table. The same with an --inventory that names log hosts
in other forms and hosts the logs never show: those are rows too, and the
JSON alerts do not change.

Usage: fleet_e2e_test.py --binary build/release/bin/eventsift [unittest args]
"""

import itertools
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402
import fleet_oracle  # noqa: E402

BINARY = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLEET = os.path.join("tests", "data", "fleet")
WEC = os.path.join("tests", "data", "evtx", "MSExchange_Management_wec.evtx")
COLUMNS = ["host", "build", "product", "status", "mitigations", "eems", "last_success",
           "indicator_text"]


def run(*args):
    return subprocess.run([BINARY, *args], cwd=ROOT, capture_output=True, timeout=300)


def fleet_rows(stdout):
    """The fleet section of the table: header line, column names, one row per host."""
    lines = stdout.decode().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("Exchange fleet:"))
    header = re.split(r"\s{2,}", lines[start + 1].strip())
    # Cells are split at the header's column starts: a CVE verdict may hold
    # single spaces, and an empty cell would shift a split on blanks.
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=\s\s))\S", lines[start + 1])]
    names = COLUMNS + ["applied"] + header[9:]

    def cells(line):
        ends = starts[1:] + [len(line)]
        return [line[a:b].strip() for a, b in zip(starts, ends)]
    # The fleet ends at the first blank line (the record-id table may follow).
    body = list(itertools.takewhile(bool, lines[start + 2:]))
    rows = [dict(zip(names, cells(l))) for l in body]
    return lines[start], header, rows


class FleetE2ETest(unittest.TestCase):
    def assert_matches_oracle(self, title, rows, inventory=()):
        """Every row and the title's counts against fleet_oracle.py."""
        want = fleet_oracle.expected_fleet(BINARY, ROOT, [
            os.path.join(FLEET, f) for f in sorted(os.listdir(os.path.join(ROOT, FLEET)))
            if not f.endswith(".py")] + [WEC], inventory)
        self.assertEqual([r["host"] for r in rows], sorted(want))
        for row in rows:
            w = want[row["host"]]
            for col in ["build", "status", "mitigations", "eems", "last_success",
                        "indicator_text"]:
                self.assertEqual(row[col], w[col], f"{row['host']}: {col}")
        failing = sum(w["state"] == "failing" for w in want.values())
        outdated = sum(w["status"] == "OUTDATED (<Mar 2023)" for w in want.values())
        attacked = sum(bool(w["indicators"]) for w in want.values())
        # Hosts only the inventory names are counted only when there are some.
        unseen = sum(not w["in_logs"] for w in want.values())
        # The CVE verdicts are checked by cve_e2e_test.py; here only that the
        # title carries their count, taken from the table's own CVE columns.
        exposed = sum(any(v.startswith("exposed") for k, v in r.items() if k.startswith("CVE-"))
                      for r in rows)
        self.assertEqual(title, f"Exchange fleet: {len(want)} hosts ({failing} EEMS failing, "
                                f"{outdated} outdated build{'' if outdated == 1 else 's'}, "
                                f"{attacked} with attack indicators"
                                f"{f', {unseen} not in the scanned logs' if unseen else ''}"
                                f", {exposed} exposed to a listed CVE)")

    def test_fleet_table_matches_the_oracle(self):
        r = run("scan", "--format", "table", "--threads", "2", FLEET, WEC)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        title, header, rows = fleet_rows(r.stdout)
        self.assertEqual(header[:9], ["HOST", "BUILD", "PRODUCT", "BUILD STATUS",
                                      "GETS MITIGATIONS", "EEMS", "LAST EEMS SUCCESS",
                                      "ATTACK INDICATORS", "APPLIED MITIGATIONS"])
        self.assertTrue(all(h.startswith("CVE-") for h in header[9:]), header)
        self.assert_matches_oracle(title, rows)

        # Known by construction (tests/data/fleet/make_fleet_data.py).
        by = {r["host"]: r for r in rows}
        self.assertEqual(sorted(by), ["ex11.fabrikam.local", "ex12.fabrikam.local",
                                      "ex13.fabrikam.local", "ex14.fabrikam.local",
                                      "wec.ave.local"])
        ex11, ex12, ex13, ex14 = (by[f"ex1{i}.fabrikam.local"] for i in range(1, 5))
        self.assertEqual((ex11["build"], ex11["status"], ex11["mitigations"]),
                         ("15.1.2375.37", "OUTDATED (<Mar 2023)", "no"))
        self.assertEqual(ex11["eems"], "failing since 2026-11-18T07:10:00Z (30 errors)")
        self.assertEqual(ex11["last_success"], "2026-11-18T06:10:00Z")
        # EX12's build was logged under its short name "ex12".
        self.assertEqual((ex12["build"], ex12["status"], ex12["mitigations"]),
                         ("15.2.1544.14", "current", "yes"))
        self.assertEqual(ex12["eems"], "working (6 successes)")
        self.assertEqual(ex13["eems"], "no EEMS events")
        self.assertEqual(ex13["indicator_text"], "-")
        self.assertEqual(ex14["eems"], "failing since 2026-11-18T18:40:00Z (19 errors)")
        self.assertEqual(ex14["indicator_text"],
                         "proxylogon_cve_2021_26857_unified_messaging x1, "
                         "proxyshell_certificate_generation x1, proxyshell_mailbox_export x1, "
                         "proxyshell_mailbox_import_export_role x1, "
                         "proxyshell_remove_mailbox_export x1")
        self.assertEqual(by["wec.ave.local"]["eems"], "no EEMS events")

    def test_alerts_unchanged_by_the_state_rule(self):
        # EEMS successes make no alert; errors and indicators do, once per
        # host and window (hourly repeats fold into one alert).
        r = run("scan", FLEET)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        import json
        alerts = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
        self.assertNotIn("eems_mitigation_success", {a["rule"]["id"] for a in alerts})
        eems = {a["host"]: a for a in alerts if a["rule"]["id"] == "eems_mitigation_error"}
        self.assertEqual(sorted(eems), ["ex11.fabrikam.local", "ex14.fabrikam.local"])
        self.assertEqual(eems["ex11.fabrikam.local"]["count"] + eems["ex11.fabrikam.local"]["suppressed"], 30)

    # Hosts in the logs by their short name (EX11), their FQDN in another case
    # with a trailing dot (EX12), their FQDN (ex13), and two hosts the logs
    # never mention, one short and one FQDN. EX11's inventory build is newer
    # than the one its Watson report logged, so it wins.
    INVENTORY = [("EX11", (15, 1, 2507, 23)), ("EX12.FABRIKAM.LOCAL.", (15, 2, 1544, 14)),
                 ("ex13.fabrikam.local", (15, 2, 1118, 26)),
                 ("EX20.fabrikam.local", (15, 1, 2375, 37)), ("ex21", (15, 2, 1544, 14))]

    def scan_with_inventory(self, *args):
        with tempfile.TemporaryDirectory() as tmp:
            inv = os.path.join(tmp, "servers.csv")
            with open(inv, "w", encoding="utf-8") as f:
                f.write("host,build\n")
                for host, v in self.INVENTORY:
                    f.write("%s,%d.%d.%d.%d\n" % (host, *v))
            r = run("scan", "--inventory", inv, *args)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return r

    def test_inventory_hosts_are_all_listed(self):
        r = self.scan_with_inventory("--format", "table", "--threads", "2", FLEET, WEC)
        title, _, rows = fleet_rows(r.stdout)
        self.assert_matches_oracle(title, rows, self.INVENTORY)

        # Known by construction: the inventory's names merged with the logs'
        # hosts, two more rows for the hosts without events.
        by = {r["host"]: r for r in rows}
        self.assertEqual(sorted(by), ["ex11.fabrikam.local", "ex12.fabrikam.local",
                                      "ex13.fabrikam.local", "ex14.fabrikam.local",
                                      "ex20.fabrikam.local", "ex21", "wec.ave.local"])
        self.assertIn(", 2 not in the scanned logs, ", title)
        ex11, ex13, ex20, ex21 = (by[h] for h in ["ex11.fabrikam.local", "ex13.fabrikam.local",
                                                  "ex20.fabrikam.local", "ex21"])
        self.assertEqual((ex11["build"], ex11["status"], ex11["mitigations"]),
                         ("15.1.2507.23", "Mar 2023 SU (borderline)", "yes"))
        self.assertEqual(ex11["eems"], "failing since 2026-11-18T07:10:00Z (30 errors)")
        # Logs scanned, no EEMS event: not the same as no logs at all.
        self.assertEqual((ex13["build"], ex13["eems"]), ("15.2.1118.26", "no EEMS events"))
        self.assertEqual(
            [ex20[c] for c in ["build", "status", "mitigations", "eems", "last_success",
                               "indicator_text"]],
            ["15.1.2375.37", "OUTDATED (<Mar 2023)", "no",
             "no Exchange events in the scanned logs", "-", "-"])
        self.assertEqual((ex21["build"], ex21["status"], ex21["mitigations"], ex21["eems"]),
                         ("15.2.1544.14", "current", "yes",
                          "no Exchange events in the scanned logs"))

    def test_inventory_fqdn_keys_a_host_logged_by_short_name(self):
        # EX13's one event, its computer name cut to the short "EX13": the
        # inventory's FQDN is the row's key and its build reaches the row.
        with open(os.path.join(ROOT, FLEET, "fleet_winlogbeat.ndjson"), encoding="utf-8") as f:
            line = next(l for l in f if '"computer_name":"EX13.fabrikam.local"' in l)
        with tempfile.TemporaryDirectory() as tmp:
            events = os.path.join(tmp, "ex13.ndjson")
            with open(events, "w", encoding="utf-8") as f:
                f.write(line.replace('"computer_name":"EX13.fabrikam.local"',
                                     '"computer_name":"EX13"'))
            inv = os.path.join(tmp, "servers.csv")
            with open(inv, "w", encoding="utf-8") as f:
                f.write("ex13.fabrikam.local,15.2.1118.26\n")
            r = run("scan", "--format", "table", "--inventory", inv, events)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        title, _, rows = fleet_rows(r.stdout)
        self.assertEqual(title, "Exchange fleet: 1 host (0 EEMS failing, 0 outdated builds, "
                                "0 with attack indicators, 1 exposed to a listed CVE)")
        self.assertEqual([(x["host"], x["build"], x["status"], x["eems"]) for x in rows],
                         [("ex13.fabrikam.local", "15.2.1118.26", "Mar 2023 SU (borderline)",
                           "no EEMS events")])

    def test_inventory_invents_no_alert(self):
        import json

        # The inventory adds no rule alert. It may add exchange_cve_exposure
        # alerts (a listed server's build makes its CVE verdict), which
        # cve_e2e_test.py checks; they are left out here.
        def alerts(r):
            return sorted((a["rule"]["id"], a["host"], str(a["window"]["start"])) for a in
                          (json.loads(l) for l in r.stdout.decode().splitlines() if l.strip())
                          if a["rule"]["id"] != "exchange_cve_exposure")

        plain = run("scan", FLEET, WEC)
        self.assertEqual(plain.returncode, 0, plain.stderr.decode())
        with_inventory = alerts(self.scan_with_inventory(FLEET, WEC))
        self.assertEqual(with_inventory, alerts(plain))
        self.assertFalse({"ex20.fabrikam.local", "ex21"} & {host for _, host, _ in with_inventory})

    def test_table_with_no_exchange_host(self):
        # The record-id table (this sample has gaps) would follow the fleet.
        r = run("scan", "--format", "table", "--no-record-ids",
                os.path.join("tests", "data", "json", "otrf_smbexec_head200.json.gz"))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertTrue(r.stdout.decode().endswith("0 alerts\n\nExchange fleet: no Exchange hosts seen\n"),
                        r.stdout.decode())


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
