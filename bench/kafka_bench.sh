#!/usr/bin/env bash
# Kafka delivery measured against a real local broker (deploy/kafka/kafka.sh):
#   1. alerts/s: es_kafka_throughput sends N real alerts (RenderAlertJson
#      output of `eventsift scan` over EEMS events) through KafkaSink
#      (acks=all, idempotent, compression as shipped), timed from the first
#      send to the last delivery report;
#   2. events/s: `eventsift scan --kafka-brokers` over M EEMS events, one alert
#      each, timed for the whole process (read, decode, match, correlate,
#      render, deliver);
#   3. end-to-end latency: `eventsift daemon` watches a directory; a feeder
#      appends EEMS events at R/s for S seconds; latency is the broker's append
#      time of an event's alert (topic with LogAppendTime) minus the time its
#      line was appended, p50/p99.
# Every count is checked on the topic afterwards (consumed with kcat): a
# missing or extra alert is a failure.
#
#   bench/kafka_bench.sh [--build-dir DIR] [--alerts N] [--scan-events M]
#                        [--rate R] [--seconds S] [--brokers HOST:PORT]
#                        [--work DIR] [--keep] [--topic-prefix P]
#
# Defaults: build/release, N=1000000, M=100000, R=10000, S=30; a broker of its
# own in the work dir unless --brokers names a running one (the CTest test
# passes its fixture broker). Topics are P.alerts, P.scan and P.latency
# (P default bench.<time>.<pid>); --keep keeps the work dir (feed.log).
# Markdown rows go to stdout, progress to stderr. Exit 0 on success or skip
# (java/mvn/kcat missing), non-zero on failure.
# docs/perf/kafka.md has the method and a run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

build=build/release
alerts=1000000
scan_events=100000
rate=10000
seconds=30
brokers=""
work=""
keep=0
prefix="bench.$(date +%s).$$"
pool_size=20000
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build="$2"; shift ;;
    --alerts) alerts="$2"; shift ;;
    --scan-events) scan_events="$2"; shift ;;
    --rate) rate="$2"; shift ;;
    --seconds) seconds="$2"; shift ;;
    --brokers) brokers="$2"; shift ;;
    --work) work="$2"; shift ;;
    --keep) keep=1 ;;
    --topic-prefix) prefix="$2"; shift ;;
    -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "kafka_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "kafka_bench: $*" >&2; }
die() { log "FAILED: $*"; exit 1; }
skip() {
  log "skipped: $*"
  echo "| kafka | all rows | skipped: $* | | |"
  exit 0
}

py=/usr/bin/python3
[ -x "$py" ] || py=python3
case "$build" in /*) ;; *) build="$root/$build" ;; esac
es="$build/bin/eventsift"
tp="$build/bench/es_kafka_throughput"
[ -x "$es" ] || die "$es not built (cmake --build --preset release --target eventsift)"
[ -x "$tp" ] || die "$tp not built (--target es_kafka_throughput)"
command -v kcat >/dev/null || skip "kcat missing (apt-get install kcat)"
if [ -z "$brokers" ]; then
  command -v java >/dev/null || skip "java missing (apt-get install default-jre-headless)"
  command -v mvn >/dev/null || skip "mvn missing (apt-get install maven)"
fi

[ -n "$work" ] || work=$(mktemp -d "${TMPDIR:-/tmp}/es_kafka_bench.XXXXXX")
mkdir -p "$work"
own_broker=0
daemon_pid=""
cleanup() {
  local rc=$?
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  if [ "$own_broker" = 1 ]; then
    deploy/kafka/kafka.sh stop --dir "$work/kafka" >&2 || true
  fi
  if [ "$keep" = 0 ]; then rm -rf "$work"; else log "kept $work"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$brokers" ]; then
  log "starting a broker (deploy/kafka/kafka.sh, state in $work/kafka)"
  own_broker=1
  brokers=$(ES_KAFKA_TOPICS="" deploy/kafka/kafka.sh start --dir "$work/kafka") \
    || die "broker did not start"
fi
log "broker $brokers"

# Messages on a topic, consumed from the beginning to the end.
topic_count() {
  kcat -C -b "$brokers" -t "$1" -o beginning -e -q -f '%k\n' | wc -l
}

# Topics are created here, not by kafka.sh, so a broker given by --brokers
# (whose state dir is unknown) works too; 3 partitions as shipped.
new_topic() {
  "$py" bench/kafka_events.py topic --brokers "$brokers" --topic "$1" --partitions 3 ${2:+--log-append-time}
}

# --- the alert pool: real scan output -------------------------------------
pool_n=$((alerts < pool_size ? alerts : pool_size))
log "pool: $pool_n EEMS events -> eventsift scan -> alerts"
"$py" bench/kafka_events.py gen --count "$pool_n" --prefix tp --out "$work/pool-events.ndjson"
"$es" scan -q --no-progress -r rules/eems_mitigation_error.yaml --out "$work/pool.ndjson" "$work/pool-events.ndjson" \
  || [ $? -eq 10 ] || die "scan of the pool events failed"
got=$(wc -l <"$work/pool.ndjson")
[ "$got" -eq "$pool_n" ] || die "pool: $got alerts from $pool_n events"
avg=$(( $(wc -c <"$work/pool.ndjson") / pool_n ))
log "pool: $pool_n alerts, $avg bytes each on average"

# --- 1. alerts/s ----------------------------------------------------------
t1="$prefix.alerts"
new_topic "$t1"
log "alerts/s: $alerts alerts to $t1"
out=$("$tp" --kafka-brokers "$brokers" --kafka-topic "$t1" --spool-dir "$work/spool1" \
        --alerts "$work/pool.ndjson" --count "$alerts") || die "es_kafka_throughput: $out"
log "$out"
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
aps=$(field alerts_per_s "$out")
on_topic=$(topic_count "$t1")
[ "$on_topic" -eq "$alerts" ] || die "alerts/s: $on_topic messages on $t1, $alerts sent"
distinct=$(kcat -C -b "$brokers" -t "$t1" -o beginning -e -q -f '%k\n' | sort -u | wc -l)
[ "$distinct" -eq "$pool_n" ] || die "alerts/s: $distinct distinct keys on $t1, expected $pool_n"
log "alerts/s: $on_topic of $alerts on the topic ($distinct hosts)"
met() { if "$py" -c "import sys; sys.exit(0 if $1 else 1)"; then echo met; else echo "missed ($2)"; fi; }
echo "| kafka | alerts/s, one process, acks=all, idempotent, $(field mb_per_s "$out") MB/s of ${avg}-byte alerts | $aps | ≥ 100000 | $(met "$aps >= 100000" "$(awk "BEGIN{printf \"%.0f%%\", 100*$aps/100000}") of target") |"

# --- 2. events/s through scan ---------------------------------------------
t2="$prefix.scan"
new_topic "$t2"
log "events/s: eventsift scan over $scan_events events to $t2"
"$py" bench/kafka_events.py gen --count "$scan_events" --prefix sc --out "$work/scan-events.ndjson"
start=$(date +%s.%N)
/usr/bin/time -f '%U %S' -o "$work/scan.time" \
  "$es" scan -q --no-progress -r rules/eems_mitigation_error.yaml --kafka-brokers "$brokers" --kafka-topic "$t2" \
  --spool-dir "$work/spool2" --out /dev/null "$work/scan-events.ndjson" \
  || [ $? -eq 10 ] || die "scan to Kafka failed"
end=$(date +%s.%N)
on_topic=$(topic_count "$t2")
[ "$on_topic" -eq "$scan_events" ] || die "events/s: $on_topic alerts on $t2 from $scan_events events"
eps=$(awk "BEGIN{printf \"%.0f\", $scan_events/($end-$start)}")
read -r cu cs <"$work/scan.time"
log "events/s: $scan_events events, $on_topic alerts on the topic, wall $(awk "BEGIN{print $end-$start}") s, user $cu s, sys $cs s"
echo "| kafka | events/s, eventsift scan → Kafka (one alert per event; CPU $cu user + $cs sys s) | $eps | | |"

# --- 3. end-to-end latency through the daemon -----------------------------
t3="$prefix.latency"
new_topic "$t3" log-append-time
mkdir -p "$work/daemon/in" "$work/daemon/rules" "$work/daemon/state"
# The EEMS rule with the shortest window (1 s, the minimum), threshold 1 and
# no suppression: each event's alert leaves as soon as the daemon's
# watermark passes its window (see docs/perf/kafka.md).
sed -e 's/^  window: .*/  window: 1s/' -e 's/^  suppress: .*/  suppress: 0s/' \
  rules/eems_mitigation_error.yaml >"$work/daemon/rules/eems_bench.yaml"
grep -q '^  window: 1s' "$work/daemon/rules/eems_bench.yaml" || die "bench rule not rewritten"
cat >"$work/daemon/eventsift.yaml" <<YAML
state_dir: $work/daemon/state
checkpoint_interval_ms: 5000
shutdown_timeout_ms: 20000
exit_when_sources_end: false
rules: {paths: [$work/daemon/rules]}
correlation: {allowed_lateness_seconds: 0, merge_short_host_names: false}
sources:
  - {name: feed, type: directory, path: $work/daemon/in, include: ["*.ndjson"]}
sinks:
  - {type: kafka, brokers: "$brokers", topic: $t3, spool_dir: $work/daemon/spool}
metrics: {address: ""}
log: {format: logfmt, level: warn}
YAML
"$es" daemon --config "$work/daemon/eventsift.yaml" 2>"$work/daemon/daemon.log" &
daemon_pid=$!
sleep 1
kill -0 "$daemon_pid" 2>/dev/null || die "daemon did not start: $(cat "$work/daemon/daemon.log")"
log "latency: feeding $rate events/s for $seconds s (+3 s that only move the watermark)"
"$py" bench/kafka_events.py feed --file "$work/daemon/in/feed.ndjson" --rate "$rate" \
  --seconds "$seconds" --tail 3 --prefix lat --log "$work/feed.log"
fed=$(wc -l <"$work/feed.log")
deadline=$((SECONDS + 60))
while :; do
  n=$(kcat -C -b "$brokers" -t "$t3" -o beginning -e -q -f '%k\n' | grep -c '^lat' || true)
  [ "$n" -ge "$fed" ] && break
  [ $SECONDS -lt $deadline ] || break
  sleep 1
done
kill -TERM "$daemon_pid"
wait "$daemon_pid" || die "daemon exited with $? ($(tail -n 5 "$work/daemon/daemon.log"))"
daemon_pid=""
kcat -C -b "$brokers" -t "$t3" -o beginning -e -q -f '%k\t%T\n' | grep '^lat' >"$work/latency.tsv" || true
res=$("$py" bench/kafka_events.py latency --log "$work/feed.log" --timestamps "$work/latency.tsv") \
  || die "latency: $res"
log "latency: $res"
p50=$(sed -n 's/.* p50 \([0-9-]*\).*/\1/p' <<<"$res")
p99=$(sed -n 's/.* p99 \([0-9-]*\).*/\1/p' <<<"$res")
echo "| kafka | e2e latency p50/p99 ms at $rate events/s (append → broker ack, $fed events, window 1s) | $p50 / $p99 | p99 < 1000 | $(met "$p99 < 1000" "p99 $(awk "BEGIN{printf \"%.1f\", $p99/1000}")× target") |"
