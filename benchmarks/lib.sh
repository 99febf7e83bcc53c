# Shared by run.sh and training.sh (sourced): the build, the benchmark lock, the generated events
# and timing one process under /usr/bin/time -v. The caller sets here, repo, MVN_FLAGS, WORK,
# SEED, DAYS and START first, and LOGS, TSV and RUNS before calling measure.

# build_jars: mvn install and the benchmarks module (unless SKIP_BUILD=1); both jars must exist.
build_jars() {
  if [ "${SKIP_BUILD:-0}" != 1 ]; then
    echo "== build: mvn install -DskipTests, then the benchmarks module" >&2
    # shellcheck disable=SC2086
    (cd "$repo" && flock /tmp/core-build.lock mvn $MVN_FLAGS -DskipTests install)
    # shellcheck disable=SC2086
    (cd "$repo" && mvn $MVN_FLAGS -DskipTests -f benchmarks/pom.xml package)
  fi
  [ -f "$repo/pipelines/target/featurebeam.jar" ] || die "no pipelines/target/featurebeam.jar: build first (or drop SKIP_BUILD)"
  [ -f "$here/target/featurebeam-benchmarks.jar" ] || die "no benchmarks/target/featurebeam-benchmarks.jar: build first (or drop SKIP_BUILD)"
}

# take_bench_lock: holds /tmp/bench.lock (fd 9) until the script ends, so two benchmarks never overlap.
take_bench_lock() {
  exec 9> /tmp/bench.lock
  if ! flock -n 9; then
    echo "== waiting for another benchmark to finish (/tmp/bench.lock)" >&2
    flock 9
  fi
}

# events_file N: the path of N generated events (N/50 users, DAYS days from START, SEED),
# generating them first when missing; kept and reused by every benchmark.
events_file() {
  local n="$1" f="$WORK/data/events-$1-seed$SEED.csv"
  if [ ! -s "$f" ]; then
    local users=$((n / 50))
    [ "$users" -ge 1 ] || users=1
    echo "== generating $n events for $users users over $DAYS days: $f" >&2
    local partial="$WORK/data/partial-$n-seed$SEED.csv"
    (cd "$repo" && ./featurebeam generate --out="$partial" --events="$n" --users="$users" \
      --days="$DAYS" --startDate="$START" --seed="$SEED") > "$WORK/data/events-$n-seed$SEED.txt"
    mv "$partial" "$f"
    sed -i "s#$partial#$f#" "$WORK/data/events-$n-seed$SEED.txt"
  fi
  echo "$f"
}

seconds() { # h:mm:ss or m:ss.ss -> seconds
  awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<< "$1"
}

# measure EVENTS SYSTEM RUN COMMAND...: times one process, appends a line to the TSV.
measure() {
  local n="$1" sys="$2" r="$3"
  shift 3
  local log="$LOGS/$n-$sys-$r.log" tfile="$LOGS/$n-$sys-$r.time" rc=0
  (cd "$repo" && /usr/bin/time -v -o "$tfile" "$@") > "$log" 2>&1 || rc=$?
  local wall rss
  wall="$(seconds "$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tfile")")"
  rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tfile")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$sys" "$r" "$wall" "${rss:-0}" "$rc" >> "$TSV"
  printf '   %-22s %9s events  run %d/%d  %8.2f s  %6d MiB%s\n' "$sys" "$n" "$r" "$RUNS" "$wall" \
    "$(( ${rss:-0} / 1024 ))" "$([ "$rc" = 0 ] || echo "  FAILED (exit $rc, see $log)")" >&2
}
