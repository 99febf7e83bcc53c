#!/usr/bin/env bash
# The benchmark's backfill on a Flink session cluster with 1 and with 2 TaskManagers, beside
# Flink's embedded mini-cluster, on the same generated events, in one run; see BENCHMARKS.md
# ("On a Flink session cluster").
#
#   benchmarks/cluster.sh [EVENTS]        (default: 5000000)
#
# 1. EVENTS events from ./featurebeam generate, as run.sh makes them (users EVENTS/50, 120 days
#    from 2025-01-01, seed 42; kept in BENCH_WORK/data and reused by every benchmark).
# 2. The backfill of benchmarks/bench_spec.yaml (the last 90 days) with the mini-cluster
#    (--runnerConfig=runners-config/flink-local.args).
# 3. runners-config/flink-cluster.sh start --taskmanagers=1, the same backfill with
#    --runnerConfig=runners-config/flink-cluster.args, stop; then the same with 2 TaskManagers.
# 4. The three outputs must be byte-identical: every partition's files (Parquet parts and
#    _MANIFEST.json, whose sha256s of the parts are compared with them) have the same sha256s.
#
# Every time is one whole ./featurebeam process under /usr/bin/time -v: JVM start-up, the job's
# submission (on the cluster: the upload of the 230 MB shaded jar to the JobManager), the job and
# the client's publishing. For the cluster runs the job's own duration, as the JobManager's REST
# API reports it, is given beside it. The load average is recorded before and after each run:
# other work on the machine slows every run.
#
# Environment (defaults in brackets): RUNS [1] rounds (each runs all three), SEED [42],
# BENCH_WORK [benchmarks/work], CLUSTER_PORT [18091] (the cluster's REST port; the RPC port is
# the next free one), SKIP_BUILD [0] (1: use the jar already built), MVN_FLAGS [-B -q],
# FEATUREBEAM_JAVA_OPTS (the client's JVM options; ./featurebeam adds -Xmx2g unless they set a
# heap). The cluster's state (configuration, logs) is in BENCH_WORK/flink-cluster.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
EVENTS="${1:-5000000}"
RUNS="${RUNS:-1}"
SEED="${SEED:-42}"
WORK="${BENCH_WORK:-$here/work}"
WORK="$(mkdir -p "$WORK" && cd "$WORK" && pwd)" # the TaskManagers need absolute paths
MVN_FLAGS="${MVN_FLAGS:--B -q}"
PORT="${CLUSTER_PORT:-18091}"
START=2025-01-01
DAYS=120
BACKFILL=90

die() {
  echo "cluster.sh: $*" >&2
  exit 2
}
[[ "$EVENTS" =~ ^[0-9]+$ ]] && [ "$EVENTS" -ge 50 ] || die "EVENTS is a number of events, at least 50: '$EVENTS'"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive whole number: '$RUNS'"
[[ "$PORT" =~ ^[0-9]+$ ]] || die "CLUSTER_PORT must be a port number: '$PORT'"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian/Ubuntu: apt-get install time)"
for tool in flock curl java python3; do
  command -v "$tool" > /dev/null || die "$tool is missing"
done
(exec 3<> "/dev/tcp/127.0.0.1/$PORT") 2> /dev/null && die "127.0.0.1:$PORT is in use: set CLUSTER_PORT"

FROM="$(date -u -d "$START + $((DAYS - BACKFILL)) days" +%F)"
TO="$(date -u -d "$START + $((DAYS - 1)) days" +%F)"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
# shellcheck source=benchmarks/lib.sh
source "$here/lib.sh"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "== build: mvn install -DskipTests" >&2
  # shellcheck disable=SC2086
  (cd "$repo" && flock /tmp/core-build.lock mvn $MVN_FLAGS -DskipTests install)
fi
[ -f "$repo/pipelines/target/featurebeam.jar" ] || die "no pipelines/target/featurebeam.jar: build first (or drop SKIP_BUILD)"
# The wrapper makes its class-data-sharing archive on the first run after a build; not a timed one.
(cd "$repo" && ./featurebeam > /dev/null 2>&1) || true

LOGS="$WORK/logs/cluster-$STAMP"
TSV="$LOGS/measurements.tsv"
mkdir -p "$WORK/data" "$WORK/out" "$LOGS" "$here/results"
: > "$TSV"
export FLINK_CLUSTER_DIR="$WORK/flink-cluster"
cluster() { "$repo/runners-config/flink-cluster.sh" "$@"; }
trap 'cluster stop > /dev/null 2>&1 || true' EXIT

take_bench_lock
f="$(events_file "$EVENTS")"

load() { cut -d' ' -f1-3 /proc/loadavg; }
# The job's own duration in seconds: the newest job the JobManager lists.
job_seconds() {
  curl -sf --max-time 5 "http://127.0.0.1:$PORT/jobs/overview" | python3 -c '
import json, sys
jobs = json.load(sys.stdin)["jobs"]
job = max(jobs, key=lambda j: j["start-time"])
print("%.1f %s" % (job["duration"] / 1000, job["state"]))'
}
# Every partition file's sha256, by path under the feature set's version folder.
digest() {
  (cd "$1/bench_features/v1" && find . -path './as_of_date=*' -type f | LC_ALL=C sort | xargs sha256sum)
}

RESULTS="$LOGS/results.tsv" # system, run, wall s, peak RSS MiB, exit, job s, load before, after
: > "$RESULTS"
run_one() { # SYSTEM RUN_CONFIG RUN [extra options]
  local sys="$1" config="$2" r="$3" out="$WORK/out/cluster-$1"
  shift 3
  rm -rf "$out"
  local before
  before="$(load)"
  measure "$EVENTS" "$sys" "$r" ./featurebeam batch --spec=benchmarks/bench_spec.yaml \
    --source="file:$f" --out="$out" --from="$FROM" --to="$TO" \
    --runnerConfig="runners-config/$config" --progress=false "$@"
  local job="- -"
  [ "$config" = flink-local.args ] || job="$(job_seconds || echo "- -")"
  tail -n 1 "$TSV" | awk -F'\t' -v job="${job%% *}" -v b="$before" -v a="$(load)" -v OFS='\t' \
    '{ print $2, $3, $4, int($5 / 1024), $6, job, b, a }' >> "$RESULTS"
  digest "$out" > "$LOGS/$sys-$r.sha256" 2> /dev/null || true
}

echo "== $EVENTS events, as of $FROM..$TO, $RUNS round(s); logs in $LOGS" >&2
starts=()
for r in $(seq 1 "$RUNS"); do
  run_one flink-local flink-local.args "$r"
  for tms in 1 2; do
    began="$(date +%s.%N)"
    cluster start --taskmanagers="$tms" --port="$PORT" --slots=2 > "$LOGS/start-$tms-$r.log" 2>&1 \
      || { cat "$LOGS/start-$tms-$r.log" >&2; die "the cluster did not start"; }
    starts+=("$tms $(python3 -c "import time; print(f'{time.time() - $began:.1f}')")")
    run_one "cluster-${tms}tm" flink-cluster.args "$r" --flinkMaster="localhost:$PORT"
    cluster stop > /dev/null
  done
done
flock -u 9

# ---------------------------------------------------------------- agreement
identical=yes
reference="$LOGS/flink-local-$RUNS.sha256"
[ -s "$reference" ] || identical=no
for sys in cluster-1tm cluster-2tm; do
  cmp -s "$reference" "$LOGS/$sys-$RUNS.sha256" || identical=no
done
files="$(wc -l < "$reference" 2> /dev/null || echo 0)"

# ---------------------------------------------------------------- report
result="$here/results/cluster-$STAMP.md"
commit="$(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo unknown)"
dirty="$(git -C "$repo" status --porcelain 2> /dev/null | grep -vc '^??' || true)"
{
  echo "# FeatureBeam on a Flink session cluster, $STAMP"
  echo
  echo "- Command: \`benchmarks/cluster.sh $EVENTS\` (RUNS=$RUNS, SEED=$SEED)."
  echo "- Data: \`./featurebeam generate --events=$EVENTS --users=$((EVENTS / 50)) --days=$DAYS --startDate=$START --seed=$SEED\`: $(cat "$WORK/data/events-$EVENTS-seed$SEED.txt" 2> /dev/null | head -n 1)"
  echo "- Work: \`benchmarks/bench_spec.yaml\`, as of every date $FROM..$TO ($BACKFILL dates), parallelism 2."
  echo "- Wall time: one whole \`./featurebeam batch\` process (JVM start-up, submission, for the cluster the"
  echo "  upload of the shaded jar, the job, the client's publishing). Job: the job's duration as the"
  echo "  JobManager reports it. Load: the 1, 5 and 15 minute load averages before and after the run."
  echo "- Cluster: runners-config/flink-cluster.sh, TaskManagers of 2 slots and 1.5 GB each, JobManager 1 GB;"
  echo "  start-up (not in the wall times): $(for s in "${starts[@]}"; do echo -n "${s%% *} TM ${s##* } s; "; done)"
  echo "- Machine: $(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)),"
  echo "  $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) memory, $(uname -sr); $(java -version 2>&1 | awk 'NR == 1')."
  echo "- Code: commit $commit$([ "${dirty:-0}" = 0 ] || echo " with $dirty uncommitted change(s)")."
  echo
  echo "| runner | round | wall s | job s | client peak RSS MiB | exit | load before | load after |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"
  awk -F'\t' '{
    name = $1 == "flink-local" ? "Flink embedded mini-cluster" : ($1 == "cluster-1tm" ? "session cluster, 1 TaskManager" : "session cluster, 2 TaskManagers")
    printf "| %s | %s | %.1f | %s | %s | %s | %s | %s |\n", name, $2, $3, $6, $4, $5, $7, $8 }' "$RESULTS"
  echo
  echo "Byte-identical outputs (the $files partition files of round $RUNS, Parquet parts and manifests, by sha256): **$identical**."
  echo
  echo '```'
  grep -E '^ +(read|valid|duplicates|quarantined|out of range|partitions) ' "$LOGS/$EVENTS-flink-local-$RUNS.log" || true
  echo '```'
} > "$result"
sed -i "s#$repo/##g" "$result"
cat "$result"
echo
echo "Results: $result"
if [ "$identical" != yes ] || awk -F'\t' '$5 != 0 { bad = 1 } END { exit !bad }' "$RESULTS"; then
  echo "cluster.sh: some outputs differ or some runs failed (logs in $LOGS)" >&2
  exit 1
fi
