#!/usr/bin/env python3
"""Sigma rules through the real binary (docs/sigma.md).

1. SigmaHQ's regression tests (../shared/sigma/regression_data/**/info.yml):
   each names a rule id, its log (../shared/corpus/evtx/sigma_NAME.evtx, and
   the evtx_dump JSON of the same records ../shared/corpus/json/sigma_NAME.json)
   and, for most, the match count. The rule alone must fire on the EVTX and on
   the JSON with exactly that many matching events (sum of the alerts' counts),
   and also with every SigmaHQ Windows rule loaded at once.
2. The same records in the other JSON export shapes with field names
   (Winlogbeat, NXLog flat), built from the evtx_dump JSON by this test, fire
   the same rule the same number of times: the field mapping is one layer.
3. `rules check` on every SigmaHQ Windows rule: at least 99% load, and each
   refusal is printed with file, line and a reason.
4. The whole corpus with every SigmaHQ Windows rule loaded: no crash, and the
   alerts are exactly those reviewed in tests/data/sigma_corpus_review.tsv
   (rule id, host, file, true/false positive, reason).
Skipped, saying so, when ../shared is absent.

Usage: sigma_e2e_test.py --binary build/release/bin/eventsift [unittest args]
"""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_args  # noqa: E402

BINARY = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("EVENTSIFT_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
SIGMA = os.path.join(SHARED, "sigma")
CORPUS = os.path.join(SHARED, "corpus")
RULE_TREES = ["rules", "rules-emerging-threats", "rules-threat-hunting", "rules-placeholder",
              "rules-compliance"]


def run(*args, env=None):
    return subprocess.run([BINARY, *args], cwd=ROOT, capture_output=True, timeout=900, env=env)


def alerts_of(stdout):
    return [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]


def windows_rule_files():
    """Every rule file of the trees whose logsource says product: windows
    (rules/windows/ and the Windows rules of the other trees)."""
    out = []
    for tree in RULE_TREES:
        for path in glob.glob(os.path.join(SIGMA, tree, "**", "*.yml"), recursive=True):
            with open(path, encoding="utf-8") as f:
                if re.search(r"^\s+product: *windows\s*$", f.read(), re.M):
                    out.append(path)
    return sorted(out)


_RULE_BY_ID = None


def rule_file_by_id(rule_id):
    global _RULE_BY_ID
    if _RULE_BY_ID is None:
        _RULE_BY_ID = {}
        for tree in RULE_TREES:
            for path in glob.glob(os.path.join(SIGMA, tree, "**", "*.yml"), recursive=True):
                with open(path, encoding="utf-8") as f:
                    m = re.search(r"^id: *([0-9a-fA-F-]+)", f.read(), re.M)
                if m:
                    _RULE_BY_ID[m.group(1)] = path
    return _RULE_BY_ID.get(rule_id)


# Where info.yml's match_count disagrees with the specification's semantics
# on the very log it names: name -> (count we expect, why).
COUNT_OVERRIDES = {
    "file_event_win_anydesk_artefact": (
        3, "the log holds three Sysmon 11 events whose TargetFilename contains the rule's "
           "'\\AppData\\Roaming\\AnyDesk\\user.conf' (user.conf.new twice, "
           "user.conf~RF2d9c20d.TMP once); 'contains' matches each of them, and Chainsaw 2.16.4 "
           "reports the same 3 (info.yml says 1)"),
}


def regression_cases():
    """(name, rule id, match_count or None) per info.yml (COUNT_OVERRIDES
    applied)."""
    cases = []
    for info in sorted(glob.glob(os.path.join(SIGMA, "regression_data", "**", "info.yml"),
                                 recursive=True)):
        with open(info, encoding="utf-8") as f:
            text = f.read()
        rule_id = re.search(r"rule_metadata:\s*\n\s*- id: *([0-9a-fA-F-]+)", text).group(1)
        m = re.search(r"match_count: *(\d+)", text)
        name = os.path.basename(os.path.dirname(info))
        count = int(m.group(1)) if m else None
        if name in COUNT_OVERRIDES:
            count = COUNT_OVERRIDES[name][0]
        cases.append((name, rule_id, count))
    return cases


def matches_of(alerts, rule_id):
    return sum(a["count"] for a in alerts if a["rule"]["id"] == rule_id)


# --- the other JSON export shapes, from evtx_dump's ---------------------------

def evtx_dump_events(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    dec = json.JSONDecoder()
    i, out = 0, []
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        obj, i = dec.raw_decode(text, i)
        out.extend(obj if isinstance(obj, list) else [obj])
    return out


def flat(ev):
    """(system dict, event data dict) of an evtx_dump event."""
    s = ev["Event"]["System"]
    data = ev["Event"].get("EventData") or ev["Event"].get("UserData") or {}
    if isinstance(data, dict) and "Data" in data and isinstance(data["Data"], dict):
        data = {"Data": data["Data"].get("#text")}
    data = {k: v for k, v in (data or {}).items() if k != "#attributes"}
    prov = s["Provider"]["#attributes"]
    event_id = s["EventID"]
    if isinstance(event_id, dict):
        event_id = event_id["#text"]
    sysd = {
        "provider": prov.get("Name", ""), "event_id": int(event_id),
        "channel": s.get("Channel", ""), "computer": s.get("Computer", ""),
        "record_id": int(s.get("EventRecordID", 0)), "level": int(s.get("Level", 4) or 4),
        "time": s["TimeCreated"]["#attributes"]["SystemTime"],
        "version": int(s.get("Version", 0) or 0),
    }
    return sysd, {k: ("" if v is None else str(v) if not isinstance(v, str) else v)
                  for k, v in data.items() if not isinstance(v, (list, dict))}


def winlogbeat(ev):
    s, d = flat(ev)
    return {"@timestamp": s["time"], "event": {"code": str(s["event_id"]), "provider": s["provider"]},
            "winlog": {"channel": s["channel"], "computer_name": s["computer"],
                       "event_id": s["event_id"], "provider_name": s["provider"],
                       "record_id": s["record_id"], "event_data": d},
            "host": {"name": s["computer"]}, "log": {"level": "information"}}


def powershell(ev):
    """`Get-WinEvent | ConvertTo-Json` of the event (PowerShell 7: ISO time):
    EventData as unnamed Properties in template order."""
    s, _ = flat(ev)
    data = ev["Event"].get("EventData") or {}
    values = [v for k, v in data.items() if k != "#attributes"] if isinstance(data, dict) else []
    return {"Id": s["event_id"], "Version": s["version"], "Level": s["level"],
            "ProviderName": s["provider"], "LogName": s["channel"], "MachineName": s["computer"],
            "RecordId": s["record_id"], "TimeCreated": s["time"],
            "Properties": [{"Value": "" if v is None else v if isinstance(v, str) else json.dumps(v)}
                           for v in values]}


def nxlog(ev):
    s, d = flat(ev)
    out = {"EventTime": s["time"].replace("T", " ")[:19], "Hostname": s["computer"],
           "SourceName": s["provider"], "ProviderName": s["provider"], "EventID": s["event_id"],
           "Channel": s["channel"], "RecordNumber": s["record_id"], "SeverityValue": 2}
    out.update(d)
    return out


class NeedsShared(unittest.TestCase):
    """Skips, saying so, when ../shared's SigmaHQ rules or corpus are absent."""

    def setUp(self):
        if not os.path.isdir(SIGMA) or not os.path.isdir(CORPUS):
            self.skipTest(f"../shared/sigma or ../shared/corpus not found under {SHARED} "
                          "(set EVENTSIFT_SHARED)")


class SigmaRegressionTest(NeedsShared):
    def test_each_regression_test_fires_its_rule_from_evtx_and_json(self):
        cases = regression_cases()
        self.assertEqual(len(cases), 41)
        for name, rule_id, count in cases:
            rule = rule_file_by_id(rule_id)
            self.assertIsNotNone(rule, f"{name}: rule {rule_id} not in ../shared/sigma")
            for kind, ext in (("evtx", "evtx"), ("json", "json")):
                log = os.path.join(CORPUS, kind, f"sigma_{name}.{ext}")
                with self.subTest(case=name, input=kind):
                    r = run("scan", "--rules", rule, log)
                    self.assertEqual(r.returncode, 0, r.stderr.decode()[-2000:])
                    got = matches_of(alerts_of(r.stdout), rule_id)
                    if count is None:
                        self.assertGreaterEqual(got, 1)
                    else:
                        self.assertEqual(got, count, r.stderr.decode()[-1000:])

    def test_regression_logs_with_every_windows_rule_loaded(self):
        # One scan of all the regression logs with all SigmaHQ Windows rules:
        # each log's rule fires there too.
        cases = regression_cases()
        with tempfile.TemporaryDirectory() as tmp:
            rules_dir = linked_windows_rules(tmp)
            for kind in ("evtx", "json"):
                logs = [os.path.join(CORPUS, kind, f"sigma_{n}.{kind}") for n, _, _ in cases]
                r = run("scan", "--threads", "2", "--rules", rules_dir, *logs)
                self.assertEqual(r.returncode, 0, r.stderr.decode()[-2000:])
                alerts = alerts_of(r.stdout)
                for name, rule_id, count in cases:
                    with self.subTest(case=name, input=kind):
                        log = os.path.join(CORPUS, kind, f"sigma_{name}.{kind}")
                        got = sum(a["count"] for a in alerts if a["rule"]["id"] == rule_id and
                                  any(s["source"]["file"].endswith(os.path.basename(log))
                                      for s in a["samples"]))
                        self.assertGreaterEqual(got, 1)

    def test_other_json_shapes_fire_the_same_rule(self):
        for name, rule_id, count in regression_cases():
            rule = rule_file_by_id(rule_id)
            events = evtx_dump_events(os.path.join(CORPUS, "json", f"sigma_{name}.json"))
            # PowerShell's ConvertTo-Json keeps only unnamed Properties: the
            # decoder names them from data/event-fields.tsv (docs/json-exports.md).
            for shape, convert in (("winlogbeat", winlogbeat), ("nxlog", nxlog),
                                   ("powershell", powershell)):
                with self.subTest(case=name, shape=shape), tempfile.TemporaryDirectory() as tmp:
                    path = os.path.join(tmp, f"{name}.{shape}.ndjson")
                    with open(path, "w", encoding="utf-8") as f:
                        for ev in events:
                            f.write(json.dumps(convert(ev)) + "\n")
                    r = run("scan", "--rules", rule, path)
                    self.assertEqual(r.returncode, 0, r.stderr.decode()[-2000:])
                    got = matches_of(alerts_of(r.stdout), rule_id)
                    if count is None:
                        self.assertGreaterEqual(got, 1)
                    else:
                        self.assertEqual(got, count, r.stderr.decode()[-1000:])


REVIEW = os.path.join(ROOT, "tests", "data", "sigma_corpus_review.tsv")


def linked_windows_rules(tmp):
    rules_dir = os.path.join(tmp, "rules")
    os.mkdir(rules_dir)
    for i, path in enumerate(windows_rule_files()):
        os.symlink(path, os.path.join(rules_dir, f"{i:05d}_{os.path.basename(path)}"))
    return rules_dir


def corpus_alerts():
    """(rule id, host) -> (title, first sample's file name, count) of the
    alerts every SigmaHQ Windows rule raises on the whole corpus."""
    with tempfile.TemporaryDirectory() as tmp:
        r = run("scan", "--threads", "2", "--rules", linked_windows_rules(tmp), CORPUS)
    if r.returncode != 0:
        raise AssertionError(r.stderr.decode()[-3000:])
    out = {}
    for a in alerts_of(r.stdout):
        key = (a["rule"]["id"], a["host"])
        f = os.path.basename(a["samples"][0]["source"]["file"]) if a["samples"] else ""
        title, file, count = out.get(key, (a["rule"]["title"], f, 0))
        out[key] = (title, file, count + a["count"])
    return out, r.stderr.decode()


def read_review():
    rows = {}
    with open(REVIEW, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            rule_id, host, title, file, verdict, reason = line.rstrip("\n").split("\t")
            rows[(rule_id, host)] = (title, file, verdict, reason)
    return rows


class SigmaCorpusReviewTest(NeedsShared):

    def test_whole_corpus_alerts_are_the_reviewed_ones(self):
        got, stderr = corpus_alerts()
        self.assertRegex(stderr, r"eventsift scan: [1-9]\d* inputs \(0 unreadable\), "
                                 r"[1-9]\d{4,} events")
        review = read_review()
        for (rule_id, host), (title, file, verdict, reason) in review.items():
            self.assertIn(verdict, ("TP", "FP"), f"{rule_id} {host}")
            self.assertTrue(reason.strip(), f"{rule_id} {host}: no reason")
        missing = sorted(set(got) - set(review))
        extra = sorted(set(review) - set(got))
        self.assertEqual(missing, [], "alerts not in the review list")
        self.assertEqual(extra, [], "reviewed alerts no longer raised")


class SigmaLoadTest(NeedsShared):
    def test_at_least_99_percent_of_windows_rules_load(self):
        files = windows_rule_files()
        with tempfile.TemporaryDirectory() as tmp:
            r = run("rules", "check", linked_windows_rules(tmp))
        self.assertEqual(r.returncode, 0, r.stderr.decode()[-3000:])
        m = re.search(r"(\d+) rules OK \((\d+) eventsift, (\d+) Sigma\); (\d+) Sigma rules? refused",
                      r.stdout.decode())
        self.assertIsNotNone(m, r.stdout.decode())
        loaded, refused = int(m.group(3)), int(m.group(4))
        self.assertGreaterEqual(loaded + refused, len(files))
        self.assertGreaterEqual(loaded / (loaded + refused), 0.99,
                                r.stderr.decode()[-3000:])
        # Every refusal names file:line and a reason.
        for line in r.stderr.decode().splitlines():
            self.assertRegex(line, r"^\S+\.yml:\d+: sigma (rule|document)")


def write_review_draft(path):
    """Developer aid: the current alerts as review rows still to be judged
    (verdict and reason left as TODO); never used by the tests."""
    got, _ = corpus_alerts()
    old = read_review() if os.path.exists(REVIEW) else {}
    with open(path, "w", encoding="utf-8") as f:
        f.write("# rule_id\thost\ttitle\tfile\tverdict\treason\n")
        for (rule_id, host), (title, file, count) in sorted(got.items()):
            verdict, reason = old.get((rule_id, host), ("", "", "TODO", "TODO"))[2:]
            f.write(f"{rule_id}\t{host}\t{title}\t{file}\t{verdict}\t{reason}\n")


if __name__ == "__main__":
    if "--write-review-draft" in sys.argv:
        i = sys.argv.index("--write-review-draft")
        BINARY = os.path.abspath(sys.argv[sys.argv.index("--binary") + 1])
        write_review_draft(sys.argv[i + 1])
        sys.exit(0)
    e2e_args.main(sys.modules[__name__])
