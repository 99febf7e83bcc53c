# Shared by run.sh and training.sh (sourced): timing one process under /usr/bin/time -v.
# The caller sets repo, LOGS, TSV and RUNS before calling measure.

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
