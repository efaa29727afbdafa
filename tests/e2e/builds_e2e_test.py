#!/usr/bin/env python3
"""End-to-end tests of Exchange build knowledge through the real binary:
`eventsift builds check|list` and the `exchange` fields of scan's alerts with
an inventory (docs/exchange-builds.md).

Expected classes are computed here from the build list's own rows: a listed
build is older than, exactly, or newer than the March 2023 SU by its release
date against the date of the rows marked "Mar23 SU" (docs/domain.md section
2: 2023-03-14), not from the program's output.

Usage: builds_e2e_test.py --binary build/release/bin/eventsift [unittest args]
"""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402

BINARY = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILDS = os.path.join(ROOT, "data", "exchange-builds.csv")
DATA = os.path.join("tests", "data", "json")
MARCH_2023 = "2023-03-14"  # docs/domain.md section 2, KB5024296


def run(*args, env=None):
    full_env = dict(os.environ)
    full_env.pop("EVENTSIFT_BUILDS", None)
    full_env.update(env or {})
    return subprocess.run([BINARY, *args], cwd=ROOT, capture_output=True, timeout=120,
                          env=full_env)


def rows():
    with open(BUILDS, newline="") as f:
        lines = [line for line in f if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines))


def expected_status(released):
    if released < MARCH_2023:
        return "outdated"
    return "borderline" if released == MARCH_2023 else "current"


def validate(test, ndjson_bytes):
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "validate_alerts.py"), "-"],
                       input=ndjson_bytes, capture_output=True, cwd=ROOT)
    test.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())


class BuildsCheckTest(unittest.TestCase):
    def test_every_listed_build_json(self):
        data = rows()
        self.assertGreater(len(data), 100)
        self.assertEqual({r["released"] for r in data if r["update"] == "Mar23 SU"}, {MARCH_2023})
        r = run("builds", "check", "--format", "json", *[row["build"] for row in data])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        got = json.loads(r.stdout)
        self.assertEqual(len(got), len(data))
        for row, g in zip(data, got):
            with self.subTest(build=row["build"]):
                status = expected_status(row["released"])
                self.assertEqual(g["version"], row["build"])
                self.assertEqual(g["status"], status)
                self.assertEqual(g["older_than_march_2023"], status == "outdated")
                self.assertEqual(g["eems_mitigations"], "no" if status == "outdated" else "yes")
                self.assertEqual(g["release_date"], row["released"])
                name = " ".join(x for x in (row["product"], row["cu"], row["update"]) if x)
                self.assertEqual(g["product"], name)
                self.assertTrue(g["reason"])
                self.assertTrue(g["remediation"])

    def test_text_output_for_the_issue_examples(self):
        r = run("builds", "check", "15.2.1118.20", "15.01.2507.023",
                "Version 15.1 (Build 2507.6)", "15.02.2562.017", "15.2.922.7")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        out = r.stdout.decode()
        blocks = out.split("\n15.")
        self.assertEqual(len(blocks), 5, out)
        # 15.2.1118.20 is E2019 CU12 Nov22 SU (2022-11-08): older.
        self.assertIn("Exchange Server 2019 CU12 Nov22 SU", blocks[0])
        self.assertIn("older than the March 2023 SU", blocks[0])
        self.assertIn("EEMS mitigations: no", blocks[0])
        # 15.1.2507.23 is the Mar23 SU: borderline, and the ambiguity is said.
        self.assertIn("1.2507.23\n", blocks[1])
        self.assertIn("March 2023 SU exactly (borderline)", blocks[1])
        self.assertIn("March 2023 or later", blocks[1])
        # AdminDisplayVersion names the CU only.
        self.assertIn("indeterminate", blocks[2])
        self.assertIn("EEMS mitigations: unknown", blocks[2])
        self.assertIn("ExSetup.exe", blocks[2])
        self.assertIn("Exchange Server SE RTM", blocks[3])
        self.assertIn("newer than the March 2023 SU", blocks[3])
        self.assertIn("pre-EEMS", blocks[4])
        self.assertIn("EEMS mitigations: no", blocks[4])

    def test_unlisted_build_is_placed_and_says_so(self):
        r = run("builds", "check", "--format", "json", "15.1.2507.99", "15.1.2507.22")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        later, before = json.loads(r.stdout)
        self.assertEqual(later["status"], "current")
        self.assertIsNone(later["release_date"])
        self.assertIn("not in the build list", later["reason"])
        self.assertEqual(before["status"], "outdated")
        self.assertIn("not in the build list", before["reason"])

    def test_malformed_versions_exit_3_and_name_the_string(self):
        bad = ["", "15", "15.1.x.2", "16.0.1.1", "15.1.99999999999.1", "junk"]
        r = run("builds", "check", "--format", "json", "15.2.1118.26", *bad)
        self.assertEqual(r.returncode, 3, r.stderr.decode())
        got = json.loads(r.stdout)
        self.assertEqual(got[0]["status"], "borderline")  # the good one is still printed
        err = r.stderr.decode()
        for s, g in zip(bad, got[1:]):
            with self.subTest(version=s):
                self.assertEqual(g["input"], s)
                self.assertIn(f'"{s}" is not an Exchange version', g["error"])
                self.assertIn(f'"{s}" is not an Exchange version', err)

    def test_usage_errors_and_help(self):
        self.assertEqual(run("builds").returncode, 2)
        self.assertEqual(run("builds", "check").returncode, 2)
        self.assertEqual(run("builds", "frobnicate").returncode, 2)
        self.assertEqual(run("builds", "check", "--format", "xml", "15.2.1118.26").returncode, 2)
        self.assertEqual(run("builds", "list", "15.2.1118.26").returncode, 2)
        h = run("builds", "--help")
        self.assertEqual(h.returncode, 0)
        self.assertIn("Examples:", h.stdout.decode())
        self.assertIn("builds", run("--help").stdout.decode())

    def test_list_prints_every_row(self):
        r = run("builds", "list", "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        got = json.loads(r.stdout)
        self.assertEqual([g["build"] for g in got], [row["build"] for row in rows()])
        t = run("builds", "list")
        self.assertEqual(t.returncode, 0)
        self.assertIn(f"{len(got)} builds from", t.stdout.decode())

    def test_missing_and_broken_build_lists(self):
        with tempfile.TemporaryDirectory() as tmp:
            missing = os.path.join(tmp, "none.csv")
            r = run("builds", "check", "--builds", missing, "15.2.1118.26")
            self.assertEqual(r.returncode, 2)
            self.assertIn(missing, r.stderr.decode())
            broken = os.path.join(tmp, "broken.csv")
            with open(broken, "w") as f:
                f.write("product,cu,update,build,released,kb,source\n"
                        "Exchange Server 2019,CU12,,15.2.1118.7,2022-04-20,,x\n"
                        "Exchange Server 2019,CU12,Mar23 SU,15.2.1118.26,14/03/2023,,x\n")
            r = run("builds", "check", "--builds", broken, "15.2.1118.26")
            self.assertEqual(r.returncode, 2)
            self.assertIn(f"{broken}:3", r.stderr.decode())
            self.assertIn("YYYY-MM-DD", r.stderr.decode())
            # $EVENTSIFT_BUILDS is the override when --builds is not given.
            r = run("builds", "check", "15.2.1118.26", env={"EVENTSIFT_BUILDS": broken})
            self.assertEqual(r.returncode, 2)
            self.assertIn(f"{broken}:3", r.stderr.decode())

    def test_a_custom_build_list_changes_the_answer(self):
        # The list is data: a row added to a copy is used without a rebuild.
        with tempfile.TemporaryDirectory() as tmp:
            custom = os.path.join(tmp, "builds.csv")
            with open(BUILDS) as src, open(custom, "w") as dst:
                dst.write(src.read())
                dst.write("Exchange Server 2019,CU12,Dec23 SU,15.2.1118.44,2023-12-12,,test\n")
            r = run("builds", "check", "--format", "json", "--builds", custom, "15.2.1118.44")
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            got = json.loads(r.stdout)[0]
            self.assertEqual(got["product"], "Exchange Server 2019 CU12 Dec23 SU")
            self.assertEqual(got["release_date"], "2023-12-12")

    def test_installed_layout_is_found_next_to_the_binary(self):
        # <prefix>/bin/eventsift reads <prefix>/share/eventsift/exchange-builds.csv
        # (what `cmake --install` lays out) before the source tree's copy.
        with tempfile.TemporaryDirectory() as prefix:
            os.makedirs(os.path.join(prefix, "bin"))
            os.makedirs(os.path.join(prefix, "share", "eventsift"))
            exe = os.path.join(prefix, "bin", "eventsift")
            try:
                os.link(BINARY, exe)
            except OSError:
                shutil.copy(BINARY, exe)
            installed = os.path.join(prefix, "share", "eventsift", "exchange-builds.csv")
            with open(BUILDS) as src, open(installed, "w") as dst:
                dst.write(src.read().replace("CU12,Nov22 SU,", "CU12,Nov22 SU installed,"))
            r = subprocess.run([exe, "builds", "check", "--format", "json", "15.2.1118.20"],
                               capture_output=True, timeout=60,
                               env={k: v for k, v in os.environ.items()
                                    if k != "EVENTSIFT_BUILDS"})
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertEqual(json.loads(r.stdout)[0]["product"],
                             "Exchange Server 2019 CU12 Nov22 SU installed")


class ScanInventoryTest(unittest.TestCase):
    def scan_hosts(self, inventory):
        r = run("scan", "--inventory", inventory, DATA)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        validate(self, r.stdout)
        return {a["host"]: a["exchange"] for a in
                (json.loads(line) for line in r.stdout.decode().splitlines() if line.strip())}

    def test_json_inventory_sets_source_and_classification(self):
        with tempfile.TemporaryDirectory() as tmp:
            inv = os.path.join(tmp, "inv.json")
            with open(inv, "w") as f:
                # Line 2: ex02 on the Mar23 SU of E2019 CU12 (borderline);
                # line 3: ex01 on Jun23 SU of E2016 CU23, higher than the
                # 15.1.2507.16 its Watson event reveals, so the inventory wins.
                f.write('[\n'
                        ' {"Name": "EX02.contoso.com", "AdminDisplayVersion": "15.02.1118.026"},\n'
                        ' {"host": "ex01.contoso.com", "build": "15.1.2507.27"}\n'
                        ']\n')
            hosts = self.scan_hosts(inv)
        self.assertIn("ex02.contoso.com", hosts)
        ex02 = hosts["ex02.contoso.com"]
        self.assertEqual(ex02["source"], f"inventory {inv}:2")
        self.assertEqual(ex02["version"], "15.2.1118.26")
        self.assertEqual(ex02["status"], "borderline")
        self.assertEqual(ex02["eems_mitigations"], "yes")
        self.assertIn("March 2023 or later", ex02["reason"])
        self.assertEqual(ex02["release_date"], MARCH_2023)
        ex01 = hosts["ex01.contoso.com"]
        self.assertEqual(ex01["source"], f"inventory {inv}:3")
        self.assertEqual(ex01["status"], "current")
        self.assertEqual(ex01["eems_mitigations"], "yes")

    def test_without_inventory_the_event_build_is_used(self):
        r = run("scan", DATA)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        alerts = [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]
        ex01 = next(a["exchange"] for a in alerts if a["host"] == "ex01.contoso.com")
        # 15.1.2507.16 is E2016 CU23 Nov22 SU (2022-11-08): older than Mar23.
        self.assertTrue(ex01["source"].startswith("event MSExchange Common 4999 at "))
        self.assertEqual(ex01["status"], expected_status("2022-11-08"))
        self.assertEqual(ex01["eems_mitigations"], "no")

    def test_bad_json_inventory_names_file_and_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            inv = os.path.join(tmp, "inv.json")
            with open(inv, "w") as f:
                f.write('[\n {"host": "EX01", "build": "15.1.2507.23"},\n'
                        ' {"host": "EX02", "build": "15.1.x.2"}\n]\n')
            r = run("scan", "--inventory", inv, DATA)
        self.assertEqual(r.returncode, 2)  # docs/cli.md: a bad inventory is a usage error
        err = r.stderr.decode()
        self.assertIn(f"{inv}:3", err)
        self.assertIn('"15.1.x.2" is not an Exchange version', err)
        self.assertEqual(r.stdout, b"")

    def test_csv_inventory_still_works(self):
        with tempfile.TemporaryDirectory() as tmp:
            inv = os.path.join(tmp, "inv.csv")
            with open(inv, "w") as f:
                f.write('"Name","AdminDisplayVersion"\n"EX02","Version 15.2 (Build 1258.12)"\n')
            hosts = self.scan_hosts(inv)
        ex02 = hosts["ex02.contoso.com"]
        self.assertEqual(ex02["source"], f"inventory {inv}:2")
        self.assertEqual(ex02["status"], "current")  # E2019 CU13 shipped after March 2023

    def test_scan_stops_at_start_without_a_build_list(self):
        # The list is loaded before any input is read: a missing one (from
        # $EVENTSIFT_BUILDS or --builds) is a usage error naming the file,
        # and no alert is written.
        missing = os.path.join(ROOT, "nonexistent-builds.csv")
        for r in (run("scan", DATA, env={"EVENTSIFT_BUILDS": missing}),
                  run("scan", "--builds", missing, DATA)):
            self.assertEqual(r.returncode, 2)
            self.assertIn(missing, r.stderr.decode())
            self.assertEqual(r.stdout, b"")

    def test_scan_builds_flag_uses_the_given_list(self):
        # ex01's Watson build 15.1.2507.16 is E2016 CU23 Nov22 SU in the shipped
        # list. In a copy where that row is relabelled, the alert names the
        # copy's product: scan classified with the list it was given.
        with tempfile.TemporaryDirectory() as tmp:
            custom = os.path.join(tmp, "builds.csv")
            with open(BUILDS) as src:
                text = src.read()
            lines = [l for l in text.splitlines() if ",15.1.2507.16," in l]
            self.assertEqual(len(lines), 1, "15.1.2507.16 must be one row of the shipped list")
            relabelled = lines[0].replace("Nov22 SU", "Test SU")
            with open(custom, "w") as dst:
                dst.write(text.replace(lines[0], relabelled))
            r = run("scan", "--builds", custom, DATA)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        alerts = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
        ex01 = next(a["exchange"] for a in alerts if a["host"] == "ex01.contoso.com")
        self.assertIn("Test SU", ex01["product"])
        self.assertEqual(ex01["eems_mitigations"], "no")


if __name__ == "__main__":
    e2e_args.main(sys.modules[__name__])
