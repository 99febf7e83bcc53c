#!/usr/bin/env bash
# The JDBC source's read throughput against PostgreSQL's own COPY … TO; see BENCHMARKS.md
# ("Reading from a database").
#
#   benchmarks/jdbc.sh
#
# 1. EVENTS generated events (60 days from 2025-01-01, the example spec's columns) are loaded into
#    a typed table of the machine's PostgreSQL (127.0.0.1:5432, database test, user postgres):
#    COPY into a text table, then CREATE TABLE … AS with timestamptz and numeric(12,2).
# 2. The physical reference: psql's COPY (SELECT the spec's columns FROM the table WHERE
#    ts < 2100-01-01 OR ts IS NULL) TO STDOUT into /dev/null.
# 3. FeatureBeam's read alone (JdbcRead: JdbcSource into a counter, Flink local, parallelism 2)
#    with 1, 2 and 4 range queries.
#
# Environment (defaults in brackets): EVENTS [1000000], BENCH_WORK [benchmarks/work],
# SKIP_BUILD [0]. Needs Java 17, Maven, psql, flock.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
EVENTS="${EVENTS:-1000000}"
WORK="${BENCH_WORK:-$here/work}"
MVN_FLAGS="${MVN_FLAGS:--B -q}"
die() {
  echo "jdbc.sh: $*" >&2
  exit 2
}
[[ "$EVENTS" =~ ^[1-9][0-9]*$ ]] || die "EVENTS must be a positive whole number: '$EVENTS'"
for tool in java psql flock; do
  command -v "$tool" > /dev/null || die "$tool is missing"
done
# shellcheck source=benchmarks/lib.sh
source "$here/lib.sh"

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$here/results" "$WORK/data"
result="$here/results/jdbc-$STAMP.md"
say() { echo "$*" | tee -a "$result"; }
pg() { psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -q "$@"; }
take_bench_lock
build_jars
cp="$here/target/featurebeam-benchmarks.jar:$here/target/lib/*"
spec="$repo/examples/user_features.yaml"
table=fb_bench_events
trap 'pg -c "DROP TABLE IF EXISTS ${table}_text, $table" > /dev/null 2>&1 || true' EXIT
now() { date +%s.%N; }

say "# JDBC read benchmark $STAMP"
say ""
say "Machine: $(nproc) cores, $(uname -sr), $(java -version 2>&1 | head -1), $(psql --version); commit $(cd "$repo" && git rev-parse --short HEAD 2> /dev/null || echo '?'); load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
say ""

data="$WORK/data/jdbc-$EVENTS.csv"
if [ ! -s "$data" ]; then
  (cd "$repo" && ./featurebeam generate --out="$WORK/data/jdbc-$EVENTS-partial.csv" \
    --events="$EVENTS" --days=60 --startDate=2025-01-01 --malformedFraction=0 --seed=5) > /dev/null
  mv "$WORK/data/jdbc-$EVENTS-partial.csv" "$data"
fi
pg -c "DROP TABLE IF EXISTS ${table}_text, $table" \
  -c "CREATE TABLE ${table}_text (event_id TEXT, user_id TEXT, event_type TEXT, amount TEXT, status TEXT, category TEXT, ts TEXT)" \
  -c "\\copy ${table}_text FROM '$data' WITH (FORMAT csv, HEADER true)" \
  -c "CREATE TABLE $table AS SELECT event_id, user_id, event_type, amount::numeric(12,2) AS amount, status, category, CASE WHEN ts ~ '^[0-9]+\$' THEN to_timestamp(ts::bigint / 1000.0) ELSE ts::timestamptz END AS ts FROM ${table}_text" \
  -c "DROP TABLE ${table}_text" -c "ANALYZE $table"
rows="$(pg -At -c "SELECT COUNT(*) FROM $table")"
say "Table: $rows rows (\`generate --events=$EVENTS --days=60 --malformedFraction=0 --seed=5\`, then timestamptz and numeric(12,2)), $(pg -At -c "SELECT pg_size_pretty(pg_total_relation_size('$table'))")"
say ""
say "| reader | rows | seconds | rows/s |"
say "| --- | --- | --- | --- |"
for i in 1 2; do
  start="$(now)"
  pg -c "COPY (SELECT event_id, user_id, event_type, amount, status, category, ts FROM $table WHERE ts < '2100-01-01T00:00:00Z' OR ts IS NULL) TO STDOUT" > /dev/null
  end="$(now)"
  say "$(python3 -c "s=$end-$start; print(f'| psql COPY … TO STDOUT (run $i) | $rows | {s:.1f} | {$rows/s:,.0f} |')")"
done
for n in 1 2 4; do
  line="$(java -Xmx2g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" \
    dev.featurebeam.benchmarks.JdbcRead --url="jdbc:postgresql://127.0.0.1:5432/test?user=postgres" \
    --table="$table" --spec="$spec" --partitions="$n" --until=2100-01-01T00:00:00Z 2> "$WORK/jdbc-read-$n.err")"
  say "$(python3 -c "
import re; m=dict(kv.split('=') for kv in '$line'.split())
print(f\"| FeatureBeam JdbcSource, {m['partitions']} range quer{'y' if m['partitions']=='1' else 'ies'}, Flink local p=2 | {m['rows']} | {float(m['seconds']):.1f} | {float(m['rows_per_s']):,.0f} |\")")"
done
say ""
say "FeatureBeam's seconds are from submission to the end of the job (Flink's start-up in it)."
sed -i "s#$repo/##g" "$result"
echo "jdbc.sh: results in $result" >&2
