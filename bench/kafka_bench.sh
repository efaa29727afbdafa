#!/usr/bin/env bash
# Kafka delivery measured against a real local broker (deploy/kafka/kafka.sh):
#   1. alerts/s: es_kafka_throughput sends N real alerts (RenderAlertJson
#      output of `eventsift scan` over EEMS events) through KafkaSink
#      (acks=all, idempotent, compression as shipped), timed from the first
#      send to the last delivery report; first, untimed, K alerts of the same
#      pool go to another topic, so the timed run meets a broker whose JVM has
#      compiled its produce path, as a running broker has (a broker started
#      seconds before takes about a CPU second per 200,000 alerts more while
#      it warms, on the same cores: docs/perf/kafka.md); that run's rate is
#      printed too, as the cold figure;
#   2. events/s: `eventsift scan --kafka-brokers` over M EEMS events, one alert
#      each, timed for the whole process (read, decode, match, correlate,
#      render, deliver);
#   2b. events sink, events/s: `eventsift scan --events-out kafka` over an
#      EVTX file (bench/make_big_evtx.py from ../shared/corpus/evtx,
#      --evtx-mb MiB; or --evtx FILE), every event to its own topic, one
#      thread, timed for the whole process; the topic must hold every event;
#   3. end-to-end latency: `eventsift daemon` watches a directory; a feeder
#      appends EEMS events at R/s for S seconds, round robin over H hosts;
#      an event's latency is the broker's append time of the alert whose
#      window holds it (topic with LogAppendTime) minus the time its line was
#      appended, p50/p99 over all events.
# Every count is checked on the topic afterwards (consumed with kcat): a
# missing or extra alert, or an alert whose count is not the number of
# events fed into its window, is a failure.
#
#   bench/kafka_bench.sh [--build-dir DIR] [--alerts N] [--warmup K] [--scan-events M]
#                        [--rate R] [--seconds S] [--hosts H] [--brokers HOST:PORT]
#                        [--work DIR] [--keep] [--topic-prefix P] [--drain-wait W]
#                        [--evtx FILE | --evtx-mb MB]
#
# Defaults: build/release, N=1000000, K=min(N, 200000) (0: none), M=100000,
# R=10000, S=30, H=1000, W=120 s
# (how long to wait after the feed for the last alerts); a broker of its
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
warmup=""
scan_events=100000
evtx=""
evtx_mb=32
rate=10000
seconds=30
hosts=1000
drain_wait=120
brokers=""
work=""
keep=0
prefix="bench.$(date +%s).$$"
pool_size=20000
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build="$2"; shift ;;
    --alerts) alerts="$2"; shift ;;
    --warmup) warmup="$2"; shift ;;
    --scan-events) scan_events="$2"; shift ;;
    --evtx) evtx="$2"; shift ;;
    --evtx-mb) evtx_mb="$2"; shift ;;
    --rate) rate="$2"; shift ;;
    --seconds) seconds="$2"; shift ;;
    --hosts) hosts="$2"; shift ;;
    --drain-wait) drain_wait="$2"; shift ;;
    --brokers) brokers="$2"; shift ;;
    --work) work="$2"; shift ;;
    --keep) keep=1 ;;
    --topic-prefix) prefix="$2"; shift ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
log "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
# CPU seconds the broker's JVM used so far (only for a broker started here).
broker_cpu() {
  if [ "$own_broker" = 1 ] && [ -r "/proc/$(cat "$work/kafka/kafka.pid")/stat" ]; then
    awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/hz}' "/proc/$(cat "$work/kafka/kafka.pid")/stat"
  else
    echo 0
  fi
}

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
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
[ -n "$warmup" ] || warmup=$((alerts < 200000 ? alerts : 200000))
cold_aps=""
if [ "$warmup" -gt 0 ]; then
  new_topic "$prefix.warmup"
  log "alerts/s: warm-up, $warmup alerts to $prefix.warmup (untimed)"
  wout=$("$tp" --kafka-brokers "$brokers" --kafka-topic "$prefix.warmup" --spool-dir "$work/spool0" \
          --alerts "$work/pool.ndjson" --count "$warmup") || die "es_kafka_throughput (warm-up): $wout"
  [ "$(field delivered "$wout")" = "$warmup" ] || die "alerts/s: warm-up delivered $(field delivered "$wout") of $warmup"
  cold_aps=$(field alerts_per_s "$wout")
  log "warm-up: $wout"
fi
t1="$prefix.alerts"
new_topic "$t1"
log "alerts/s: $alerts alerts to $t1"
bcpu0=$(broker_cpu)
out=$("$tp" --kafka-brokers "$brokers" --kafka-topic "$t1" --spool-dir "$work/spool1" \
        --alerts "$work/pool.ndjson" --count "$alerts") || die "es_kafka_throughput: $out"
bcpu=$(awk "BEGIN{print $(broker_cpu) - $bcpu0}")
log "$out broker_cpu_s=$bcpu (0 when the broker is not ours)"
aps=$(field alerts_per_s "$out")
kcat -C -b "$brokers" -t "$t1" -o beginning -e -q -f '%k\n' >"$work/keys1"
on_topic=$(wc -l <"$work/keys1")
[ "$on_topic" -eq "$alerts" ] || die "alerts/s: $on_topic messages on $t1, $alerts sent"
distinct=$(sort -u "$work/keys1" | wc -l)
[ "$distinct" -eq "$pool_n" ] || die "alerts/s: $distinct distinct keys on $t1, expected $pool_n"
log "alerts/s: $on_topic of $alerts on the topic ($distinct hosts)"
met() { if "$py" -c "import sys; sys.exit(0 if $1 else 1)"; then echo met; else echo "missed ($2)"; fi; }
echo "| kafka | alerts/s, one process, acks=all, idempotent, $(field mb_per_s "$out") MB/s of ${avg}-byte alerts (after $warmup warm-up alerts to another topic) | $aps | ≥ 100000 | $(met "$aps >= 100000" "$(awk "BEGIN{printf \"%.0f%%\", 100*$aps/100000}") of target") |"
if [ -n "$cold_aps" ]; then
  echo "| kafka | alerts/s of the warm-up itself (the broker's first produce requests since it started) | $cold_aps | | |"
fi

# --- 2. events/s through scan ---------------------------------------------
t2="$prefix.scan"
new_topic "$t2"
log "events/s: eventsift scan over $scan_events events to $t2"
"$py" bench/kafka_events.py gen --count "$scan_events" --prefix sc --out "$work/scan-events.ndjson"
start=$(date +%s.%N)
# bash's `time` writes scan's user and system CPU seconds to scan.time; scan's
# own stderr goes through fd 3 to ours.
TIMEFORMAT='%U %S'
{ time "$es" scan -q --no-progress -r rules/eems_mitigation_error.yaml --kafka-brokers "$brokers" \
    --kafka-topic "$t2" --spool-dir "$work/spool2" --out /dev/null "$work/scan-events.ndjson" \
    2>&3 && rc=0 || rc=$?; } 3>&2 2>"$work/scan.time"
[ "$rc" -eq 0 ] || [ "$rc" -eq 10 ] || die "scan to Kafka failed (exit $rc)"
end=$(date +%s.%N)
on_topic=$(topic_count "$t2")
[ "$on_topic" -eq "$scan_events" ] || die "events/s: $on_topic alerts on $t2 from $scan_events events"
eps=$(awk "BEGIN{printf \"%.0f\", $scan_events/($end-$start)}")
read -r cu cs <"$work/scan.time"
log "events/s: $scan_events events, $on_topic alerts on the topic, wall $(awk "BEGIN{print $end-$start}") s, user $cu s, sys $cs s"
echo "| kafka | events/s, eventsift scan → Kafka (one alert per event; CPU $cu user + $cs sys s) | $eps | | |"

# --- 2b. every event of an EVTX file to the events topic ------------------
t2b="$prefix.events"
if [ -z "$evtx" ] && [ -d ../shared/corpus/evtx ]; then
  evtx="$work/events.evtx"
  "$py" bench/make_big_evtx.py --out "$evtx" --size-mb "$evtx_mb" --corpus ../shared/corpus/evtx >&2 \
    || die "make_big_evtx.py failed"
fi
if [ -z "$evtx" ]; then
  log "events sink: skipped, no --evtx and no ../shared/corpus/evtx"
  echo "| kafka | events sink events per CPU second, EVTX → Kafka | skipped: no EVTX input (../shared/corpus absent) | ≥ 200000 per core | |"
else
  new_topic "$t2b"
  log "events sink: every event of $evtx to $t2b (scan --threads 1 --events-out kafka)"
  start=$(date +%s.%N)
  { time "$es" scan --no-progress --threads 1 --out /dev/null --events-out kafka \
      --events-kafka-brokers "$brokers" --events-topic "$t2b" --events-spool-dir "$work/spool2b" \
      "$evtx" 2>"$work/events-scan.err" && rc=0 || rc=$?; } 2>"$work/events.time"
  [ "$rc" -eq 0 ] || [ "$rc" -eq 10 ] || die "scan --events-out kafka failed (exit $rc): $(cat "$work/events-scan.err")"
  end=$(date +%s.%N)
  n_events=$(sed -n 's/.*inputs ([0-9]* unreadable), \([0-9]*\) events.*/\1/p' "$work/events-scan.err")
  grep -q "events sink (kafka): $n_events events, $n_events written, 0 filtered out, $n_events delivered 0 spooled" \
    "$work/events-scan.err" || die "events sink: not every event delivered: $(grep 'events sink' "$work/events-scan.err")"
  on_topic=$(topic_count "$t2b")
  [ "$on_topic" -eq "$n_events" ] || die "events sink: $on_topic messages on $t2b, $n_events events read"
  read -r cu cs <"$work/events.time"
  eps=$(awk "BEGIN{printf \"%.0f\", $n_events/($end-$start)}")
  cps=$(awk "BEGIN{printf \"%.0f\", $n_events/($cu+$cs)}")
  log "events sink: $n_events events ($(du -m "$evtx" | cut -f1) MiB EVTX), $on_topic on the topic, wall $(awk "BEGIN{print $end-$start}") s, user $cu s, sys $cs s"
  # The goal is per core: events per CPU second (user + sys) of the eventsift
  # process; the wall figure depends on what else the machine runs.
  echo "| kafka | events sink events/s, EVTX → Kafka, every event (scan --threads 1; $n_events events), wall | $eps | | |"
  echo "| kafka | events sink events per CPU second of eventsift (user $cu + sys $cs s) | $cps | ≥ 200000 per core | $(met "$cps >= 200000" "$(awk "BEGIN{printf \"%.0f%%\", 100*$cps/200000}") of target") |"
fi

# --- 3. end-to-end latency through the daemon -----------------------------
t3="$prefix.latency"
new_topic "$t3" log-append-time
mkdir -p "$work/daemon/in" "$work/daemon/rules" "$work/daemon/state"
metrics_port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The EEMS rule with the shortest window (1 s, the minimum), threshold 1 and
# no suppression: `emit: immediate` by default, so each window's alert leaves
# at the first drain after its first event, and a follow-up with the final
# count once the watermark passes the window (see docs/perf/kafka.md).
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
metrics: {address: "127.0.0.1:$metrics_port"}
log: {format: logfmt, level: warn}
YAML
"$es" daemon --config "$work/daemon/eventsift.yaml" 2>"$work/daemon/daemon.log" &
daemon_pid=$!
sleep 1
kill -0 "$daemon_pid" 2>/dev/null || die "daemon did not start: $(cat "$work/daemon/daemon.log")"
log "latency: feeding $rate events/s over $hosts hosts for $seconds s (+3 s that only move the watermark)"
"$py" bench/kafka_events.py feed --file "$work/daemon/in/feed.ndjson" --rate "$rate" \
  --seconds "$seconds" --tail 3 --hosts "$hosts" --prefix lat --log "$work/feed.log"
log "load average $(cut -d' ' -f1-3 /proc/loadavg) after the feed"
fed=$(wc -l <"$work/feed.log")
latency() {
  kcat -C -b "$brokers" -t "$t3" -o beginning -e -q -f '%k\t%T\t%s\n' | grep '^lat' | cut -f2- \
    >"$work/latency.tsv" || true
  "$py" bench/kafka_events.py latency --log "$work/feed.log" --alerts "$work/latency.tsv"
}
lines=$(wc -l <"$work/daemon/in/feed.ndjson")
# The consumer's timing does not matter (broker timestamps), so the wait
# watches the daemon's /metrics, which costs it nothing: every line read, and
# every alert made so far delivered, twice in a row one second apart.
metric() {
  curl -s "127.0.0.1:$metrics_port/metrics" | awk -v m="$1" '{split($1, n, "{")} n[1] == m {s += $2} END {printf "%d", s}'
}
deadline=$((SECONDS + drain_wait))
settled=0
while [ $SECONDS -lt $deadline ] && [ $settled -lt 2 ]; do
  sleep 1
  read_lines=$(metric eventsift_source_lines_total)
  made=$(metric eventsift_alerts_total)
  delivered=$(metric eventsift_sink_delivered_total)
  if [ "$read_lines" -ge "$lines" ] && [ "$delivered" -ge "$made" ]; then
    settled=$((settled + 1))
  else
    settled=0
  fi
done
waited=$((SECONDS - deadline + drain_wait))
log "daemon read $read_lines of $lines lines, delivered $delivered of $made alerts, ${waited} s after the feed"
res=$(latency) || true
kill -TERM "$daemon_pid"
wait "$daemon_pid" || die "daemon exited with $? ($(tail -n 5 "$work/daemon/daemon.log"))"
daemon_pid=""
log "latency: $res"
if ! grep -q ' missing 0 ' <<<"$res"; then
  echo "| kafka | e2e latency p50/p99 ms at $rate events/s | incomplete | p99 < 1000 | missed: $res within $drain_wait s |"
  die "latency: not every event reached an alert on $t3 within $drain_wait s: $res"
fi
latency >/dev/null || die "latency: counts on $t3 do not match what was fed: $res"
p50=$(sed -n 's/.* p50 \([0-9-]*\).*/\1/p' <<<"$res")
p99=$(sed -n 's/.* p99 \([0-9-]*\).*/\1/p' <<<"$res")
a50=$(sed -n 's/.* alert_p50 \([0-9-]*\).*/\1/p' <<<"$res")
a99=$(sed -n 's/.* alert_p99 \([0-9-]*\).*/\1/p' <<<"$res")
n_alerts=$(sed -n 's/.* alerts \([0-9]*\).*/\1/p' <<<"$res")
n_follow=$(sed -n 's/.* followups \([0-9]*\).*/\1/p' <<<"$res")
c50=$(sed -n 's/.* after_close_p50 \([0-9-]*\).*/\1/p' <<<"$res")
c99=$(sed -n 's/.* after_close_p99 \([0-9-]*\).*/\1/p' <<<"$res")
echo "| kafka | e2e alert latency p50/p99 ms at $rate events/s ($fed events of $hosts hosts → $n_alerts alerts + $n_follow follow-ups; rule window 1s, emit immediate; raising event's append → broker ack of the alert's first message) | $a50 / $a99 | p99 < 1000 | $(met "$a99 < 1000" "p99 $(awk "BEGIN{printf \"%.1f\", $a99/1000}")× target") |"
echo "| kafka | per event: append → broker ack of the first message counting it p50/p99 ms (later events of a window wait for its follow-up) | $p50 / $p99 | | |"
echo "| kafka | of which window close → broker ack of the last message p50/p99 ms (drain timer + delivery) | $c50 / $c99 | | |"
