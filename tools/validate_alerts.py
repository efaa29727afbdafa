#!/usr/bin/env python3
"""Validate an NDJSON file of eventsift alerts against schemas/alert.schema.json.

Usage: validate_alerts.py [--schema PATH] [--quiet] [FILE ...]
Reads standard input when no FILE (or "-") is given. Every non-empty line must
be one alert object. Prints one line per failure, "FILE:LINE: message", and
exits 1 when any line fails, 2 on usage or I/O errors, 0 otherwise. Format
checking is on (date-time, ...), as the e2e and Kafka tests rely on it.
"""

import argparse
import json
import os
import re
import sys

try:
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover - depends on the host
    sys.stderr.write("validate_alerts.py: needs python3-jsonschema\n")
    sys.exit(2)

DEFAULT_SCHEMA = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), os.pardir, "schemas", "alert.schema.json")

# RFC 3339 date-time, used only when jsonschema has no date-time checker
# (it needs the optional rfc3339-validator package); without it the "format"
# keyword would pass anything silently.
_RFC3339 = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)"
    r"(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$")


def make_format_checker():
    checker = Draft202012Validator.FORMAT_CHECKER
    if "date-time" not in checker.checkers:
        @checker.checks("date-time")
        def _is_date_time(instance):  # noqa: ANN001
            return not isinstance(instance, str) or bool(_RFC3339.match(instance))
    return checker


def validate_stream(validator, name, stream, quiet):
    """Returns (lines checked, failures)."""
    checked = failures = 0
    for number, raw in enumerate(stream, start=1):
        line = raw.strip()
        if not line:
            continue
        checked += 1
        try:
            alert = json.loads(line)
        except json.JSONDecodeError as err:
            failures += 1
            print(f"{name}:{number}: not JSON: {err}")
            continue
        errors = sorted(validator.iter_errors(alert), key=lambda e: list(e.absolute_path))
        if errors:
            failures += 1
            for err in errors:
                path = "/".join(str(p) for p in err.absolute_path) or "(root)"
                print(f"{name}:{number}: {path}: {err.message}")
    if not quiet:
        print(f"{name}: {checked} alert(s) checked, {failures} invalid", file=sys.stderr)
    return checked, failures


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", default=["-"], help="NDJSON files; - is stdin")
    parser.add_argument("--schema", default=DEFAULT_SCHEMA, help="alert schema (JSON)")
    parser.add_argument("--quiet", action="store_true", help="no summary on stderr")
    args = parser.parse_args(argv)

    try:
        with open(args.schema, encoding="utf-8") as f:
            schema = json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        print(f"validate_alerts.py: cannot load schema {args.schema}: {err}", file=sys.stderr)
        return 2
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=make_format_checker())

    total_failures = 0
    for name in args.files:
        try:
            if name == "-":
                _, failures = validate_stream(validator, "<stdin>", sys.stdin, args.quiet)
            else:
                with open(name, encoding="utf-8") as stream:
                    _, failures = validate_stream(validator, name, stream, args.quiet)
        except (OSError, UnicodeDecodeError) as err:
            print(f"validate_alerts.py: {name}: {err}", file=sys.stderr)
            return 2
        total_failures += failures
    return 1 if total_failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
