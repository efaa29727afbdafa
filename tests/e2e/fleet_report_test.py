#!/usr/bin/env python3
"""`eventsift scan --report FILE.html`, rendered in headless Chromium.

Runs the real binary on the fleet test data (tests/data/fleet plus the real
MSExchange Management EVTX), checks that the page is self-contained, then
lets Chromium run its script (--dump-dom after --virtual-time-budget) and
checks the rendered page against fleet_oracle.py: one row per host with its
build, build status, EEMS state, last success and indicator counts, a
timeline with as many EEMS errors, successes and indicator hits per host,
and that sorting (the same function a header click calls, reached through
"#sort=<col>[:desc]") puts the rows in the expected order. A screenshot is
kept as an artifact: <artifacts>/fleet_report.png (CTest passes the build's
tests/e2e directory), beside fleet_report.html.

Skips, saying why, only when no chromium binary is installed
(scripts/setup.sh installs Debian's chromium).

Usage: fleet_report_test.py --binary build/release/bin/eventsift
       [--artifacts DIR] [unittest args]
"""

import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402
import fleet_oracle  # noqa: E402

BINARY = None
ARTIFACTS = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLEET = os.path.join("tests", "data", "fleet")
WEC = os.path.join("tests", "data", "evtx", "MSExchange_Management_wec.evtx")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Dom(html.parser.HTMLParser):
    """Just enough of the DOM: table rows with their cells' text and
    attributes, the timeline's host groups and their rects, <body> attrs and
    the summary line (<p class="meta">)."""

    def __init__(self):
        super().__init__()
        self.rows, self.groups, self.body, self.meta = [], {}, {}, ""
        self._row = self._cell = self._group = None
        self._in_meta = False
        self._in_tbody = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        elif tag == "tbody":
            self._in_tbody = True
        elif tag == "p" and a.get("class") == "meta":
            self._in_meta = True
        elif tag == "tr" and self._in_tbody:
            self._row = dict(attrs=a, cells=[], cell_attrs=[], indicators={})
            self.rows.append(self._row)
        elif tag == "td" and self._row is not None:
            self._cell = []
            self._row["cell_attrs"].append(a)
        elif tag == "div" and self._row is not None and "data-rule" in a:
            self._row["indicators"][a["data-rule"]] = int(a["data-count"])
        elif tag == "g" and a.get("class") == "host":
            self._group = self.groups.setdefault(a["data-host"], {})
        elif tag == "rect" and self._group is not None:
            cls = a.get("class")
            self._group[cls] = self._group.get(cls, 0) + int(a["data-count"])

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row["cells"].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "tbody":
            self._in_tbody = False
        elif tag == "g":
            self._group = None
        elif tag == "p":
            self._in_meta = False

    def handle_data(self, data):
        if self._in_meta:
            self.meta += data
        if self._cell is not None:
            self._cell.append(data)


def chromium(*args):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
                           *args], capture_output=True, timeout=120)


@unittest.skipIf(CHROMIUM is None,
                 "chromium is not installed (scripts/setup.sh installs Debian's chromium)")
class FleetReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = ARTIFACTS or cls.tmp.name
        os.makedirs(cls.dir, exist_ok=True)
        cls.report = os.path.join(cls.dir, "fleet_report.html")
        r = subprocess.run([BINARY, "scan", "--report", cls.report, "--out", os.devnull,
                            FLEET, WEC], cwd=ROOT, capture_output=True, timeout=300)
        assert r.returncode == 0, r.stderr.decode()
        cls.want = fleet_oracle.expected_fleet(BINARY, ROOT, [
            os.path.join(FLEET, f) for f in sorted(os.listdir(os.path.join(ROOT, FLEET)))
            if not f.endswith(".py")] + [WEC])

        # The same logs with a Get-ExchangeServer | ConvertTo-Json inventory
        # naming one log host (short name) and one server without events.
        cls.inventory = [("EX14", (15, 2, 1544, 14)), ("ex30.fabrikam.local", (15, 1, 2375, 37))]
        inv = os.path.join(cls.tmp.name, "servers.json")
        with open(inv, "w", encoding="utf-8") as f:
            f.write("[" + ",".join('{"Name": "%s", "AdminDisplayVersion": "%d.%d.%d.%d"}' %
                                   (h, *v) for h, v in cls.inventory) + "]")
        cls.report_inv = os.path.join(cls.dir, "fleet_report_inventory.html")
        r = subprocess.run([BINARY, "scan", "--report", cls.report_inv, "--inventory", inv,
                            "--out", os.devnull, FLEET, WEC], cwd=ROOT, capture_output=True,
                           timeout=300)
        assert r.returncode == 0, r.stderr.decode()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def render(self, fragment="", report=None):
        r = chromium("--virtual-time-budget=3000", "--dump-dom",
                     "file://" + os.path.abspath(report or self.report) + fragment)
        self.assertEqual(r.returncode, 0, r.stderr.decode()[-2000:])
        dom = Dom()
        dom.feed(r.stdout.decode())
        return dom

    def test_file_is_self_contained(self):
        with open(self.report, encoding="utf-8") as f:
            page = f.read()
        # No external resource of any kind, and a policy that forbids them.
        self.assertIsNone(re.search(r"<[a-z]+[^>]*\s(src|href)\s*=|@import|url\(|https?://", page))
        self.assertIn("default-src 'none'", page)

    def test_rows_match_the_fleet(self):
        dom = self.render()
        self.assertEqual(dom.body.get("data-sorted"), None)  # no sort asked: host order
        hosts = [row["attrs"]["data-host"] for row in dom.rows]
        self.assertEqual(hosts, sorted(self.want))
        for row in dom.rows:
            w = self.want[row["attrs"]["data-host"]]
            # The columns after the eighth are the CVE verdicts (cve_e2e_test.py).
            host, build, product, status, mitigations, eems, last_success, _ = row["cells"][:8]
            self.assertEqual(host, w["host"])
            self.assertEqual(build, w["build"], host)
            self.assertEqual(status, w["status"], host)
            self.assertEqual(mitigations, w["mitigations"], host)
            self.assertEqual(eems, w["eems"], host)
            self.assertEqual(last_success, w["last_success"], host)
            self.assertEqual(row["attrs"]["data-eems"],
                             {"failing": "failing", "working": "working"}.get(w["state"],
                                                                              "no EEMS events"))
            self.assertEqual(row["indicators"], w["indicators"], host)
            if w["build"] != "-":
                self.assertTrue(product.startswith("Exchange Server 20"), product)

    def test_inventory_only_host_is_listed(self):
        want = fleet_oracle.expected_fleet(BINARY, ROOT, [
            os.path.join(FLEET, f) for f in sorted(os.listdir(os.path.join(ROOT, FLEET)))
            if not f.endswith(".py")] + [WEC], self.inventory)
        dom = self.render(report=self.report_inv)
        self.assertEqual([row["attrs"]["data-host"] for row in dom.rows], sorted(want))
        for row in dom.rows:
            w = want[row["attrs"]["data-host"]]
            host, build, _, status, mitigations, eems, last_success, _ = row["cells"][:8]
            self.assertEqual((build, status, mitigations, eems, last_success),
                             (w["build"], w["status"], w["mitigations"], w["eems"],
                              w["last_success"]), host)
            self.assertEqual(row["indicators"], w["indicators"], host)
        # By construction: ex30 has no event at all, EX14 (logged as an FQDN)
        # took the inventory's build and kept its EEMS state and indicators.
        by = {row["attrs"]["data-host"]: row for row in dom.rows}
        ex30 = by["ex30.fabrikam.local"]
        self.assertEqual([ex30["cells"][i] for i in (1, 3, 4, 5, 6, 7)],
                         ["15.1.2375.37", "OUTDATED (<Mar 2023)", "no",
                          "no Exchange events in the scanned logs", "-", "-"])
        self.assertTrue(ex30["cells"][2].startswith("Exchange Server 2016"), ex30["cells"][2])
        self.assertEqual(ex30["attrs"]["data-eems"], "no Exchange events in the scanned logs")
        self.assertEqual(ex30["indicators"], {})
        ex14 = by["ex14.fabrikam.local"]
        self.assertEqual((ex14["cells"][1], ex14["cells"][3]), ("15.2.1544.14", "current"))
        self.assertTrue(ex14["cells"][5].startswith("failing since"), ex14["cells"][5])
        self.assertEqual(len(ex14["indicators"]), 5)
        # The summary line counts the host and says why it has no state.
        self.assertIn("6 Exchange hosts: 2 with EEMS failing, 1 with attack indicators, "
                      "1 not in the scanned logs (inventory only).", dom.meta)
        # Its timeline band is there, and empty.
        self.assertEqual(dom.groups.get("ex30.fabrikam.local"), {})

    def test_timeline_counts(self):
        dom = self.render()
        for host, w in self.want.items():
            g = dom.groups.get(host, {})
            self.assertEqual(g.get("indicator", 0), sum(w["indicators"].values()), host)
        # By construction: EX11 30 errors and 1 success, EX12 6 successes.
        self.assertEqual(dom.groups["ex11.fabrikam.local"], {"eems-error": 30, "eems-success": 1})
        self.assertEqual(dom.groups["ex12.fabrikam.local"], {"eems-success": 6})
        self.assertEqual(dom.groups["ex14.fabrikam.local"],
                         {"eems-error": 19, "eems-success": 6, "indicator": 5})

    def test_sorting(self):
        def order(dom):
            return [row["attrs"]["data-host"] for row in dom.rows]

        dom = self.render("#sort=host:desc")
        self.assertEqual(dom.body.get("data-sorted"), "host:desc")
        self.assertEqual(order(dom), sorted(self.want, reverse=True))
        # Most indicator hits first.
        dom = self.render("#sort=indicators:desc")
        counts = [sum(self.want[h]["indicators"].values()) for h in order(dom)]
        self.assertEqual(counts, sorted(counts, reverse=True))
        self.assertEqual(order(dom)[0], "ex14.fabrikam.local")
        # EEMS ascending: failing first (earliest failure first), then no
        # events, then working.
        dom = self.render("#sort=eems")
        rank = {"failing": 0, "no EEMS events": 1, "working": 2}
        states = [rank[self.want[h]["state"]] for h in order(dom)]
        self.assertEqual(states, sorted(states))
        self.assertEqual(order(dom)[:2], ["ex11.fabrikam.local", "ex14.fabrikam.local"])
        # Builds compare as numbers (15.2.1544 after 15.1.2375), hosts
        # without a build first.
        dom = self.render("#sort=build")
        builds = [self.want[h]["build"] for h in order(dom)]
        self.assertEqual(builds[-2:], ["15.1.2375.37", "15.2.1544.14"])

    def test_screenshot(self):
        png = os.path.join(self.dir, "fleet_report.png")
        if os.path.exists(png):
            os.remove(png)
        r = chromium("--virtual-time-budget=3000", "--window-size=1280,900",
                     "--screenshot=" + png, "file://" + os.path.abspath(self.report))
        self.assertEqual(r.returncode, 0, r.stderr.decode()[-2000:])
        with open(png, "rb") as f:
            head = f.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        self.assertEqual((width, height), (1280, 900))
        print(f"\nscreenshot: {png}", file=sys.stderr)


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__], ("--binary", "--artifacts"))
