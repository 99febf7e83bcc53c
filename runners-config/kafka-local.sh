#!/usr/bin/env bash
# A local single-node Kafka broker for development and the integration tests: KRaft mode, broker
# and controller in one child JVM, loopback only, no Docker. The jars come from Maven Central
# through runners-config/kafka/pom.xml, whose class path stays apart from the product's.
#
#   runners-config/kafka-local.sh start [--port=N] [--keep]   # default port 9092
#   runners-config/kafka-local.sh status [--port=N]
#   runners-config/kafka-local.sh stop
#
# start returns once the broker answers a client request; it starts nothing when the broker of the
# state folder already runs. Each start begins with an empty data folder unless --keep is given.
# status exits 0 when the broker runs and answers, 1 when it runs but does not answer, 3 when it
# does not run. State (data, logs, pid, properties, class path) lives in runners-config/target/kafka,
# or in $KAFKA_LOCAL_DIR. KAFKA_LOCAL_START_TIMEOUT and KAFKA_LOCAL_STOP_TIMEOUT are in seconds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
name=kafka-local
# shellcheck source=runners-config/lib/common.sh
. "$here/lib/common.sh"
pom="$here/kafka/pom.xml"
state="${KAFKA_LOCAL_DIR:-$here/target/kafka}"
start_timeout="${KAFKA_LOCAL_START_TIMEOUT:-60}"
stop_timeout="${KAFKA_LOCAL_STOP_TIMEOUT:-30}"
# Any valid id does: the data folder is formatted for this one node and no other.
cluster_id="ZmVhdHVyZWJlYW0ta2Fmaw"

usage() {
  echo "usage: $(basename "$0") start [--port=N] [--keep] | status [--port=N] | stop" >&2
  exit 2
}

command="${1:-}"
[ $# -gt 0 ] && shift
port=""
keep=false
for arg in "$@"; do
  case "$arg" in
    --port=*) port="${arg#--port=}" ;;
    --keep) keep=true ;;
    *) usage ;;
  esac
done
case "$command" in
  start) ;;
  status) [ "$keep" = false ] || usage ;;
  stop) if [ -n "$port" ] || [ "$keep" = true ]; then usage; fi ;;
  *) usage ;;
esac
if [ -n "$port" ] && ! { [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65534 ]; }; then
  die "--port=$port is not a port number (1-65534)"
fi

# An absolute path: the broker's properties and the pid check name it.
if [ -d "$state" ]; then
  state="$(cd "$state" && pwd)"
elif [ "$command" = start ]; then
  mkdir -p "$state"
  state="$(cd "$state" && pwd)"
fi
pid_file="$state/kafka.pid"
logs="$state/logs"
props="$state/server.properties"

# The recorded pid if that process is still this state folder's broker (a reused pid is not).
running_pid() {
  local pid
  pid="$(cat "$pid_file" 2> /dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2> /dev/null || return 1
  if [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "kafka.Kafka $props" || return 1
  fi
  echo "$pid"
}

java_tool() { # runs a Kafka main class on the broker's class path, logging to stderr at WARN
  java -Xmx256m -XX:TieredStopAtLevel=1 -Dlog4j.configuration="file:$state/tools-log4j.properties" \
    -cp "$(cat "$state/classpath")" "$@"
}

answers() { # a real client request: the API versions of every broker the metadata lists
  java_tool kafka.admin.BrokerApiVersionsCommand --bootstrap-server "127.0.0.1:$1" \
    --command-config "$state/probe.properties" > "$logs/probe.log" 2>&1
}

log_tail() {
  local f
  if grep -qE '\] (ERROR|FATAL) ' "$logs/server.log" 2> /dev/null; then
    echo "--- first errors in $logs/server.log:" >&2
    grep -m 3 -E '\] (ERROR|FATAL) ' "$logs/server.log" >&2
  fi
  for f in "$logs/server.log" "$logs/stdout.log"; do
    if [ -s "$f" ]; then
      echo "--- last lines of $f:" >&2
      tail -n 25 "$f" >&2
    fi
  done
}


write_config() { # $1 broker port, $2 controller port
  cat > "$props" << EOF
# Written by kafka-local.sh on each start; edits are lost.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$2
listeners=PLAINTEXT://127.0.0.1:$1,CONTROLLER://127.0.0.1:$2
advertised.listeners=PLAINTEXT://127.0.0.1:$1
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$state/data
num.partitions=1
# One node: the internal topics cannot have more replicas than that.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# A first consumer group is ready at once (the default waits 3 s for more members).
group.initial.rebalance.delay.ms=0
EOF
  cat > "$state/log4j.properties" << 'EOF'
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
  cat > "$state/tools-log4j.properties" << 'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
  # The probe gives up quickly; start and status call it again while they wait.
  cat > "$state/probe.properties" << 'EOF'
request.timeout.ms=3000
default.api.timeout.ms=3000
EOF
}

stop_pid() { # TERM, then KILL once the stop timeout has passed
  local pid="$1"
  kill -TERM "$pid" 2> /dev/null || true
  local deadline=$((SECONDS + stop_timeout))
  while kill -0 "$pid" 2> /dev/null && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.2
  done
  if kill -0 "$pid" 2> /dev/null; then
    echo "kafka-local: the broker (pid $pid) did not stop within ${stop_timeout} s; killing it" >&2
    kill -KILL "$pid" 2> /dev/null || true
    while kill -0 "$pid" 2> /dev/null; do
      sleep 0.1
    done
  fi
  rm -f "$pid_file"
}

# Waits until the broker on $2 answers; stops it and fails with the log's tail if it exits first
# or the start timeout passes.
await_ready() {
  local pid="$1" p="$2"
  local deadline=$((SECONDS + start_timeout))
  while true; do
    if ! kill -0 "$pid" 2> /dev/null; then
      rm -f "$pid_file"
      log_tail
      die "the broker exited during start-up (logs in $logs)"
    fi
    if listening "$p" && answers "$p"; then
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      stop_pid "$pid"
      log_tail
      die "the broker did not answer on 127.0.0.1:$p within ${start_timeout} s; stopped it (logs in $logs)"
    fi
    sleep 0.3
  done
}

start() {
  local began pid
  began="$(millis)"
  if pid="$(running_pid)"; then
    local running_port
    running_port="$(cat "$state/port")"
    if [ -n "$port" ] && [ "$port" != "$running_port" ]; then
      die "a broker of $state already runs on port $running_port (pid $pid); stop it first"
    fi
    class_path "the broker's jars"
    await_ready "$pid" "$running_port"
    echo "kafka-local: already running on 127.0.0.1:$running_port (pid $pid); logs in $logs"
    return 0
  fi
  rm -f "$pid_file"
  port="${port:-9092}"
  listening "$port" && die "127.0.0.1:$port is already in use by another process"
  # The controller takes the first port above the broker's that nobody listens on.
  local controller=$((port + 1))
  while listening "$controller"; do
    controller=$((controller + 1))
    [ "$controller" -le 65535 ] || die "no free port above $port for the controller"
  done

  class_path "the broker's jars"
  if [ "$keep" = false ]; then
    rm -rf "$state/data" "$logs"
  fi
  mkdir -p "$state/data" "$logs"
  write_config "$port" "$controller"
  echo "$port" > "$state/port"
  # --ignore-formatted: with --keep the folder may hold an earlier run's data, which stays.
  if ! java_tool kafka.tools.StorageTool format --cluster-id "$cluster_id" --config "$props" \
      --ignore-formatted > "$logs/format.log" 2>&1; then
    cat "$logs/format.log" >&2
    die "could not format the data folder $state/data"
  fi

  # A session of its own, so that the terminal's Ctrl-C or the caller's exit leaves it running;
  # no inherited descriptors, so that a caller reading this script's output sees its end.
  local launcher=()
  if command -v setsid > /dev/null; then
    launcher=(setsid)
  fi
  # shellcheck disable=SC2016 # $$ and $1 belong to the inner shell
  "${launcher[@]}" bash -c 'echo $$ > "$1"; shift; exec "$@"' kafka-local "$pid_file" \
    java -Xms512m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dkafka.logs.dir="$logs" -Dlog4j.configuration="file:$state/log4j.properties" \
    -cp "$(cat "$state/classpath")" kafka.Kafka "$props" \
    < /dev/null > "$logs/stdout.log" 2>&1 &
  while [ ! -s "$pid_file" ]; do
    sleep 0.05
  done
  pid="$(cat "$pid_file")"
  await_ready "$pid" "$port"
  local took=$(($(millis) - began))
  printf 'kafka-local: broker running on 127.0.0.1:%s (pid %s, controller port %s), started in %d.%01d s; logs in %s\n' \
    "$port" "$pid" "$controller" $((took / 1000)) $((took % 1000 / 100)) "$logs"
}

status() {
  local pid p
  if ! pid="$(running_pid)"; then
    echo "kafka-local: not running (state in $state)"
    exit 3
  fi
  p="${port:-$(cat "$state/port")}"
  if listening "$p" && answers "$p"; then
    echo "kafka-local: running on 127.0.0.1:$p (pid $pid); logs in $logs"
    exit 0
  fi
  echo "kafka-local: the broker runs (pid $pid) but does not answer on 127.0.0.1:$p; logs in $logs"
  exit 1
}

stop() {
  local pid began
  if ! pid="$(running_pid)"; then
    rm -f "$pid_file"
    echo "kafka-local: not running (state in $state)"
    return 0
  fi
  began="$(millis)"
  stop_pid "$pid"
  local took=$(($(millis) - began))
  printf 'kafka-local: stopped the broker (pid %s) in %d.%01d s\n' "$pid" $((took / 1000)) $((took % 1000 / 100))
}

"$command"
