#!/usr/bin/env python3
"""Validates rule files against schemas/rule.schema.json (JSON Schema 2020-12).

Usage: validate_rules.py [--expect-invalid] SCHEMA PATH...
  PATH: rule files or directories of .yaml/.yml/.json files.
Prints one line per schema violation and exits 1 if any; exits 0 with
"N files valid". With --expect-invalid, every file must fail the schema
instead: exits 0 with "N files invalid", else names the ones that passed.
Run by detect_test (ShippedRulesTest.*Schema*).
"""
import json
import pathlib
import sys

import jsonschema
import yaml


def rule_files(path):
    p = pathlib.Path(path)
    if p.is_dir():
        return sorted(f for f in p.rglob("*") if f.suffix.lower() in (".yaml", ".yml", ".json"))
    return [p]


def main(argv):
    expect_invalid = len(argv) > 1 and argv[1] == "--expect-invalid"
    if expect_invalid:
        argv = argv[:1] + argv[2:]
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    schema = json.loads(pathlib.Path(argv[1]).read_text())
    validator_class = jsonschema.Draft202012Validator
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    bad = 0
    passed = []
    files = [f for path in argv[2:] for f in rule_files(path)]
    for f in files:
        text = f.read_text()
        docs = [json.loads(text)] if f.suffix.lower() == ".json" else [
            d for d in yaml.safe_load_all(text) if d is not None]
        file_errors = 0
        for doc in docs:
            for error in validator.iter_errors(doc):
                file_errors += 1
                if not expect_invalid:
                    where = "/".join(str(p) for p in error.absolute_path)
                    print(f"{f}: /{where}: {error.message}")
        bad += file_errors
        if file_errors == 0:
            passed.append(f)
    if expect_invalid:
        for f in passed:
            print(f"{f}: valid, but expected to be invalid")
        if passed:
            return 1
        print(f"{len(files)} files invalid")
        return 0
    if bad:
        return 1
    print(f"{len(files)} files valid")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
