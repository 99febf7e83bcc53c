# Shell functions shared by the local-service scripts (kafka-local.sh, flink-cluster.sh); sourced,
# not run. The sourcing script sets $name (its messages' prefix), $pom and $state first.

die() {
  echo "$name: $*" >&2
  exit 1
}

millis() { date +%s%3N; }

listening() { # whether anything accepts connections on 127.0.0.1:$1
  (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null
}

# Resolves the jars of $pom with Maven once per state folder (and again when the POM changes or a
# jar is gone) into $state/classpath: the first start on a fresh clone downloads them into the
# local repository. $1 names what is resolved, for the messages.
class_path() {
  local cp="$state/classpath"
  if [ -s "$cp" ] && [ ! "$pom" -nt "$cp" ]; then
    local jar missing=false
    while IFS= read -r -d ':' jar; do
      [ -f "$jar" ] || missing=true
    done < <(printf '%s:' "$(cat "$cp")")
    [ "$missing" = false ] && return 0
  fi
  echo "$name: resolving $1 with Maven ($pom) ..." >&2
  if ! mvn -B -q -Dstyle.color=never -f "$pom" dependency:build-classpath -Dmdep.includeScope=runtime \
      -Dmdep.outputFile="$cp.tmp" > "$state/maven.log" 2>&1 || [ ! -s "$cp.tmp" ]; then
    tail -n 30 "$state/maven.log" >&2
    die "Maven could not resolve $1 (full output: $state/maven.log)"
  fi
  mv "$cp.tmp" "$cp"
}
