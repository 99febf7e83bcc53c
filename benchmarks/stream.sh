#!/usr/bin/env bash
# The stream's throughput and watermark lag on Flink's embedded local mode, end to end; see
# benchmarks/README.md ("The stream").
#
#   benchmarks/stream.sh
#
# 1. Starts its own Kafka broker (runners-config/kafka-local.sh) on a free loopback port, with its
#    state under the work folder, and stops it on exit.
# 2. Backlog: EVENTS generated events (60 days from 2025-01-01) into a 2-partition topic; a plain
#    Kafka consumer reads and parses them (the read path's upper bound); then
#    ./featurebeam stream --spec=examples/stream_features.yaml over the topic for the as-of dates
#    2025-01-10 .. 2025-02-28, which stops by itself once the last one is published. Prints the
#    sustained rate (records per second from 10% to 90% of the records read), from the progress
#    line, which a pseudo-terminal makes redraw every second.
# 3. Live: ./featurebeam generate --rate=RATE --liveTimestamps into a second topic while an
#    open-ended stream reads it; after WARMUP seconds the lag of the watermark behind the wall
#    clock is taken from each progress line for SAMPLE seconds: p50, p90, p99, max.
# The 1-minute load average is sampled throughout: other work on the machine shows there.
#
# Environment (defaults in brackets): EVENTS [2000000], RATE [10000], WARMUP [60], SAMPLE [180],
# BENCH_WORK [benchmarks/work], SKIP_BACKLOG [0], SKIP_LIVE [0], STREAM_ARGS (more options for
# both streams, e.g. --maxOutOfOrderness=0s or --onlineStore=redis://127.0.0.1:6379/9), GENERATE_ARGS
# (more options for both generates, e.g. --users=100000), FEATUREBEAM_JAVA_OPTS.
# Needs Java 17, Maven (the first build), python3, script (util-linux), flock and timeout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
EVENTS="${EVENTS:-2000000}"
RATE="${RATE:-10000}"
WARMUP="${WARMUP:-60}"
SAMPLE="${SAMPLE:-180}"
WORK="${BENCH_WORK:-$here/work}"
STATS="$here/stream_stats.py"
die() {
  echo "stream.sh: $*" >&2
  exit 2
}
for n in EVENTS RATE WARMUP SAMPLE; do
  [[ "${!n}" =~ ^[1-9][0-9]*$ ]] || die "$n must be a positive whole number: '${!n}'"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian/Ubuntu: apt-get install time)"
for tool in java javac python3 script flock timeout; do
  command -v "$tool" > /dev/null || die "$tool is missing"
done

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
run="$WORK/stream-$STAMP"
mkdir -p "$run" "$here/results"
result="$here/results/stream-$STAMP.md"
say() { echo "$*" | tee -a "$result"; }

# One benchmark at a time on this machine (run.sh takes the same lock).
exec 9> /tmp/bench.lock
flock 9

echo "stream.sh: building (./featurebeam builds its jar when the sources are newer) ..." >&2
(cd "$repo" && ./featurebeam help > /dev/null)
jar="$repo/pipelines/target/featurebeam.jar"
mkdir -p "$run/classes"
javac -nowarn -cp "$jar" -d "$run/classes" "$here/src/main/java/dev/featurebeam/benchmarks/PlainKafkaJson.java"

# A free port whose neighbour (the controller's) is free too.
port="$(python3 - <<'EOF'
import socket
for p in range(19092, 29092, 2):
    try:
        for q in (p, p + 1):
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(('127.0.0.1', q)); s.close()
        print(p); break
    except OSError:
        pass
EOF
)"
[ -n "$port" ] || die "no free port pair found"
export KAFKA_LOCAL_DIR="$run/kafka"
loadpid=""
cleanup() {
  [ -z "$loadpid" ] || kill "$loadpid" 2> /dev/null || true
  "$repo/runners-config/kafka-local.sh" stop > /dev/null 2>&1 || true
}
trap cleanup EXIT
"$repo/runners-config/kafka-local.sh" start --port="$port" >&2
broker="127.0.0.1:$port"
(while true; do cut -d' ' -f1 /proc/loadavg >> "$run/load.txt"; sleep 5; done) &
loadpid=$!

say "# Stream benchmark $STAMP"
say ""
say "Machine: $(nproc) cores, $(uname -sr), $(java -version 2>&1 | head -1); commit $(cd "$repo" && git rev-parse --short HEAD 2> /dev/null || echo '?')"
say "Broker: runners-config/kafka-local.sh on $broker; load at start: $(uptime | sed 's/.*load/load/')"
say ""

# A stream command under a pseudo-terminal (the progress line then redraws each second), its lines
# stamped with the wall clock as they come. $1: log file; the rest: the command.
stamped() {
  local log=$1
  shift
  local cmd
  printf -v cmd '%q ' "$@"
  script -qfec "$cmd" /dev/null < /dev/null | python3 "$STATS" stamp > "$log" || true
}

if [ "${SKIP_BACKLOG:-0}" != 1 ]; then
  say "## Backlog: $EVENTS events, 2 partitions"
  say ""
  (cd "$repo" && ./featurebeam generate --out="kafka://$broker/backlog" --events="$EVENTS" \
      --days=60 --startDate=2025-01-01 --partitions=2 ${GENERATE_ARGS:-}) | tee -a "$result"
  say ""
  say "Plain Kafka consumer, one thread, JSON parsing only:"
  java -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$jar:$run/classes" \
      dev.featurebeam.benchmarks.PlainKafkaJson "$broker" backlog 2> "$run/plain.err" \
      | tee -a "$result"
  say ""
  cmd=(./featurebeam stream --spec=examples/stream_features.yaml --source="kafka://$broker/backlog"
    --out="$run/out-backlog" --from=2025-01-10 --to=2025-02-28 ${STREAM_ARGS:-})
  say "FeatureBeam: \`${cmd[*]}\` (Flink local, parallelism 2):"
  cp "$run/load.txt" "$run/load-backlog-start.txt"
  (cd "$repo" && stamped "$run/backlog.log" /usr/bin/time -o "$run/backlog.time" \
      -f "%e s wall, %U s user CPU, %S s system CPU, %M KB peak RSS" "${cmd[@]}")
  say "- $(python3 "$STATS" rate "$run/backlog.log")"
  say "- whole command: $(cat "$run/backlog.time"); $(tail -n +"$(( $(wc -l < "$run/load-backlog-start.txt") + 1 ))" "$run/load.txt" > "$run/load-backlog.txt"; python3 "$STATS" load "$run/load-backlog.txt")"
  say ""
fi

if [ "${SKIP_LIVE:-0}" != 1 ]; then
  say "## Live: $RATE records/s with --liveTimestamps, lag sampled for $SAMPLE s after $WARMUP s"
  say ""
  cd "$repo"
  cp "$run/load.txt" "$run/load-live-start.txt"
  # The topic, with one record, so that the stream can start before the paced records come.
  ./featurebeam generate --out="kafka://$broker/live" --events=1 --duplicateFraction=0 \
      --malformedFraction=0 --liveTimestamps --partitions=2 > "$run/live-topic.txt"
  today="$(date -u +%F)"
  cmd=(./featurebeam stream --spec=examples/stream_features.yaml --source="kafka://$broker/live"
    --out="$run/out-live" --from="$today" ${STREAM_ARGS:-})
  # In the background, its pid (timeout's, which passes a TERM on) in a file to stop it by.
  stamped "$run/live.log" bash -c 'echo $$ > "$0"; exec timeout -k 20 -s TERM "$1" "${@:2}"' \
      "$run/live.pid" "$((WARMUP + SAMPLE + 300))" "${cmd[@]}" &
  streamjob=$!
  for _ in $(seq 1 240); do # until the stream has read the first record
    grep -q watermark "$run/live.log" 2> /dev/null && break
    sleep 0.5
  done
  grep -q watermark "$run/live.log" || die "the live stream did not start; see $run/live.log"
  total=$((RATE * (WARMUP + SAMPLE + 30)))
  ./featurebeam generate --out="kafka://$broker/live" --events="$total" --rate="$RATE" \
      --liveTimestamps --days=1 --seed=43 ${GENERATE_ARGS:-} > "$run/live-generate.txt" 2>&1 &
  genpid=$!
  from="$(date +%s)"
  sleep "$((WARMUP + SAMPLE))"
  kill -TERM "$(cat "$run/live.pid")" 2> /dev/null || true
  wait "$streamjob" 2> /dev/null || true
  kill -TERM "$genpid" 2> /dev/null || true
  wait "$genpid" 2> /dev/null || true
  say "Producer: \`./featurebeam generate --out=kafka://$broker/live --events=$total --rate=$RATE --liveTimestamps --days=1 --seed=43 ${GENERATE_ARGS:-}\`, started once the stream had read the topic's first record"
  say "FeatureBeam: \`${cmd[*]}\`, stopped after the samples"
  say "- $(python3 "$STATS" lag "$run/live.log" "$((from + WARMUP))" "$((from + WARMUP + SAMPLE))")"
  say "- $(tail -n +"$(( $(wc -l < "$run/load-live-start.txt" 2> /dev/null || echo 0) + 1 ))" "$run/load.txt" > "$run/load-live.txt"; python3 "$STATS" load "$run/load-live.txt")"
  say ""
fi
say "Logs: $run"
sed -i "s#$repo/##g" "$result" # paths relative to the repository
echo "stream.sh: results in $result" >&2
