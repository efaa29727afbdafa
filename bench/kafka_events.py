#!/usr/bin/python3
"""Inputs and measurements for bench/kafka_bench.sh (Debian's python3 only).

  kafka_events.py gen --count N --prefix P --out FILE
      N Winlogbeat EEMS 1008 events, each from its own host P<i>.bench.local,
      so each one makes exactly one alert (one window per host).
  kafka_events.py topic --brokers B --topic T [--partitions N] [--log-append-time]
      creates T (replication 1); with --log-append-time a message's
      timestamp is the broker's append time, which is when acks=all is
      answered on a one-node cluster, so no consumer timing is involved.
  kafka_events.py feed --file F --rate R --seconds S --hosts H --prefix P --log L [--tail T]
      appends R events/s to F for S seconds in 10 ms slices, round robin over
      hosts P0..P<H-1>, @timestamp = the slice's time; L gets "host<TAB>event
      unix ms<TAB>append unix ms" per event, the append time taken right after
      the write() that made it visible. Then T more seconds of events from
      hosts "pad<i>", not logged: they only move event time on, so the
      windows of the measured events can close.
  kafka_events.py latency --log L --alerts K
      K is kcat -f '%T\\t%s\\n' of the alert topic (broker timestamp, alert).
      Each event of L is matched to the alert of its host whose window holds
      it (an immediate alert and its follow-up are one alert). Prints "fed N
      in_alerts M missing X alerts A followups F bad_counts C duplicates D
      stray_hosts S alert_p50 .. alert_p99 .. p50 .. p99 .. max .. min ..
      after_close_p50 .. after_close_p99 .." (ms; alert_*: an alert's first
      message - append time of the event that raised it; p50/p99: per event,
      the first message counting it - its append time; after_close: from
      window end + --holdback-ms to the broker's ack of the alert's last
      message) and exits 1 unless every event is in exactly one alert whose
      final count is the number of events fed into its window.

The event is the first line of tests/data/json/winlogbeat.ndjson (a real
EEMS 1008 Winlogbeat export with its stack trace), so alerts carry realistic
samples; only host, record id and time change.
"""
import argparse
import bisect
import datetime
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, "..", "tests", "data", "json", "winlogbeat.ndjson")


def load_template():
    with open(TEMPLATE, encoding="utf-8") as f:
        event = json.loads(f.readline())
    assert event["winlog"]["event_id"] == "1008", "template is not the EEMS 1008 event"
    return event


def iso_ms(unix_ms):
    t = datetime.datetime.fromtimestamp(unix_ms / 1000, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{unix_ms % 1000:03d}Z"


class Renderer:
    """Renders the template with a host, record id and time per event; the
    constant parts are serialized once (json.dumps per event is too slow for
    10,000 events/s beside a compiling machine)."""

    def __init__(self):
        event = load_template()
        event["@timestamp"] = "@TS@"
        event["host"]["name"] = "@HOST@"
        event["winlog"]["computer_name"] = "@HOST@"
        event["winlog"]["record_id"] = 987654321
        del event["event"]["created"]
        text = json.dumps(event, separators=(",", ":"))
        text = text.replace("987654321", "@RID@")
        self.parts = []
        rest = text
        while rest:
            cut = min((rest.find(m) for m in ("@TS@", "@HOST@", "@RID@") if rest.find(m) >= 0),
                      default=-1)
            if cut < 0:
                self.parts.append(rest)
                break
            self.parts.append(rest[:cut])
            marker = rest[cut:rest.index("@", cut + 1) + 1]
            self.parts.append(marker)
            rest = rest[cut + len(marker):]

    def line(self, host, record_id, ts):
        values = {"@TS@": ts, "@HOST@": host, "@RID@": str(record_id)}
        return "".join(values.get(p, p) for p in self.parts) + "\n"


def cmd_gen(a):
    r = Renderer()
    base = int(time.time() * 1000)
    with open(a.out, "w", encoding="utf-8") as f:
        for i in range(a.count):
            f.write(r.line(f"{a.prefix}{i}.bench.local", i + 1, iso_ms(base + i)))
    return 0


def cmd_topic(a):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": a.brokers})
    config = {"message.timestamp.type": "LogAppendTime"} if a.log_append_time else {}
    topic = NewTopic(a.topic, a.partitions, 1, config=config)
    for f in admin.create_topics([topic], request_timeout=15).values():
        f.result()
    return 0


def cmd_feed(a):
    r = Renderer()
    per_slice = max(1, round(a.rate / 100))
    slices = int(a.seconds * 100)
    tail_slices = int(a.tail * 100)
    seq = 0
    late_slices = 0
    fd = os.open(a.file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    start = time.monotonic()
    with open(a.log, "w", encoding="utf-8") as log:
        for s in range(slices + tail_slices):
            due = start + s * 0.01
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            elif wait < -0.01:
                late_slices += 1
            now_ms = int(time.time() * 1000)
            ts = iso_ms(now_ms)
            prefix = a.prefix if s < slices else "pad"
            hosts = [f"{prefix}{(seq + i) % a.hosts}.bench.local" for i in range(per_slice)]
            data = "".join(r.line(h, seq + i + 1, ts) for i, h in enumerate(hosts))
            os.write(fd, data.encode())
            appended = int(time.time() * 1000)
            if s < slices:
                log.write("".join(f"{h}\t{now_ms}\t{appended}\n" for h in hosts))
            seq += per_slice
    os.close(fd)
    took = time.monotonic() - start
    print(f"fed {seq} events ({slices * per_slice} measured) from {a.hosts} hosts in {took:.2f} s "
          f"({seq / took:.0f}/s), {late_slices} of {slices + tail_slices} 10 ms slices late by "
          f"more than 10 ms", file=sys.stderr)
    return 0


def percentile(sorted_values, p):
    # Nearest rank: the smallest value with at least p% of values at or below it.
    k = max(0, -(-len(sorted_values) * p // 100) - 1)
    return sorted_values[int(k)]


def unix_ms(rfc3339):
    # "2026-11-23T13:21:45.4620000Z": eventsift writes 7 fraction digits.
    whole, frac = rfc3339.rstrip("Z").split(".")
    t = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S")
    t = t.replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1000 + int(frac[:3].ljust(3, "0"))


def cmd_latency(a):
    """Each fed event belongs to the one alert of its host whose window holds
    its time. Rules with `emit: immediate` (the default for threshold 1) send
    an alert as soon as its window reaches the threshold (revision 1, the
    count so far) and one follow-up (revision 2, same alert_id, final count)
    when the window closes with more events; window_end alerts come once.

    - alert latency, per alert: its first message's broker timestamp minus
      the append time of the event that made it (the window's first event, as
      the bench rule has threshold 1): how long until the SIEM knows;
    - event latency, per event: the broker timestamp of the first message
      whose count includes it (events in append order) minus its append time:
      how long until every event is accounted for.
    Every alert's final count must equal the events fed into its window, and
    every event must be in exactly one alert."""
    events = {}  # host -> [(event ms, append ms)]
    with open(a.log, encoding="utf-8") as f:
        for line in f:
            host, t, appended = line.rstrip("\n").split("\t")
            events.setdefault(host, []).append((int(t), int(appended)))
    messages = {}  # alert_id -> {revision: (host, start ms, end ms, count, broker ms)}
    duplicates = 0
    with open(a.alerts, encoding="utf-8") as f:
        for line in f:
            ts, _, value = line.rstrip("\n").partition("\t")
            if not value:
                continue
            alert = json.loads(value)
            revs = messages.setdefault(alert["alert_id"], {})
            rev = alert.get("revision", 0)
            if rev in revs:
                duplicates += 1
                continue
            w = alert["window"]
            revs[rev] = (alert["host"], unix_ms(w["start"]), unix_ms(w["end"]), alert["count"], int(ts))
    alerts = {}  # host -> [(start ms, end ms, final count, [(count, broker ms) by revision])]
    followups = 0
    for revs in messages.values():
        order = sorted(revs)
        followups += len(order) - 1
        host, start, end, final, _ = revs[order[-1]]
        alerts.setdefault(host, []).append((start, end, final, [(revs[r][3], revs[r][4]) for r in order]))
    lat, alert_lat = [], []
    uncovered = 0
    bad_counts = 0
    for host, evs in events.items():
        mine = sorted(alerts.get(host.lower(), []))
        starts = [m[0] for m in mine]
        in_alert = [[] for _ in mine]
        for t, appended in evs:
            k = bisect.bisect_right(starts, t) - 1
            if k < 0 or t >= mine[k][1]:
                uncovered += 1
                continue
            in_alert[k].append(appended)
        for k, m in enumerate(mine):
            got = sorted(in_alert[k])
            if m[2] != len(got):
                bad_counts += 1
            if got:
                alert_lat.append(m[3][0][1] - got[0])
            for i, appended in enumerate(got):
                ts = next((b for c, b in m[3] if c > i), m[3][-1][1])
                lat.append(ts - appended)
    stray = len([h for h in alerts if h not in {e.lower() for e in events}])
    fed = sum(len(v) for v in events.values())
    # From the moment the watermark let the window close (its end plus the
    # daemon's hold-back: longest rule window + allowed lateness, with event
    # time = append time) to the broker's ack of its last message.
    after_close = sorted(m[3][-1][1] - (m[1] + a.holdback_ms) for v in alerts.values() for m in v)
    lat.sort()
    alert_lat.sort()
    summary = (f"fed {fed} in_alerts {len(lat)} missing {uncovered} alerts {len(messages)} "
               f"followups {followups} bad_counts {bad_counts} duplicates {duplicates} stray_hosts {stray}")
    if alert_lat:
        summary += f" alert_p50 {percentile(alert_lat, 50)} alert_p99 {percentile(alert_lat, 99)}"
    if lat:
        summary += (f" p50 {percentile(lat, 50)} p99 {percentile(lat, 99)} max {lat[-1]} "
                    f"min {lat[0]}")
    if after_close:
        summary += (f" after_close_p50 {percentile(after_close, 50)} "
                    f"after_close_p99 {percentile(after_close, 99)}")
    print(summary)
    ok = lat and uncovered == 0 and bad_counts == 0 and duplicates == 0 and stray == 0
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--count", type=int, required=True)
    g.add_argument("--prefix", default="tp")
    g.add_argument("--out", required=True)
    t = sub.add_parser("topic")
    t.add_argument("--brokers", required=True)
    t.add_argument("--topic", required=True)
    t.add_argument("--partitions", type=int, default=3)
    t.add_argument("--log-append-time", action="store_true")
    f = sub.add_parser("feed")
    f.add_argument("--file", required=True)
    f.add_argument("--rate", type=float, default=10000)
    f.add_argument("--seconds", type=float, default=30)
    f.add_argument("--prefix", default="lat")
    f.add_argument("--log", required=True)
    f.add_argument("--tail", type=float, default=0)
    f.add_argument("--hosts", type=int, default=1000)
    lt = sub.add_parser("latency")
    lt.add_argument("--log", required=True)
    lt.add_argument("--alerts", required=True)
    lt.add_argument("--holdback-ms", type=int, default=1000)
    a = p.parse_args()
    return {"gen": cmd_gen, "topic": cmd_topic, "feed": cmd_feed, "latency": cmd_latency}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
