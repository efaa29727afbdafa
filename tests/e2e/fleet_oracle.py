"""The fleet the scan should report, derived without detect/, correlate/ or
report/: the inputs are decoded with `eventsift dump --format jsonl` (the
decoders are tested against their own oracles) and the rules' documented
conditions are applied here in Python, from domain.md: the EEMS 1008 text
(section 1), 1005/1006 successes, the Sigma keyword logic over the whole
event (section 4), the build rules and the Watson build field (section 2).
Shared by fleet_e2e_test.py and fleet_report_test.py.
"""

import datetime as dt
import json
import re
import subprocess

EEMS_TEXT = re.compile(
    r"(?i)fetching mitigations|untrusted endpoint|certificate|trust relationship|not deemed safe")
WATSON_BUILD = re.compile(r"c-RTL-AMD64, (\d+)\.(\d+)\.(\d+)\.(\d+),")


def _all(text, *words):
    return all(w in text for w in words)


def _any(text, *words):
    return any(w in text for w in words)


# Sigma's keywords, case-insensitive over the whole event (domain.md section 4).
INDICATORS = {
    "proxyshell_mailbox_export": lambda t: _all(t, "new-mailboxexportrequest", " -mailbox ") and
    _any(t, '-filepath "\\\\', ".aspx"),
    "proxyshell_mailbox_import_export_role": lambda t: _all(
        t, "new-managementroleassignment", ' -role "mailbox import export"', " -user "),
    "proxyshell_remove_mailbox_export": lambda t: _all(
        t, "remove-mailboxexportrequest", " -identity ", ' -confirm "false"'),
    "proxyshell_certificate_generation": lambda t: _all(
        t, "new-exchangecertificate", " -generaterequest", " -binaryencoded", " -requestfile") and
    _any(t, "\\\\localhost\\c$", "\\\\127.0.0.1\\c$", "c:\\inetpub", ".aspx"),
    "proxylogon_oab_virtual_directory": lambda t: _all(t, "oabvirtualdirectory", " -externalurl ") and
    _any(t, "eval(request", "http://f/<script", '"unsafe"};', "function page_load()"),
}


def normalize(name):
    return name.strip().lstrip("\\").rstrip(".").lower()


def classify(major, minor, build, rev):
    """domain.md section 2: older than March 2023 or not."""
    if major != 15 or minor not in (1, 2):
        return "unknown"
    if (minor == 1 and build < 2375) or (minor == 2 and build < 986):
        return "no EEMS (pre-2021)"
    old = ((minor == 1 and (build < 2507 or (build == 2507 and rev < 23))) or
           (minor == 2 and ((build == 986 and rev < 42) or (build == 1118 and rev < 26))))
    if old:
        return "OUTDATED (<Mar 2023)"
    if (minor, build, rev) in [(1, 2507, 23), (2, 986, 42), (2, 1118, 26)]:
        return "Mar 2023 SU (borderline)"
    return "current"


def fmt_time(t):
    return t.replace(".0000000Z", "Z").split(".")[0].rstrip("Z") + "Z"


def expected_fleet(binary, root, paths, inventory=()):
    """Rows by host key. `inventory` is what `--inventory` lists: (host as
    written, (major, minor, build, revision)) pairs. Its hosts are rows too,
    matched to log hosts by the same key; the highest build of a host wins."""
    r = subprocess.run([binary, "dump", "--format", "jsonl", *paths], cwd=root,
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    events = [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]
    # The names the scan resolves hosts among: those of Exchange events and
    # of the inventory.
    names = {normalize(e["computer"]) for e in events if e["provider"].startswith("MSExchange")}
    names |= {normalize(host) for host, _ in inventory}

    def key(name):
        n = normalize(name)
        if "." not in n:
            fqdns = [f for f in names if "." in f and f.split(".")[0] == n]
            if len(fqdns) == 1:
                return fqdns[0]
        return n

    fleet = {}
    for e in events:
        if e["provider"].startswith("MSExchange"):
            fleet.setdefault(key(e["computer"]), dict(errors=[], successes=[], indicators={},
                                                      build=None, in_logs=True))
    for host, version in inventory:
        h = fleet.setdefault(key(host), dict(errors=[], successes=[], indicators={}, build=None,
                                             in_logs=False))
        h["build"] = max(h["build"] or version, version)
    for e in events:
        k = key(e["computer"])
        if k not in fleet:
            continue
        h = fleet[k]
        values = [e.get("message", "")] + list(e["data"].values())
        text = " ".join(values).lower()
        prov, eid, ch = e["provider"].lower(), e["event_id"], e["channel"].lower()
        if prov == "msexchange mitigation service" and ch == "application":
            if eid == 1008 and e["level"] == 2 and any(EEMS_TEXT.search(v) for v in values):
                h["errors"].append(e["time"])
            if eid in (1005, 1006):
                h["successes"].append(e["time"])
        if prov == "msexchange cmdletlogs" and ch == "msexchange management":
            for rule, pred in INDICATORS.items():
                if pred(text):
                    h["indicators"][rule] = h["indicators"].get(rule, 0) + 1
        if (prov == "msexchange unified messaging" and ch == "application" and e["level"] == 2 and
                "system.invalidcastexception" in text):
            rule = "proxylogon_cve_2021_26857_unified_messaging"
            h["indicators"][rule] = h["indicators"].get(rule, 0) + 1
        if prov == "msexchange common" and eid == 4999:
            m = WATSON_BUILD.search(" ".join(values))
            if m:
                v = tuple(int(x) for x in m.groups())
                if h["build"] is None or v > h["build"]:
                    h["build"] = v
    rows = {}
    for k, h in fleet.items():
        errors, successes = sorted(h["errors"]), sorted(h["successes"])
        last_success = successes[-1] if successes else None
        after = [t for t in errors if last_success is None or t > last_success]
        # A rule hit on an inventory host shows its logs were scanned too.
        h["in_logs"] = h["in_logs"] or bool(errors or successes or h["indicators"])
        if not h["in_logs"]:
            eems, state = "no Exchange events in the scanned logs", "not in logs"
        elif not errors and not successes:
            eems, state = "no EEMS events", "no EEMS events"
        elif after:
            eems = "failing since %s (%d error%s)" % (fmt_time(after[0]), len(errors),
                                                      "" if len(errors) == 1 else "s")
            state = "failing"
        else:
            state = "working"
            eems = ("working (%d earlier error%s)" % (len(errors), "" if len(errors) == 1 else "s")
                    if errors else "working (%d success%s)" % (len(successes),
                                                               "" if len(successes) == 1 else "es"))
        b = h["build"]
        rows[k] = dict(
            host=k,
            build="%d.%d.%d.%d" % b if b else "-",
            status=classify(*b) if b else "unknown",
            # domain.md: EEMS needs the March 2023 SU (borderline counts as yes).
            mitigations={"current": "yes", "Mar 2023 SU (borderline)": "yes",
                         "OUTDATED (<Mar 2023)": "no", "no EEMS (pre-2021)": "no"}.get(
                             classify(*b) if b else "unknown", "unknown"),
            eems=eems, state=state,
            in_logs=h["in_logs"],
            last_success=("-" if state in ("no EEMS events", "not in logs") else
                          fmt_time(last_success) if last_success else "never"),
            indicators=dict(sorted(h["indicators"].items())),
            indicator_text=(", ".join("%s x%d" % kv for kv in sorted(h["indicators"].items()))
                            or "-"))
    return rows
