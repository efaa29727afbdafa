#!/usr/bin/env python3
"""schemas/config.schema.json accepts deploy/eventsift.yaml and rejects
configs the daemon rejects. Exit 77 (skipped) without python3-jsonschema."""
import copy
import json
import os
import sys

try:
    import jsonschema
    import yaml
except ImportError:
    print("python3-jsonschema or python3-yaml missing: skipped")
    sys.exit(77)

root = sys.argv[1] if len(sys.argv) > 1 else "."
schema = json.load(open(os.path.join(root, "schemas/config.schema.json")))
example = yaml.safe_load(open(os.path.join(root, "deploy/eventsift.yaml")))
jsonschema.validate(example, schema)

bad_cases = {
    "unknown top-level key": {"checkpoint_interval": 5},
    "tcp port out of range": {"sources": [{"name": "n", "type": "tcp", "port": 70000}]},
    "syslog without port": {"sources": [{"name": "n", "type": "syslog"}]},
    "directory max_decompressed_bytes too small": {"sources": [{"name": "d", "type": "directory", "path": "/x", "max_decompressed_bytes": 10}]},
    "directory without path": {"sources": [{"name": "d", "type": "directory"}]},
    "key of another source type": {"sources": [{"name": "s", "type": "stdin", "port": 1}]},
    "kafka sink without topic": {"sinks": [{"type": "kafka", "brokers": "b:9092"}]},
    "bad log format": {"log": {"format": "xml"}},
    "events overflow neither block nor drop": {"events": {"type": "file", "path": "e", "overflow": "x"}},
    "kafka events without brokers": {"events": {"type": "kafka", "topic": "t"}},
    "unknown record_ids key": {"record_ids": {"window": 5}},
    "metrics port out of range": {"metrics": {"address": "127.0.0.1:99999"}},
    "metrics port with letters": {"metrics": {"address": "127.0.0.1:12ab"}},
    "metrics port 0": {"metrics": {"address": "127.0.0.1:0"}},
    "http backpressure status not 429 or 503": {"sources": [{"name": "h", "type": "http", "port": 1, "backpressure_status": 500}]},
    "http without port": {"sources": [{"name": "h", "type": "http"}]},
    "relp without port": {"sources": [{"name": "r", "type": "relp"}]},
    "relp with a tcp-only key": {"sources": [{"name": "r", "type": "relp", "port": 1, "max_connections": 5}]},
    "relp tls min_version (not applied by librelp)": {"sources": [{"name": "r", "type": "relp", "port": 1, "tls": {"cert_file": "c", "key_file": "k", "min_version": "1.3"}}]},
    "negative tcp idle timeout": {"sources": [{"name": "n", "type": "tcp", "port": 1, "idle_timeout_ms": -1}]},
}
failures = 0
for name, patch in bad_cases.items():
    doc = copy.deepcopy(example)
    doc.update(patch)
    try:
        jsonschema.validate(doc, schema)
        print(f"FAIL: accepted {name}")
        failures += 1
    except jsonschema.ValidationError:
        pass
print(f"example valid; {len(bad_cases) - failures}/{len(bad_cases)} bad configs rejected")
sys.exit(1 if failures else 0)
