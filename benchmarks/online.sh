#!/usr/bin/env bash
# The online store: lookups, the HTTP server, freshness and memory; see BENCHMARKS.md
# ("The online store").
#
#   benchmarks/online.sh
#
# 1. Load: EVENTS generated events for ENTITIES users over 30 days (2025-01-01 on), loaded with
#    ./featurebeam batch --spec=examples/user_features.yaml --asOfDate=2025-01-30
#    --onlineStore=STORE (Redis database BENCH_DB, emptied first). Redis memory per entity: the
#    growth of INFO's used_memory over the keys, and MEMORY USAGE of 1,000 keys.
# 2. Java lookups (OnlineLookups): OnlineFeatures.get of a random entity, the bare Jedis HMGET of
#    the same fields, and getAll of 100 entities, one thread, in one process.
# 3. HTTP: ./featurebeam serve on a free port; wrk (Debian's package) from a second process with
#    16 connections for DURATION seconds, each request GET /v1/features/user_features/v1/<random
#    entity>?at=…, then the same load on GET /health (one Redis PING and nothing else: the
#    server's floor). The server and wrk share the machine's cores.
# 4. Freshness (OnlineFreshness): its own Kafka broker; an open-ended stream with --onlineStore
#    (database BENCH_DB + 1) over a topic into which ./featurebeam generate --rate=RATE
#    --liveTimestamps produces; probes sent every 100 ms, each timed from its send to the first
#    read that serves it.
#
# Environment (defaults in brackets): EVENTS [2000000], ENTITIES [100000], RATE [10000],
# DURATION [60], FRESH_SECONDS [180], BENCH_DB [8], BENCH_WORK [benchmarks/work], SKIP_BUILD [0],
# SKIP_LOAD [0] (skips 1 to 3), SKIP_HTTP [0], SKIP_FRESHNESS [0], STREAM_ARGS (more options for
# the stream of 4, e.g. --checkpointingInterval=-1), FEATUREBEAM_JAVA_OPTS.
# Needs Java 17, Maven, redis-cli, wrk, curl, python3, flock and /usr/bin/time.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
EVENTS="${EVENTS:-2000000}"
ENTITIES="${ENTITIES:-100000}"
RATE="${RATE:-10000}"
DURATION="${DURATION:-60}"
FRESH_SECONDS="${FRESH_SECONDS:-180}"
BENCH_DB="${BENCH_DB:-8}"
WORK="${BENCH_WORK:-$here/work}"
MVN_FLAGS="${MVN_FLAGS:--B -q}"
die() {
  echo "online.sh: $*" >&2
  exit 2
}
for n in EVENTS ENTITIES RATE DURATION FRESH_SECONDS BENCH_DB; do
  [[ "${!n}" =~ ^[0-9]+$ ]] || die "$n must be a whole number: '${!n}'"
done
for tool in java redis-cli wrk curl python3 flock /usr/bin/time; do
  command -v "$tool" > /dev/null || die "$tool is missing (Debian: apt-get install wrk redis-tools curl time)"
done
# shellcheck source=benchmarks/lib.sh
source "$here/lib.sh"

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
run="$WORK/online-$STAMP"
mkdir -p "$run" "$here/results" "$WORK/data"
result="$here/results/online-$STAMP.md"
say() { echo "$*" | tee -a "$result"; }
store="redis://127.0.0.1:6379/$BENCH_DB"
rcli() { redis-cli -h 127.0.0.1 -p 6379 -n "$BENCH_DB" "$@"; }
take_bench_lock
build_jars
cp="$here/target/featurebeam-benchmarks.jar:$here/target/lib/*"
spec="$repo/examples/user_features.yaml"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  pkill -f -- "$run/out-live" 2> /dev/null || true  # the stream under script(1)
  "$repo/runners-config/kafka-local.sh" stop > /dev/null 2>&1 || true
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

say "# Online store benchmark $STAMP"
say ""
say "Machine: $(nproc) cores, $(uname -sr), $(java -version 2>&1 | head -1), $(redis-server --version | cut -d' ' -f1-3); commit $(cd "$repo" && git rev-parse --short HEAD 2> /dev/null || echo '?'); load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
say ""

if [ "${SKIP_LOAD:-0}" != 1 ]; then
# 1. The load and the memory.
data="$WORK/data/online-$EVENTS-$ENTITIES.csv"
if [ ! -s "$data" ]; then
  # generate picks the format by the name's extension: the partial file ends in .csv too.
  partial="$WORK/data/online-$EVENTS-$ENTITIES-partial.csv"
  (cd "$repo" && ./featurebeam generate --out="$partial" --events="$EVENTS" \
    --users="$ENTITIES" --days=30 --startDate=2025-01-01 --seed=42) > "$run/generate.txt"
  mv "$partial" "$data"
fi
rcli flushdb > /dev/null
before="$(rcli info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')"
(cd "$repo" && /usr/bin/time -o "$run/load.time" -f "%e s wall, %M KB peak RSS" \
  ./featurebeam batch --spec="$spec" --source="file:$data" --out="$run/out" \
  --asOfDate=2025-01-30 --onlineStore="$store" --progress=false) > "$run/load.log" 2>&1 \
  || die "the load failed; see $run/load.log"
after="$(rcli info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')"
# Entities are the hashes fb:<fs>:v1:<entity>; each kept day's events are a key of their own,
# {fb:<fs>:v1:<entity>}:<day>, which the pattern does not match.
keys="$(rcli --scan --pattern 'fb:user_features:v1:*' | wc -l)"
allkeys="$(rcli dbsize)"
sample="$(rcli --scan --pattern 'fb:user_features:v1:*' | head -n 1000 || true)"  # head closes the pipe early
# Per sampled entity: MEMORY USAGE of its hash and of its days' keys; the tiles and the events.
usage=0; statelen=0; n=0
for k in $sample; do
  days="$(rcli hget "$k" days)"
  u="$(rcli memory usage "$k" samples 0)"
  l="$(rcli hstrlen "$k" tiles)"
  for d in $days; do
    u=$((u + $(rcli memory usage "{$k}:$d" samples 0)))
    l=$((l + $(rcli strlen "{$k}:$d")))
  done
  usage=$((usage + u)); statelen=$((statelen + l)); n=$((n + 1))
done
usage=$((usage / n)); statelen=$((statelen / n))
say "## Load and memory"
say ""
say "- data: \`./featurebeam generate --events=$EVENTS --users=$ENTITIES --days=30 --startDate=2025-01-01 --seed=42\`"
say "- load: \`./featurebeam batch --spec=examples/user_features.yaml --asOfDate=2025-01-30 --onlineStore=$store\` (Flink local): $(cat "$run/load.time")"
say "- entities: $keys ($allkeys keys with their days' events); used_memory grew by $(( (after - before) / 1024 / 1024 )) MiB, $(( (after - before) / keys )) bytes per entity; MEMORY USAGE of 1,000 entities (hash and days): $usage bytes on average; the state's tiles and events alone: $statelen bytes (each hash also holds the batch base, a second copy)"
say ""

# 2. The Java lookups.
at="2025-02-01T12:00:00Z"
say "## Java lookups (OnlineLookups, one thread, at=$at)"
say ""
say '```'
java -Xmx2g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" \
  dev.featurebeam.benchmarks.OnlineLookups --spec="$spec" --store="$store" --at="$at" \
  --entitiesFile="$run/entities.txt" 2> "$run/lookups.err" | tee -a "$result"
say '```'
say ""

# 3. The HTTP server under wrk.
if [ "${SKIP_HTTP:-0}" != 1 ]; then
  port="$(free_port)"
  (cd "$repo" && exec ./featurebeam serve --spec="$spec" --onlineStore="$store" \
    --port="$port") > "$run/serve.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1 && break
    sleep 0.5
  done
  curl -sf "http://127.0.0.1:$port/health" > /dev/null || die "serve did not start; see $run/serve.log"
  cat > "$run/entities.lua" <<EOF
local ids = {}
for line in io.lines("$run/entities.txt") do ids[#ids + 1] = line end
math.randomseed(42)
request = function()
  return wrk.format("GET", "/v1/features/user_features/v1/" .. ids[math.random(#ids)] .. "?at=$at")
end
EOF
  # Warm-up (the JIT, the pools), then the measured run, then the floor.
  wrk -t2 -c16 -d15s -s "$run/entities.lua" "http://127.0.0.1:$port" > "$run/wrk-warmup.txt"
  curl -s "http://127.0.0.1:$port/v1/features/user_features/v1/$(head -n 1 "$run/entities.txt")?at=$at" > "$run/one-response.json"
  wrk -t2 -c16 -d"${DURATION}s" --latency -s "$run/entities.lua" "http://127.0.0.1:$port" > "$run/wrk-features.txt"
  wrk -t2 -c16 -d"${DURATION}s" --latency "http://127.0.0.1:$port/health" > "$run/wrk-health.txt"
  say "## HTTP (wrk -t2 -c16, ${DURATION} s, from a second process on the same 2 cores)"
  say ""
  say "One response: \`$(head -c 600 "$run/one-response.json")\`"
  say ""
  for f in features health; do
    say "GET $([ $f = features ] && echo "/v1/features/user_features/v1/<random entity>?at=$at" || echo /health):"
    say '```'
    sed -n '/Latency Distribution/,$p' "$run/wrk-$f.txt" | tee -a "$result" > /dev/null
    grep -E '^ +Latency ' "$run/wrk-$f.txt" | tee -a "$result" > /dev/null
    say '```'
  done
  # p99.9 from wrk's own latency summary is not printed by --latency; ask it with a Lua done().
  cat > "$run/p999.lua" <<EOF
$(cat "$run/entities.lua")
done = function(summary, latency, requests)
  io.write(string.format("p50_us=%d p99_us=%d p999_us=%d max_us=%d requests=%d errors=%d\n",
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
EOF
  wrk -t2 -c16 -d"${DURATION}s" -s "$run/p999.lua" "http://127.0.0.1:$port" > "$run/wrk-p999.txt"
  say "Again, with p99.9 (closed loop, as fast as the 16 connections go): \`$(grep p999 "$run/wrk-p999.txt")\`, $(grep Requests/sec "$run/wrk-p999.txt")"
  say ""
  # A bounded load: each connection waits 8 ms after each answer (wrk's delay()), about 1,900
  # requests/s in all; the latency is then the server's, not the queue's behind a saturated CPU.
  { cat "$run/p999.lua"; printf 'delay = function()\n  return 8\nend\n'; } > "$run/bounded.lua"
  curl -sf "http://127.0.0.1:$port/metrics" > "$run/metrics-before.txt"
  wrk -t2 -c16 -d"${DURATION}s" -s "$run/bounded.lua" "http://127.0.0.1:$port" > "$run/wrk-bounded.txt"
  curl -sf "http://127.0.0.1:$port/metrics" > "$run/metrics-after.txt"
  say "Bounded load (16 connections, 8 ms pause after each answer): \`$(grep p999 "$run/wrk-bounded.txt")\`, $(grep Requests/sec "$run/wrk-bounded.txt")"
  # The server's own latency histogram over the bounded run (from reading a request to its last
  # byte written): what of wrk's latency the handler is, and what is outside it.
  say "- the server's own time for those requests (its /metrics histogram, the run's difference): $(python3 - "$run/metrics-before.txt" "$run/metrics-after.txt" <<'PY'
import re, sys
def buckets(path):
    b = {}
    for line in open(path):
        m = re.match(r'featurebeam_serve_request_duration_seconds_bucket\{endpoint="entity",le="([^"]+)"\} (\S+)', line)
        if m:
            b[float(m.group(1))] = float(m.group(2))
    return b
before, after = buckets(sys.argv[1]), buckets(sys.argv[2])
total = after[float("inf")] - before.get(float("inf"), 0)
print(", ".join("%.2f%% within %g ms" % (100 * (after[le] - before.get(le, 0)) / total, le * 1000)
                for le in (0.0005, 0.001, 0.002, 0.005) if le in after) + " of %d requests" % total)
PY
)"
  say ""
  kill "${pids[-1]}" 2> /dev/null || true
fi
fi # SKIP_LOAD

# 4. Freshness under load.
if [ "${SKIP_FRESHNESS:-0}" != 1 ]; then
  fresh="redis://127.0.0.1:6379/$((BENCH_DB + 1))"
  redis-cli -n "$((BENCH_DB + 1))" flushdb > /dev/null
  kport="$(python3 - <<'EOF'
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
  export KAFKA_LOCAL_DIR="$run/kafka"
  "$repo/runners-config/kafka-local.sh" start --port="$kport" >&2
  broker="127.0.0.1:$kport"
  cd "$repo"
  ./featurebeam generate --out="kafka://$broker/live" --events=1 --duplicateFraction=0 \
    --malformedFraction=0 --liveTimestamps --partitions=2 > "$run/live-topic.txt"
  today="$(date -u +%F)"
  # A pseudo-terminal makes the progress line redraw every second: the log shows the read rate.
  printf -v streamcmd '%q ' ./featurebeam stream --spec=examples/stream_features.yaml \
    --source="kafka://$broker/live" --out="$run/out-live" --from="$today" \
    --onlineStore="$fresh" ${STREAM_ARGS:-}
  script -qfec "$streamcmd" /dev/null < /dev/null > "$run/stream.log" 2>&1 &
  pids+=($!)
  sleep 20
  total=$((RATE * (FRESH_SECONDS + 90)))
  ./featurebeam generate --out="kafka://$broker/live" --events="$total" --rate="$RATE" \
    --users="$ENTITIES" --liveTimestamps --days=1 --seed=43 > "$run/live-generate.txt" 2>&1 &
  pids+=($!)
  java -Xmx512m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" \
    dev.featurebeam.benchmarks.OnlineFreshness --bootstrap="$broker" --topic=live \
    --spec=examples/stream_features.yaml --store="$fresh" --seconds="$FRESH_SECONDS" \
    --warmupSeconds=30 > "$run/freshness.txt" 2> "$run/freshness.err" \
    || echo "no probe was served within 30 s: the stream fell behind" > "$run/freshness.txt"
  say "## Freshness at $RATE events/s (probes every 100 ms for $FRESH_SECONDS s after 30 s)"
  say ""
  say "- load: \`./featurebeam generate --out=kafka://BROKER/live --rate=$RATE --users=$ENTITIES --liveTimestamps\`; stream: \`./featurebeam stream --spec=examples/stream_features.yaml --source=kafka://BROKER/live --from=$today --onlineStore=$fresh ${STREAM_ARGS:-}\` (Flink local)"
  say "- the stream's last progress line: \`$(tr '\r' '\n' < "$run/stream.log" | grep -a 'read ' | tail -n 1 || true)\`"
  say "- $(cat "$run/freshness.txt")"
  say "- producer: $(tail -n 1 "$run/live-generate.txt" 2> /dev/null || true); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  say ""
fi
say "Logs: $run"
sed -i "s#$repo/##g" "$result"
echo "online.sh: results in $result" >&2
