#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft, combined broker+controller) on 127.0.0.1
# for trying eventsift and for the integration tests. Nothing is installed
# system-wide: the jars come from Maven Central through mvn into a cache.
#
#   deploy/kafka/kafka.sh fetch                        # resolve the jars once
#   deploy/kafka/kafka.sh start [--port P] [--dir D]   # prints host:port
#   deploy/kafka/kafka.sh status [--sasl] [--dir D]    # prints host:port, exit 1 if down
#   deploy/kafka/kafka.sh stop [--dir D]               # stops it, no process left
#   deploy/kafka/kafka.sh topic NAME [--partitions N] [--dir D]  # creates a topic
#
# Environment:
#   ES_KAFKA_VERSION  Apache Kafka version (default 4.1.1; any 4.x on Maven Central)
#   ES_KAFKA_CACHE    jar cache (default ~/.cache/eventsift/kafka)
#   ES_KAFKA_DIR      state dir: config, data, log, pid (default /tmp/eventsift-kafka-$USER)
#   ES_KAFKA_HEAP     JVM heap (default -Xmx512m -Xms256m)
#   ES_KAFKA_AUTO_CREATE  auto.create.topics.enable (default false: topics are
#                     created explicitly, so a wrong topic name is an error)
#   ES_KAFKA_TOPICS   topics created by start (default "eventsift.alerts"),
#                     with ES_KAFKA_PARTITIONS partitions (default 3)
#
# Besides PLAINTEXT the broker has a SASL_PLAINTEXT (PLAIN) listener whose
# address `status --sasl` prints; its one user is eventsift / eventsift-secret.
# Demo credentials for tests on 127.0.0.1 only: never expose this broker.
set -euo pipefail

version="${ES_KAFKA_VERSION:-4.1.1}"
cache="${ES_KAFKA_CACHE:-$HOME/.cache/eventsift/kafka}"
dir="${ES_KAFKA_DIR:-${TMPDIR:-/tmp}/eventsift-kafka-$(id -un)}"
heap="${ES_KAFKA_HEAP:--Xmx512m -Xms256m}"
auto_create="${ES_KAFKA_AUTO_CREATE:-false}"
port=""
sasl=0
partitions=1
topic_name=""
libs="$cache/$version/libs"

die() { echo "kafka.sh: $*" >&2; exit 1; }

usage() {
  sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'
}

# Resolves kafka_2.13 and its runtime dependencies plus a log4j2 backend into
# $libs with a throwaway pom, so mvn's local repository is the only other
# thing touched.
fetch() {
  if [ -f "$libs/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  command -v java >/dev/null || die "java not found (apt-get install default-jre-headless)"
  local work="$cache/$version/pom"
  mkdir -p "$work" "$libs"
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>eventsift.deploy</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
POM
  echo "kafka.sh: fetching Apache Kafka $version with mvn into $libs" >&2
  mvn -B -q -f "$work/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$libs" -DincludeScope=runtime >&2 \
    || die "mvn could not fetch Apache Kafka $version (see output above)"
  ls "$libs"/kafka_2.13-*.jar >/dev/null 2>&1 || die "kafka_2.13 jar missing after fetch"
  touch "$libs/.complete"
}

pid_alive() { [ -f "$dir/kafka.pid" ] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; }

# Whether something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

write_config() {
  local cport="$1" sport="$2"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_eventsift="eventsift-secret";
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=$auto_create
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
message.max.bytes=1048588
PROPS
  cat >"$dir/log4j2.yaml" <<'LOG'
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        Pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
      - name: kafka.server.BrokerServer
        level: INFO
LOG
}

java_cmd() {
  # shellcheck disable=SC2086
  java $heap -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.yaml" -cp "$libs/*" "$@"
}

start() {
  fetch
  mkdir -p "$dir"
  if pid_alive; then
    # Idempotent: a running broker is reused, whatever --port asked for.
    status
    return 0
  fi
  [ -n "$port" ] || port=$(free_port)
  port_open "$port" && die "port $port is already in use"
  local cport sport
  cport=$(free_port)
  sport=$(free_port)
  rm -rf "$dir/data"
  write_config "$cport" "$sport"
  local cluster_id
  cluster_id=$(java_cmd kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)
  [ -n "$cluster_id" ] || die "could not generate a cluster id"
  java_cmd kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$dir/server.properties" >"$dir/format.log" 2>&1 \
    || die "formatting KRaft storage failed: $(cat "$dir/format.log")"
  # setsid: the broker gets its own process group so stop can end it all and
  # a Ctrl-C in the caller's terminal does not reach it.
  setsid bash -c 'exec "$@"' _ java $heap -XX:+UseG1GC -XX:TieredStopAtLevel=1 \
      -Djava.awt.headless=true -Dlog4j2.configurationFile="$dir/log4j2.yaml" \
      -cp "$libs/*" kafka.Kafka "$dir/server.properties" \
      >"$dir/kafka.log" 2>&1 </dev/null &
  echo $! >"$dir/kafka.pid"
  echo "$port" >"$dir/port"
  echo "$sport" >"$dir/sasl_port"
  local deadline=$((SECONDS + 90))
  until port_open "$port"; do
    if ! pid_alive; then
      tail -n 30 "$dir/kafka.log" >&2
      die "broker exited during startup (log: $dir/kafka.log)"
    fi
    [ $SECONDS -lt $deadline ] || { stop; die "broker did not open 127.0.0.1:$port within 90 s"; }
    sleep 0.3
  done
  # The port opens before the broker has registered with the controller;
  # wait until it serves metadata so the first producer is not refused.
  if command -v kcat >/dev/null; then
    until kcat -b "127.0.0.1:$port" -L -m 2 2>/dev/null | grep -q 'broker 1 at'; do
      [ $SECONDS -lt $deadline ] || { stop; die "broker did not serve metadata within 90 s"; }
      sleep 0.3
    done
  fi
  local t
  for t in ${ES_KAFKA_TOPICS-eventsift.alerts}; do
    topic_name="$t" partitions="${ES_KAFKA_PARTITIONS:-3}" topic >/dev/null
  done
  echo "127.0.0.1:$port"
}

status() {
  if pid_alive && [ -f "$dir/port" ] && port_open "$(cat "$dir/port")"; then
    if [ "$sasl" = 1 ]; then echo "127.0.0.1:$(cat "$dir/sasl_port")"; else echo "127.0.0.1:$(cat "$dir/port")"; fi
    return 0
  fi
  echo "kafka.sh: not running (state dir $dir)" >&2
  return 1
}

stop() {
  if [ -f "$dir/kafka.pid" ]; then
    local pid
    pid=$(cat "$dir/kafka.pid")
    if kill -0 "$pid" 2>/dev/null; then
      # SIGTERM lets Kafka close its logs cleanly; the whole group goes.
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      local deadline=$((SECONDS + 30))
      while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
      if kill -0 "$pid" 2>/dev/null; then
        echo "kafka.sh: broker did not stop in 30 s; killing it" >&2
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
    rm -f "$dir/kafka.pid"
  fi
  return 0
}

# Topics are created explicitly (auto-creation is off by default), with
# Debian's python3-confluent-kafka: it needs no extra jars and no JVM start.
topic() {
  [ -n "$topic_name" ] || die "usage: kafka.sh topic NAME [--partitions N]"
  local bootstrap
  bootstrap=$(status) || die "broker not running"
  /usr/bin/python3 - "$bootstrap" "$topic_name" "$partitions" <<'PY' || die "could not create topic $topic_name"
import sys
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka import KafkaException
admin = AdminClient({"bootstrap.servers": sys.argv[1]})
futures = admin.create_topics([NewTopic(sys.argv[2], int(sys.argv[3]), 1)], request_timeout=15)
for name, f in futures.items():
    try:
        f.result()
    except KafkaException as e:
        if e.args[0].code() != 36:  # TOPIC_ALREADY_EXISTS is fine: idempotent
            raise
print(sys.argv[2])
PY
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift ;;
    --dir) dir="$2"; shift ;;
    --partitions) partitions="$2"; shift ;;
    --sasl) sasl=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) topic_name="$1" ;;
  esac
  shift
done

case "$cmd" in
  fetch) fetch; echo "$libs" ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  topic) topic ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
