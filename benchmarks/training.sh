#!/usr/bin/env bash
# FeatureBeam's exact training set against DuckDB doing the same point-in-time computation in SQL,
# on the same events and the same spine; see benchmarks/README.md ("The training set").
#
#   benchmarks/training.sh [EVENTS SPINE_ROWS]       default: 5000000 1000000
#
# EVENTS events from ./featurebeam generate, exactly as run.sh makes them (users EVENTS/50, 120 days
# from 2025-01-01, a fixed seed; the same file, shared with run.sh in BENCH_WORK/data), and a spine
# of SPINE_ROWS rows from SpineGen (the generator's user ids, instants over the days of run.sh's
# backfill, some at midnights and at the window edges of sampled events, 3% copies). Each system
# runs RUNS times as a whole process under /usr/bin/time -v, interleaved; the two outputs are
# checked to hold the same rows, every column; the table goes to standard output and to
# benchmarks/results/training-<UTC timestamp>.md.
#
# Environment (defaults in brackets):
#   RUNS [3]              timed runs per system
#   SEED [42]             the generators' seed
#   BENCH_WORK [benchmarks/work]   generated data (kept and reused), outputs, logs
#   SKIP_BUILD [0]        1: use the jars already built
#   MVN_FLAGS [-B -q]     e.g. "-B -q -o" to build offline
#   FEATUREBEAM_JAVA_OPTS JVM options for FeatureBeam (passed on by ./featurebeam, which adds
#                         -Xmx2g unless they set a heap)
#   BENCH_JAVA_OPTS       JVM options for DuckDbTrainingSet and the other helpers
#   DUCKDB_THREADS [2]    DuckDB's threads (FeatureBeam runs at parallelism 2)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
RUNS="${RUNS:-3}"
SEED="${SEED:-42}"
WORK="${BENCH_WORK:-$here/work}"
MVN_FLAGS="${MVN_FLAGS:--B -q}"
DUCKDB_THREADS="${DUCKDB_THREADS:-2}"
START=2025-01-01
DAYS=120
BACKFILL=90
HEADER="event_id,user_id,event_type,amount,status,category,ts"

die() {
  echo "training.sh: $*" >&2
  exit 2
}

[ $# -eq 0 ] || [ $# -eq 2 ] || die "usage: benchmarks/training.sh [EVENTS SPINE_ROWS]"
N="${1:-5000000}"
ROWS="${2:-1000000}"
[[ "$N" =~ ^[0-9]+$ ]] && [ "$N" -ge 50 ] || die "EVENTS is a number of events, at least 50: '$N'"
[[ "$ROWS" =~ ^[0-9]+$ ]] && [ "$ROWS" -ge 1 ] || die "SPINE_ROWS is a number of rows, at least 1: '$ROWS'"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive whole number: '$RUNS'"
[[ "$DUCKDB_THREADS" =~ ^[1-9][0-9]*$ ]] || die "DUCKDB_THREADS must be a positive whole number: '$DUCKDB_THREADS'"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian/Ubuntu: apt-get install time)"
command -v flock > /dev/null || die "flock is missing (util-linux)"
command -v java > /dev/null || die "java is missing (Java 17)"

# run.sh's backfill: the as-of dates FROM..TO; the spine's instants cover those days.
FROM="$(date -u -d "$START + $((DAYS - BACKFILL)) days" +%F)"
TO="$(date -u -d "$START + $((DAYS - 1)) days" +%F)"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
USERS=$((N / 50))
[ "$USERS" -ge 1 ] || USERS=1

# ---------------------------------------------------------------- build (as run.sh builds)
# shellcheck source=benchmarks/lib.sh
source "$here/lib.sh"
build_jars
CP="$here/target/featurebeam-benchmarks.jar:$here/target/lib/*"
# The wrapper makes its class-data-sharing archive on the first run after a build; not a timed one.
(cd "$repo" && ./featurebeam > /dev/null 2>&1) || true

mkdir -p "$WORK/data" "$WORK/out" "$WORK/logs/training-$STAMP" "$here/results"
LOGS="$WORK/logs/training-$STAMP"
TSV="$LOGS/measurements.tsv"
: > "$TSV"

# ---------------------------------------------------------------- one lock for all the heavy work
take_bench_lock

# ---------------------------------------------------------------- data
EVENTS="$(events_file "$N")" # run.sh's file
SPINE="$WORK/data/spine-$ROWS-for-events-$N-seed$SEED.csv"
if [ ! -s "$SPINE" ]; then
  echo "== generating a spine of $ROWS rows: $SPINE" >&2
  partial="$WORK/data/partial-spine-$ROWS-$N-seed$SEED.csv"
  # shellcheck disable=SC2086
  java ${BENCH_JAVA_OPTS:-} -cp "$CP" dev.featurebeam.benchmarks.SpineGen --users="$USERS" \
    --rows="$ROWS" --seed="$SEED" --from="$FROM" --to="$TO" --events="$EVENTS" --out="$partial" \
    2> "$WORK/data/spine-$ROWS-for-events-$N-seed$SEED.txt"
  mv "$partial" "$SPINE"
  sed -i "s#$partial#$SPINE#" "$WORK/data/spine-$ROWS-for-events-$N-seed$SEED.txt"
fi
EMPTY="$WORK/data/empty.csv"
echo "$HEADER" > "$EMPTY"
EMPTY_SPINE="$WORK/data/empty-spine.csv"
echo "user_id,timestamp,label" > "$EMPTY_SPINE"

# ---------------------------------------------------------------- timed runs

FB_OUT="$WORK/out/training-featurebeam-$N-$ROWS.parquet"
DUCK_OUT="$WORK/out/training-duckdb-$N-$ROWS.parquet"
fb() { # EVENTS SPINE OUT
  rm -f "$3" "$3.report.json" "$3.quarantine.jsonl"
  measure_args=(./featurebeam training-set --spec=benchmarks/bench_spec.yaml --source="file:$1"
    --spine="$2" --out="$3" --runnerConfig=runners-config/flink-local.args --parallelism=2)
}

echo "== timing: $N events, a spine of $ROWS rows, $RUNS runs each; logs in $LOGS" >&2
# On a shared machine the times mean little without the load: the load averages before
# and after the timed runs go into the results.
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$RUNS"); do
  # Start-up cost: the same command on an event file and a spine with a header and no records.
  fb "$EMPTY" "$EMPTY_SPINE" "$WORK/out/training-featurebeam-empty.parquet"
  measure 0 featurebeam-flink-empty "$r" "${measure_args[@]}"
  fb "$EVENTS" "$SPINE" "$FB_OUT"
  measure "$N" featurebeam-flink "$r" "${measure_args[@]}"
  rm -f "$DUCK_OUT"
  # shellcheck disable=SC2086
  measure "$N" duckdb "$r" java ${BENCH_JAVA_OPTS:-} -cp "$CP" dev.featurebeam.benchmarks.DuckDbTrainingSet \
    --source="$EVENTS" --spine="$SPINE" --out="$DUCK_OUT" --threads="$DUCKDB_THREADS"
done

load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- agreement (outputs of the last run)
agree=1
# shellcheck disable=SC2086
if ! java ${BENCH_JAVA_OPTS:-} -cp "$CP" dev.featurebeam.benchmarks.CompareTrainingSets \
    featurebeam="$FB_OUT" duckdb="$DUCK_OUT" > "$LOGS/compare.txt" 2>&1; then
  agree=0
fi
flock -u 9

# ---------------------------------------------------------------- report
table="$(java -cp "$CP" dev.featurebeam.benchmarks.BenchTable "$TSV")"
result="$here/results/training-$STAMP.md"
commit="$(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo unknown)"
dirty="$(git -C "$repo" status --porcelain 2> /dev/null | grep -vc '^??' || true)"
duck_version="$(awk '/ on DuckDB / { sub(/.* on DuckDB /, ""); print; exit }' "$LOGS/$N-duckdb-1.log" 2> /dev/null || true)"
{
  echo "# FeatureBeam training-set benchmark, $STAMP"
  echo
  echo "- Command: \`benchmarks/training.sh $N $ROWS\` (RUNS=$RUNS, SEED=$SEED, DUCKDB_THREADS=$DUCKDB_THREADS)."
  echo "- Events: \`./featurebeam generate --events=$N --users=$USERS --days=$DAYS --startDate=$START --seed=$SEED\`"
  echo "  (the generator's 0.5% duplicates and 0.2% malformed records), read from a warm page cache."
  echo "- Spine: $ROWS rows, \`SpineGen --users=$USERS --rows=$ROWS --seed=$SEED --from=$FROM --to=$TO --events=EVENTS\`:"
  echo "  $(sed 's/^spine: //' "$WORK/data/spine-$ROWS-for-events-$N-seed$SEED.txt" 2> /dev/null || true)"
  echo "- Features: \`benchmarks/bench_spec.yaml\`, exactly at each spine row's instant (\`training-set\`, exact mode)."
  echo "- FeatureBeam: \`./featurebeam training-set --spec=benchmarks/bench_spec.yaml --source=file:EVENTS --spine=SPINE"
  echo "  --out=OUT.parquet --runnerConfig=runners-config/flink-local.args --parallelism=2\`; DuckDB: \`DuckDbTrainingSet"
  echo "  --source=EVENTS --spine=SPINE --out=OUT.parquet --threads=$DUCKDB_THREADS\` (one SQL query, in memory, Parquet out)."
  echo "- Each time is one whole process (\`/usr/bin/time -v\`: JVM start-up, reading, computing and"
  echo "  writing included); peak RSS is its maximum resident set size. Median, min and max over the runs."
  echo "  The start-up line is the FeatureBeam command on an event file and a spine with headers only."
  echo "- Machine: $(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)),"
  echo "  $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) memory, $(uname -sr);"
  echo "  $(java -version 2>&1 | awk 'NR == 1'); DuckDB ${duck_version:-?}."
  echo "  Load average (1, 5, 15 min) before the timed runs $load_before, after them $load_after."
  echo "- Code: commit $commit$([ "${dirty:-0}" = 0 ] || echo " with $dirty uncommitted change(s)")."
  echo "  JVM options: FeatureBeam '${FEATUREBEAM_JAVA_OPTS:-}' (the ./featurebeam wrapper adds -Xmx2g unless these set"
  echo "  a heap, and its class-data-sharing archive), DuckDbTrainingSet '${BENCH_JAVA_OPTS:-}'."
  echo
  echo "## Wall time and memory"
  echo
  echo "$table"
  echo
  echo "## Do the outputs agree?"
  echo
  echo "$([ "$agree" = 1 ] && echo "Yes: the same rows in the same order, every column, bit for bit." || echo "**NO** — see below.")"
  echo
  echo '```'
  cat "$LOGS/compare.txt"
  echo '```'
  echo
  echo "## Inputs"
  echo
  echo "$(cat "$WORK/data/events-$N-seed$SEED.txt" 2> /dev/null || true)"
  echo
  echo "FeatureBeam's report (the last run):"
  echo
  echo '```'
  sed -n '/"spine_rows"/,/"out_sha256"/p' "$FB_OUT.report.json" 2> /dev/null || true
  echo '```'
} > "$result"

echo
echo "$table"
echo
{ grep -E ' vs |^AGREE|^DISAGREE' "$LOGS/compare.txt" || true; }
echo
echo "Results: $result"
if [ "$agree" != 1 ] || awk -F'\t' '$6 != 0 { bad = 1 } END { exit !bad }' "$TSV"; then
  echo "training.sh: the outputs differ or some runs failed (logs in $LOGS)" >&2
  exit 1
fi
