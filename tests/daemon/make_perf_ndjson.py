#!/usr/bin/env python3
"""Writes the Winlogbeat-shaped NDJSON inputs of docs/scaling.md.

  make_perf_ndjson.py mixed 400000 > events.ndjson  # 1 % EEMS 1008 hits
  make_perf_ndjson.py hits 100000 > hits.ndjson     # every event a hit
"""
import datetime
import json
import sys

T0 = 1714557600  # 2024-05-01T10:00:00Z
EEMS_MESSAGE = ("An unexpected exception occurred. Diagnostic information: "
                "Exception encountered while fetching mitigations.")


def event(i, hit):
    ts = datetime.datetime.fromtimestamp(T0 + i * 2, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    host = "EX%03d.contoso.com" % (i % 200)
    if hit:
        return {"@timestamp": ts, "message": EEMS_MESSAGE, "log": {"level": "error"},
                "winlog": {"channel": "Application", "event_id": "1008",
                           "provider_name": "MSExchange Mitigation Service",
                           "computer_name": host, "record_id": i + 1}}
    return {"@timestamp": ts,
            "message": "The Microsoft Exchange Transport service processed a message for delivery "
                       "to the mailbox database. Queue length %d." % (i % 50),
            "log": {"level": "information"},
            "winlog": {"channel": "Application", "event_id": str(1000 + i % 40),
                       "provider_name": "MSExchangeTransport", "computer_name": host,
                       "record_id": i + 1, "event_data": {"param1": "value %d" % i, "param2": "Queue"}}}


def main():
    kind, n = sys.argv[1], int(sys.argv[2])
    out = sys.stdout
    for i in range(n):
        out.write(json.dumps(event(i, kind == "hits" or i % 100 == 0)) + "\n")


if __name__ == "__main__":
    main()
