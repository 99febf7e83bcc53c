#!/usr/bin/env bash
# A local Flink 1.19 session cluster for development and the integration tests: one JobManager
# (StandaloneSessionClusterEntrypoint) and N TaskManagers (TaskManagerRunner), each a JVM of its
# own, on loopback, without Docker or a Flink distribution. The jars come from Maven Central
# through runners-config/flink/pom.xml, whose class path stays apart from the product's.
#
#   runners-config/flink-cluster.sh start [--taskmanagers=N] [--port=P] [--slots=S]   # 1, 8081, 2
#   runners-config/flink-cluster.sh status
#   runners-config/flink-cluster.sh stop
#   runners-config/flink-cluster.sh add-taskmanager      # one more TaskManager, the next number
#   runners-config/flink-cluster.sh kill-taskmanager N   # kill -9 TaskManager N, for fault tests
#
# start returns once the REST API on 127.0.0.1:P lists every TaskManager it runs; on a cluster of
# the state folder that already runs it starts only the TaskManagers missing from N. status exits
# 0 when the cluster runs and answers, 1 when it runs but does not answer, 3 when it does not run.
# State (configuration, logs, pids, class path, checkpoints, temporary files) lives in
# runners-config/target/flink, or in $FLINK_CLUSTER_DIR. FLINK_CLUSTER_START_TIMEOUT and
# FLINK_CLUSTER_STOP_TIMEOUT are in seconds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
name=flink-cluster
# shellcheck source=runners-config/lib/common.sh
. "$here/lib/common.sh"
pom="$here/flink/pom.xml"
state="${FLINK_CLUSTER_DIR:-$here/target/flink}"
start_timeout="${FLINK_CLUSTER_START_TIMEOUT:-120}"
stop_timeout="${FLINK_CLUSTER_STOP_TIMEOUT:-30}"
# Process sizes for a small machine shared with builds and tests; BashJavaUtils splits them.
jm_process_size=1024m
tm_process_size=1536m
# Flink 1.19's distribution gives every JVM these on Java 17 (env.java.opts.all in its
# config.yaml): Flink's serializers and RPC reflect into these JDK packages.
java17_opts=(
  --add-exports=java.base/sun.net.util=ALL-UNNAMED
  --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED
  --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.text=ALL-UNNAMED
  --add-opens=java.base/java.time=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
)
entrypoint=org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint
taskmanager_main=org.apache.flink.runtime.taskexecutor.TaskManagerRunner

usage() {
  echo "usage: $(basename "$0") start [--taskmanagers=N] [--port=P] [--slots=S] | status | stop" \
    "| add-taskmanager | kill-taskmanager N" >&2
  exit 2
}

command="${1:-}"
[ $# -gt 0 ] && shift
taskmanagers=""
port=""
slots=""
victim=""
for arg in "$@"; do
  case "$command:$arg" in
    start:--taskmanagers=*) taskmanagers="${arg#--taskmanagers=}" ;;
    start:--port=*) port="${arg#--port=}" ;;
    start:--slots=*) slots="${arg#--slots=}" ;;
    kill-taskmanager:*) [ -z "$victim" ] || usage; victim="$arg" ;;
    *) usage ;;
  esac
done
case "$command" in
  start | status | stop | add-taskmanager) ;;
  kill-taskmanager) [ -n "$victim" ] || usage ;;
  *) usage ;;
esac

number_in() { # $1 option name, $2 value, $3 lowest, $4 highest
  if ! { [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ]; }; then
    die "$1=$2 is not a number from $3 to $4"
  fi
}
[ -z "$taskmanagers" ] || number_in --taskmanagers "$taskmanagers" 1 16
[ -z "$port" ] || number_in --port "$port" 1 65534
[ -z "$slots" ] || number_in --slots "$slots" 1 64
[ -z "$victim" ] || number_in "kill-taskmanager" "$victim" 1 999
command -v curl > /dev/null || die "curl is needed to ask the cluster's REST API"

# An absolute path: the configuration and the pid checks name it.
if [ -d "$state" ]; then
  state="$(cd "$state" && pwd)"
elif [ "$command" = start ]; then
  mkdir -p "$state"
  state="$(cd "$state" && pwd)"
fi
conf="$state/conf"
logs="$state/logs"
jm_pid_file="$state/jobmanager.pid"

seconds_since() { # $1 a millis value: the time since then as "S.s"
  local took=$(($(millis) - $1))
  printf '%d.%01d' $((took / 1000)) $((took % 1000 / 100))
}

# Whether the process of pid file $1 runs and its command line holds $2 (a reused pid does not).
pid_running() {
  local pid
  pid="$(cat "$1" 2> /dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2> /dev/null || return 1
  if [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$2" || return 1
  fi
  echo "$pid"
}

jm_pid() { pid_running "$jm_pid_file" "$entrypoint --configDir $conf "; }

tm_id() { echo "taskmanager-$1"; }

tm_pid_file() { echo "$state/$(tm_id "$1").pid"; }

tm_pid() { pid_running "$(tm_pid_file "$1")" "$taskmanager_main --configDir $conf -D taskmanager.resource-id=$(tm_id "$1") "; }

tm_numbers() { # every TaskManager number with a pid file, ascending
  local f n
  for f in "$state"/taskmanager-*.pid; do
    [ -e "$f" ] || continue
    n="${f##*/taskmanager-}"
    echo "${n%.pid}"
  done | sort -n
}

rest() { # GET $2 from the REST API on port $1; fails when it does not answer within 3 s
  curl -sf --max-time 3 "http://127.0.0.1:$1$2"
}

json_number() { # $1 field, from the JSON object on stdin
  grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2
}

registered() { # the ids of the TaskManagers the REST API on port $1 lists, one a line
  rest "$1" /taskmanagers | grep -o '"id":"[^"]*"' | cut -d'"' -f4
}

log_tail() { # the first errors and last lines of the logs of processes $@ (jobmanager, taskmanager-N)
  local name f
  for name in "$@"; do
    if grep -qE ' (ERROR|FATAL) ' "$logs/$name.log" 2> /dev/null; then
      echo "--- first errors in $logs/$name.log:" >&2
      grep -m 3 -E ' (ERROR|FATAL) ' "$logs/$name.log" >&2
      # The innermost cause of the last stack trace: what the ERROR line wraps.
      grep 'Caused by: ' "$logs/$name.log" | tail -n 1 >&2 || true
    fi
    for f in "$logs/$name.log" "$logs/$name.out"; do
      if [ -s "$f" ]; then
        echo "--- last lines of $f:" >&2
        tail -n 25 "$f" >&2
      fi
    done
  done
}


write_config() { # $1 REST port, $2 JobManager RPC port, $3 slots per TaskManager
  mkdir -p "$conf"
  # A flink-conf.yaml beside it would win (Flink 1.19 reads the legacy file first).
  rm -f "$conf/flink-conf.yaml"
  cat > "$conf/config.yaml" << EOF
# Written by flink-cluster.sh on each start; edits are lost. Flink 1.19's standard YAML file.
jobmanager.rpc.address: localhost
jobmanager.rpc.port: $2
jobmanager.bind-host: localhost
jobmanager.memory.process.size: $jm_process_size
taskmanager.host: localhost
taskmanager.bind-host: localhost
taskmanager.memory.process.size: $tm_process_size
taskmanager.numberOfTaskSlots: $3
rest.address: 127.0.0.1
rest.bind-address: 127.0.0.1
rest.port: $1
# A job of parallelism P takes its slots from different TaskManagers where it can, so that its
# shuffles cross processes as on a real cluster.
cluster.evenly-spread-out-slots: true
# TaskManagers start beside the JobManager and retry their registration until it answers: every
# second rather than Flink's 10 s, on loopback.
cluster.registration.error-delay: 1000
# A killed TaskManager is noticed after two failed heartbeats (4 s), a hung one after 30 s.
heartbeat.interval: 2000
heartbeat.timeout: 30000
# Batch jobs take the restart strategy from here: Beam 2.62 applies --numberOfExecutionRetries
# to streaming jobs only. A lost TaskManager costs a restart, not the job; a job that fails for
# good runs three times. The delay outlasts the two failed heartbeats: with 2 s, a restart still
# deployed to a killed TaskManager's slots and cost a second attempt.
restart-strategy.type: fixed-delay
restart-strategy.fixed-delay.attempts: 2
restart-strategy.fixed-delay.delay: 5 s
state.checkpoints.dir: file://$state/checkpoints
state.savepoints.dir: file://$state/savepoints
io.tmp.dirs: $state/tmp
web.tmpdir: $state/tmp/web
EOF
  cat > "$conf/log4j.properties" << 'EOF'
# Log4j 2 (Flink's backend); each JVM names its file in -Dlog.file. Appending: a JVM that logs
# after Log4j shut down (Pekko does at exit) opens the file again, and must not truncate it.
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = File
appender.file.name = File
appender.file.type = File
appender.file.fileName = ${sys:log.file}
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
EOF
  cat > "$conf/log4j-tools.properties" << 'EOF'
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = Stderr
appender.stderr.name = Stderr
appender.stderr.type = Console
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{HH:mm:ss,SSS} %-5p %c - %m%n
EOF
}

# What Flink's scripts ask BashJavaUtils for: $1 GET_JM_RESOURCE_PARAMS or GET_TM_RESOURCE_PARAMS;
# writes the JVM options (first line) and the -D dynamic properties (second line) to $2. They split
# the process size into heap, direct, metaspace and managed memory, as the entry points check.
resource_params() {
  local output="$logs/bash-java-utils-$1.log"
  if ! java -Xmx128m -XX:TieredStopAtLevel=1 -Dlog4j.configurationFile="file:$conf/log4j-tools.properties" \
      -cp "$(cat "$state/classpath")" org.apache.flink.runtime.util.bash.BashJavaUtils "$1" \
      --configDir "$conf" > "$output" 2>&1; then
    tail -n 25 "$output" >&2
    die "BashJavaUtils $1 failed (output in $output)"
  fi
  grep '^BASH_JAVA_UTILS_EXEC_RESULT:' "$output" | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://' > "$2"
  if [ "$(wc -l < "$2")" -ne 2 ]; then
    cat "$output" >&2
    die "BashJavaUtils $1 did not print two result lines (output in $output)"
  fi
}

# Starts a JVM in a session of its own (the terminal's Ctrl-C and the caller's exit leave it
# running), without inherited descriptors (a caller reading this script's output sees its end);
# $1 pid file, $2 log name, $3 params file, then the main class and its arguments.
launch() {
  local pid_file="$1" name="$2" params="$3"
  shift 3
  local jvm_opts dynamic launcher=()
  read -ra jvm_opts <<< "$(sed -n 1p "$params")"
  read -ra dynamic <<< "$(sed -n 2p "$params")"
  if command -v setsid > /dev/null; then
    launcher=(setsid)
  fi
  rm -f "$pid_file"
  # The state folder is its working directory: a relative path means the same on every JVM of
  # the cluster, and nothing there depends on where this script was called from.
  # shellcheck disable=SC2016 # $$, $1 and $2 belong to the inner shell
  "${launcher[@]}" bash -c 'echo $$ > "$1"; cd "$2"; shift 2; exec "$@"' flink-cluster "$pid_file" "$state" \
    java "${jvm_opts[@]}" "${java17_opts[@]}" -XX:+UseG1GC -Djava.awt.headless=true \
    -Djava.io.tmpdir="$state/tmp" -Dlog.file="$logs/$name.log" \
    -Dlog4j.configurationFile="file:$conf/log4j.properties" \
    -cp "$(cat "$state/classpath")" "$1" --configDir "$conf" "${@:2}" "${dynamic[@]}" \
    < /dev/null > "$logs/$name.out" 2>&1 &
  while [ ! -s "$pid_file" ]; do
    sleep 0.05
  done
}

start_taskmanager() { # $1 its number
  launch "$(tm_pid_file "$1")" "$(tm_id "$1")" "$state/taskmanager.params" "$taskmanager_main" \
    -D "taskmanager.resource-id=$(tm_id "$1")"
}

stop_pids() { # TERM, then KILL what still runs once the stop timeout has passed
  local pid deadline=$((SECONDS + stop_timeout)) left
  for pid in "$@"; do
    kill -TERM "$pid" 2> /dev/null || true
  done
  while true; do
    left=()
    for pid in "$@"; do
      if kill -0 "$pid" 2> /dev/null; then
        left+=("$pid")
      fi
    done
    [ ${#left[@]} -gt 0 ] || return 0
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.2
  done
  echo "flink-cluster: pid ${left[*]} did not stop within ${stop_timeout} s; killing" >&2
  for pid in "${left[@]}"; do
    kill -KILL "$pid" 2> /dev/null || true
  done
  for pid in "${left[@]}"; do
    while kill -0 "$pid" 2> /dev/null; do
      sleep 0.1
    done
  done
}

stop_all() { # every JVM of the state folder, TaskManagers and JobManager together
  local pids=() n pid
  for n in $(tm_numbers); do
    if pid="$(tm_pid "$n")"; then
      pids+=("$pid")
    fi
  done
  if pid="$(jm_pid)"; then
    pids+=("$pid")
  fi
  [ ${#pids[@]} -eq 0 ] || stop_pids "${pids[@]}"
  rm -f "$jm_pid_file" "$state"/taskmanager-*.pid
  # Temporary files (the RPC system's extracted jar, blobs, uploads) of processes that are gone.
  rm -rf "$state/tmp"
  echo "${#pids[@]}"
}

# Waits until the REST API on $1 lists TaskManagers $2... ; on a JVM that exits first or on the
# start timeout, fails with the logs' tails (taken before the stop adds its own lines) and stops
# the cluster.
await_ready() {
  local p="$1"
  shift
  local deadline=$((SECONDS + start_timeout)) n ids missing
  while true; do
    if ! jm_pid > /dev/null; then
      log_tail jobmanager
      stop_all > /dev/null
      die "the JobManager exited during start-up (logs in $logs)"
    fi
    for n in "$@"; do
      if ! tm_pid "$n" > /dev/null; then
        log_tail "$(tm_id "$n")"
        stop_all > /dev/null
        die "TaskManager $n exited during start-up (logs in $logs)"
      fi
    done
    missing=()
    if ids="$(registered "$p")"; then
      for n in "$@"; do
        grep -qx "$(tm_id "$n")" <<< "$ids" || missing+=("$n")
      done
      [ ${#missing[@]} -gt 0 ] || return 0
    else
      missing=("$@")
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail jobmanager
      for n in "${missing[@]}"; do
        log_tail "$(tm_id "$n")"
      done
      stop_all > /dev/null
      die "the REST API on 127.0.0.1:$p did not list TaskManager(s) ${missing[*]} within" \
        "${start_timeout} s; stopped the cluster (logs in $logs)"
    fi
    sleep 0.3
  done
}

running_tms() { # the numbers of the TaskManagers that run
  local n
  for n in $(tm_numbers); do
    if tm_pid "$n" > /dev/null; then
      echo "$n"
    fi
  done
}

next_tm() { # one above the highest number this cluster has used, so that no id comes back
  local last
  last="$(cat "$state/taskmanager.last" 2> /dev/null || echo 0)"
  echo $((last + 1)) | tee "$state/taskmanager.last"
}

describe() { # $1 REST port: one line on what the cluster runs
  local overview
  overview="$(rest "$1" /overview)" || return 1
  printf '%s TaskManager(s), %s slot(s) (%s free), %s running job(s)' \
    "$(json_number taskmanagers <<< "$overview")" "$(json_number slots-total <<< "$overview")" \
    "$(json_number slots-available <<< "$overview")" "$(json_number jobs-running <<< "$overview")"
}

start() {
  local began pid n
  began="$(millis)"
  if pid="$(jm_pid)"; then
    local running_port running_slots
    running_port="$(cat "$state/port")"
    running_slots="$(cat "$state/slots")"
    if [ -n "$port" ] && [ "$port" != "$running_port" ]; then
      die "a cluster of $state already runs on port $running_port (pid $pid); stop it first"
    fi
    if [ -n "$slots" ] && [ "$slots" != "$running_slots" ]; then
      die "a cluster of $state with $running_slots slots per TaskManager already runs; stop it first"
    fi
    class_path "Flink's jars"
    local alive=() started=()
    mapfile -t alive < <(running_tms)
    for ((n = ${#alive[@]}; n < ${taskmanagers:-1}; n++)); do
      started+=("$(next_tm)")
      start_taskmanager "${started[-1]}"
    done
    await_ready "$running_port" "${alive[@]}" "${started[@]}"
    local added=""
    [ ${#started[@]} -eq 0 ] || added=", started TaskManager(s) ${started[*]} in $(seconds_since "$began") s"
    echo "flink-cluster: already running at http://127.0.0.1:$running_port (JobManager pid $pid$added);" \
      "$(describe "$running_port"); logs in $logs"
    return 0
  fi
  stop_all > /dev/null # TaskManagers whose JobManager is gone
  port="${port:-8081}"
  slots="${slots:-2}"
  taskmanagers="${taskmanagers:-1}"
  listening "$port" && die "127.0.0.1:$port is already in use by another process"
  # The JobManager's RPC port is the first port above the REST port that nobody listens on.
  local rpc=$((port + 1))
  while listening "$rpc"; do
    rpc=$((rpc + 1))
    [ "$rpc" -le 65535 ] || die "no free port above $port for the JobManager's RPC"
  done

  class_path "Flink's jars"
  rm -rf "$logs"
  mkdir -p "$logs" "$state/tmp" "$state/checkpoints" "$state/savepoints"
  write_config "$port" "$rpc" "$slots"
  echo "$port" > "$state/port"
  echo "$slots" > "$state/slots"
  echo 0 > "$state/taskmanager.last"
  # Both at once: each is a JVM start of about a second.
  resource_params GET_JM_RESOURCE_PARAMS "$state/jobmanager.params" &
  local jm_params=$!
  resource_params GET_TM_RESOURCE_PARAMS "$state/taskmanager.params" || { wait "$jm_params" || true; exit 1; }
  wait "$jm_params" || exit 1

  launch "$jm_pid_file" jobmanager "$state/jobmanager.params" "$entrypoint"
  pid="$(cat "$jm_pid_file")"
  # The TaskManagers retry their registration until the JobManager answers.
  local numbers=()
  for ((n = 0; n < taskmanagers; n++)); do
    numbers+=("$(next_tm)")
    start_taskmanager "${numbers[-1]}"
  done
  await_ready "$port" "${numbers[@]}"
  echo "flink-cluster: running at http://127.0.0.1:$port (web UI and REST API; JobManager pid $pid," \
    "RPC port $rpc), started in $(seconds_since "$began") s; $(describe "$port"); logs in $logs"
}

status() {
  local pid p n line
  if ! pid="$(jm_pid)"; then
    echo "flink-cluster: not running (state in $state)"
    exit 3
  fi
  p="$(cat "$state/port")"
  local pids=()
  for n in $(running_tms); do
    pids+=("$n (pid $(tm_pid "$n"))")
  done
  if line="$(describe "$p")"; then
    echo "flink-cluster: running at http://127.0.0.1:$p (JobManager pid $pid); $line"
    echo "flink-cluster: TaskManager processes: ${pids[*]:-none}; logs in $logs"
    exit 0
  fi
  echo "flink-cluster: the JobManager runs (pid $pid) but its REST API on 127.0.0.1:$p does not answer;" \
    "logs in $logs"
  exit 1
}

stop() {
  local began stopped
  began="$(millis)"
  if ! jm_pid > /dev/null && [ -z "$(running_tms)" ]; then
    rm -f "$jm_pid_file" "$state"/taskmanager-*.pid
    echo "flink-cluster: not running (state in $state)"
    return 0
  fi
  stopped="$(stop_all)"
  echo "flink-cluster: stopped $stopped JVM(s) in $(seconds_since "$began") s"
}

add_taskmanager() {
  local began n p
  began="$(millis)"
  jm_pid > /dev/null || die "not running (state in $state); start the cluster first"
  p="$(cat "$state/port")"
  class_path "Flink's jars"
  n="$(next_tm)"
  start_taskmanager "$n"
  await_ready "$p" "$n"
  echo "flink-cluster: TaskManager $n (pid $(tm_pid "$n")) registered in $(seconds_since "$began") s;" \
    "$(describe "$p")"
}

kill_taskmanager() {
  local pid
  pid="$(tm_pid "$victim")" || die "TaskManager $victim does not run (running: $(running_tms | paste -sd ' ' -))"
  kill -KILL "$pid"
  while kill -0 "$pid" 2> /dev/null; do
    sleep 0.05
  done
  rm -f "$(tm_pid_file "$victim")"
  echo "flink-cluster: killed TaskManager $victim (pid $pid) with SIGKILL"
}

case "$command" in
  add-taskmanager) add_taskmanager ;;
  kill-taskmanager) kill_taskmanager ;;
  *) "$command" ;;
esac
