#!/usr/bin/env bash
# FeatureBeam against DuckDB and a plain Java loop, on the same generated events and the same
# feature spec (benchmarks/bench_spec.yaml); see benchmarks/README.md.
#
#   benchmarks/run.sh [EVENTS ...]        e.g.  benchmarks/run.sh 1000000 5000000 (default: 1000000)
#
# Each size N: N events from ./featurebeam generate (users N/50, 120 days from 2025-01-01, a fixed
# seed), features as of each of the last 90 days. Every system runs RUNS times as a whole process
# under /usr/bin/time -v; the outputs are checked to be the same rows; the table goes to standard
# output and to benchmarks/results/<UTC timestamp>.md.
#
# Environment (defaults in brackets):
#   RUNS [3]              timed runs per system and size
#   DIRECT_MAX [100000]   FeatureBeam on the DirectRunner only for sizes up to this (it is slow)
#   SEED [42]             the generator's seed
#   BENCH_WORK [benchmarks/work]   generated data (kept and reused), outputs, logs
#   SKIP_BUILD [0]        1: use the jars already built
#   MVN_FLAGS [-B -q]     e.g. "-B -q -o" to build offline
#   FEATUREBEAM_JAVA_OPTS JVM options for FeatureBeam (passed on by ./featurebeam, which adds
#                         -Xmx2g unless they set a heap)
#   BENCH_JAVA_OPTS       JVM options for the DuckDB and plain Java comparators
#   DUCKDB_THREADS        DuckDB's threads (default: every core)
#   BASELINE              a checkout of another commit whose pipelines/target/featurebeam.jar is
#                         built: its ./featurebeam runs as "featurebeam-flink-baseline" beside this
#                         one, round by round, and its output must agree too (a before/after)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
RUNS="${RUNS:-3}"
DIRECT_MAX="${DIRECT_MAX:-100000}"
SEED="${SEED:-42}"
WORK="${BENCH_WORK:-$here/work}"
MVN_FLAGS="${MVN_FLAGS:--B -q}"
START=2025-01-01
DAYS=120
BACKFILL=90
HEADER="event_id,user_id,event_type,amount,status,category,ts"

die() {
  echo "run.sh: $*" >&2
  exit 2
}

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000)
for n in "${sizes[@]}"; do
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 50 ] || die "a size is a number of events, at least 50: '$n'"
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive whole number: '$RUNS'"
[[ "$DIRECT_MAX" =~ ^[0-9]+$ ]] || die "DIRECT_MAX must be a whole number: '$DIRECT_MAX'"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian/Ubuntu: apt-get install time)"
command -v flock > /dev/null || die "flock is missing (util-linux)"
command -v java > /dev/null || die "java is missing (Java 17)"

FROM="$(date -u -d "$START + $((DAYS - BACKFILL)) days" +%F)"
TO="$(date -u -d "$START + $((DAYS - 1)) days" +%F)"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"

# ---------------------------------------------------------------- build
# shellcheck source=benchmarks/lib.sh
source "$here/lib.sh"
build_jars
if [ -n "${BASELINE:-}" ]; then
  BASELINE="$(cd "$BASELINE" && pwd)"
  [ -f "$BASELINE/pipelines/target/featurebeam.jar" ] || die "BASELINE=$BASELINE has no built pipelines/target/featurebeam.jar"
  (cd "$BASELINE" && ./featurebeam > /dev/null 2>&1) || true # its class-data-sharing archive
fi
CP="$here/target/featurebeam-benchmarks.jar:$here/target/lib/*"
# The wrapper makes its class-data-sharing archive on the first run after a build; not a timed one.
(cd "$repo" && ./featurebeam > /dev/null 2>&1) || true

mkdir -p "$WORK/data" "$WORK/out" "$WORK/logs/$STAMP" "$here/results"
LOGS="$WORK/logs/$STAMP"
TSV="$LOGS/measurements.tsv"
: > "$TSV"

# ---------------------------------------------------------------- one lock for all the heavy work
take_bench_lock

# ---------------------------------------------------------------- data
for n in "${sizes[@]}"; do
  events_file "$n" > /dev/null
done
EMPTY="$WORK/data/empty.csv"
echo "$HEADER" > "$EMPTY"

# ---------------------------------------------------------------- timed runs
fb() { # SOURCE OUT RUNNER_CONFIG [WRAPPER]
  rm -rf "$2"
  measure_args=("${4:-./featurebeam}" batch --spec=benchmarks/bench_spec.yaml --source="file:$1" --out="$2"
    --from="$FROM" --to="$TO" --runnerConfig="runners-config/$3" --progress=false)
}

echo "== timing: sizes ${sizes[*]}, $RUNS runs each, as of $FROM..$TO; logs in $LOGS" >&2
for r in $(seq 1 "$RUNS"); do
  # Start-up cost: the same command on a file with a header and no records.
  fb "$EMPTY" "$WORK/out/featurebeam-flink-empty" flink-local.args
  measure 0 featurebeam-flink-empty "$r" "${measure_args[@]}" --parallelism=2
  for n in "${sizes[@]}"; do
    f="$(events_file "$n")"
    fb "$f" "$WORK/out/featurebeam-flink-$n" flink-local.args
    measure "$n" featurebeam-flink "$r" "${measure_args[@]}" --parallelism=2
    if [ -n "${BASELINE:-}" ]; then
      fb "$f" "$WORK/out/featurebeam-flink-baseline-$n" flink-local.args "$BASELINE/featurebeam"
      measure "$n" featurebeam-flink-baseline "$r" "${measure_args[@]}" --parallelism=2
    fi
    if [ "$n" -le "$DIRECT_MAX" ]; then
      fb "$f" "$WORK/out/featurebeam-direct-$n" direct.args
      measure "$n" featurebeam-direct "$r" "${measure_args[@]}"
    fi
    # shellcheck disable=SC2086
    measure "$n" duckdb "$r" java ${BENCH_JAVA_OPTS:-} -cp "$CP" dev.featurebeam.benchmarks.DuckDbFeatures \
      --source="$f" --out="$WORK/out/duckdb-$n.csv" --from="$FROM" --to="$TO" \
      ${DUCKDB_THREADS:+--threads=$DUCKDB_THREADS}
    # shellcheck disable=SC2086
    measure "$n" plain-java "$r" java ${BENCH_JAVA_OPTS:-} -cp "$CP" dev.featurebeam.benchmarks.PlainJavaFeatures \
      --source="$f" --out="$WORK/out/plain-java-$n.csv" --from="$FROM" --to="$TO"
  done
done

# ---------------------------------------------------------------- agreement (outputs of the last run)
agree_all=1
for n in "${sizes[@]}"; do
  sides=("featurebeam-flink=$WORK/out/featurebeam-flink-$n")
  [ -n "${BASELINE:-}" ] && sides+=("featurebeam-flink-baseline=$WORK/out/featurebeam-flink-baseline-$n")
  [ "$n" -le "$DIRECT_MAX" ] && sides+=("featurebeam-direct=$WORK/out/featurebeam-direct-$n")
  sides+=("duckdb=$WORK/out/duckdb-$n.csv" "plain-java=$WORK/out/plain-java-$n.csv")
  # shellcheck disable=SC2086
  if ! java ${BENCH_JAVA_OPTS:-} -cp "$CP" dev.featurebeam.benchmarks.CompareOutputs \
      --from="$FROM" --to="$TO" "${sides[@]}" > "$LOGS/compare-$n.txt" 2>&1; then
    agree_all=0
  fi
done
flock -u 9

# ---------------------------------------------------------------- report
table="$(java -cp "$CP" dev.featurebeam.benchmarks.BenchTable "$TSV")"
result="$here/results/$STAMP.md"
commit="$(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo unknown)"
dirty="$(git -C "$repo" status --porcelain 2> /dev/null | grep -vc '^??' || true)"
duck_version="$(cat "$LOGS"/*-duckdb-1.log 2> /dev/null | awk '/ on DuckDB / { sub(/.* on DuckDB /, ""); print; exit }' || true)"
{
  echo "# FeatureBeam benchmark, $STAMP"
  echo
  echo "- Command: \`benchmarks/run.sh ${sizes[*]}\` (RUNS=$RUNS, DIRECT_MAX=$DIRECT_MAX, SEED=$SEED)."
  echo "- Data: \`./featurebeam generate --events=N --users=N/50 --days=$DAYS --startDate=$START --seed=$SEED\`"
  echo "  (the generator's 0.5% duplicates and 0.2% malformed records), read from a warm page cache."
  echo "- Features: \`benchmarks/bench_spec.yaml\`, as of every date $FROM..$TO ($BACKFILL dates)."
  echo "- Each time is one whole process (\`/usr/bin/time -v\`: JVM start-up, reading, computing and"
  echo "  writing included); peak RSS is its maximum resident set size. Median, min and max over the runs."
  echo "- Machine: $(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)),"
  echo "  $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) memory, $(uname -sr);"
  echo "  $(java -version 2>&1 | awk 'NR == 1'); DuckDB ${duck_version:-?}."
  echo "- Code: commit $commit$([ "${dirty:-0}" = 0 ] || echo " with $dirty uncommitted change(s)")."
  [ -z "${BASELINE:-}" ] || echo "  Baseline: commit $(git -C "$BASELINE" rev-parse --short HEAD 2> /dev/null || echo unknown) in $BASELINE."
  echo "  JVM options: FeatureBeam '${FEATUREBEAM_JAVA_OPTS:-}' (the ./featurebeam wrapper adds -Xmx2g unless these set"
  echo "  a heap, and its class-data-sharing archive), comparators '${BENCH_JAVA_OPTS:-}'."
  echo
  echo "## Wall time and memory"
  echo
  echo "$table"
  echo
  echo "## Do the outputs agree?"
  echo
  echo "$([ "$agree_all" = 1 ] && echo "Yes: every size, every system, the same rows." || echo "**NO** — see below.")"
  for n in "${sizes[@]}"; do
    echo
    echo "$n events:"
    echo
    echo '```'
    cat "$LOGS/compare-$n.txt"
    echo '```'
  done
  echo
  echo "## Inputs"
  for n in "${sizes[@]}"; do
    echo
    echo "$n events: $(cat "$WORK/data/events-$n-seed$SEED.txt" 2> /dev/null || true)"
    echo
    echo '```'
    grep -E '^ +(read|valid|duplicates|quarantined|out of range|partitions) ' "$LOGS/$n-featurebeam-flink-$RUNS.log" || true
    echo '```'
  done
} > "$result"

echo
echo "$table"
echo
for n in "${sizes[@]}"; do
  { grep -E ' vs |^AGREE|^DISAGREE' "$LOGS/compare-$n.txt" || true; } | sed "s/^/$n events: /"
done
echo
echo "Results: $result"
if [ "$agree_all" != 1 ] || awk -F'\t' '$6 != 0 { bad = 1 } END { exit !bad }' "$TSV"; then
  echo "run.sh: some outputs differ or some runs failed (logs in $LOGS)" >&2
  exit 1
fi
