#!/usr/bin/env bash
# Zipkin's server, the trace UI `make demo` shows where there is no Docker engine for Jaeger.
#
#   deploy/zipkin.sh fetch    download the pinned server jar from Maven Central into the cache
#   deploy/zipkin.sh start    start it on localhost:$ZIPKIN_PORT (or reuse one) and wait for it
#   deploy/zipkin.sh stop     stop the server this script started
#   deploy/zipkin.sh status   say what is running
#
# The services export to it when OTEL_EXPORTER_ZIPKIN_ENDPOINT is set
# (http://localhost:9411/api/v2/spans; `start` prints the line to export).
#
# Environment:
#   ZIPKIN_PORT            HTTP port of the UI and the span API (default 9411)
#   ZIPKIN_HEAP_OPTS       JVM heap (default -Xmx512m -Xms64m)
#   ZIPKIN_MAX_SPANS       spans kept in memory; older traces are dropped first (default 60000,
#                          about one `make demo`; each span costs some kilobytes of heap)
#   ZIPKIN_START_TIMEOUT   seconds to wait for it to answer (default 90)
#   ETALASE_CACHE          jar cache (default ~/.cache/etalase), outside the work tree
#   ETALASE_RUN            runtime state: log, pid (default <repo>/.run)
#   MAVEN_ARGS             extra arguments for mvn (e.g. -s settings.xml for a mirror)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

ZIPKIN_VERSION=3.5.1
ARTIFACT="io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec"
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

CACHE_ROOT="${ETALASE_CACHE:-$HOME/.cache/etalase}"
JAR="$CACHE_ROOT/zipkin-server-$ZIPKIN_VERSION-exec.jar"
M2_REPO="$CACHE_ROOT/m2"

RUN_DIR="${ETALASE_RUN:-$ROOT/.run}/zipkin"
LOG="$RUN_DIR/zipkin.log"
PID_FILE="$RUN_DIR/zipkin.pid"

ZIPKIN_PORT="${ZIPKIN_PORT:-9411}"
ZIPKIN_HEAP_OPTS="${ZIPKIN_HEAP_OPTS:--Xmx512m -Xms64m}"
ZIPKIN_MAX_SPANS="${ZIPKIN_MAX_SPANS:-60000}"
ZIPKIN_START_TIMEOUT="${ZIPKIN_START_TIMEOUT:-90}"
HEALTH_URL="http://127.0.0.1:$ZIPKIN_PORT/health"

say() { echo "zipkin: $*"; }
die() { echo "zipkin: $*" >&2; exit 1; }
PID_MARK="-jar $JAR"
# shellcheck source=deploy/daemon.sh
source "$ROOT/deploy/daemon.sh"

fetch() {
    mkdir -p "$CACHE_ROOT"
    exec 8>"$CACHE_ROOT/.zipkin.lock" # two fetches at once would write one file
    flock 8
    if [[ -s "$JAR" ]]; then
        say "server jar $ZIPKIN_VERSION already in $JAR"
        return 0
    fi
    command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
    say "fetching $ARTIFACT from Maven Central..."
    local started=$SECONDS tmp="$CACHE_ROOT/zipkin.tmp"
    rm -rf "$tmp"
    # shellcheck disable=SC2086  # MAVEN_ARGS is a list of words
    if ! mvn -B -q -Dstyle.color=never ${MAVEN_ARGS:-} -Dmaven.repo.local="$M2_REPO" \
        "$DEPENDENCY_PLUGIN:copy" -Dartifact="$ARTIFACT" -DoutputDirectory="$tmp" \
        >"$CACHE_ROOT/zipkin-fetch.log" 2>&1; then
        tail -n 40 "$CACHE_ROOT/zipkin-fetch.log" >&2
        die "fetching the jar failed (is Maven Central reachable? MAVEN_ARGS=-s <settings> for a mirror)"
    fi
    mv "$tmp/zipkin-server-$ZIPKIN_VERSION-exec.jar" "$JAR" # the move is last: a cut fetch is redone
    rm -rf "$tmp" "$M2_REPO/io/zipkin/zipkin-server" # Maven's copy would only double the cache
    say "$(du -h "$JAR" | cut -f1) in $JAR ($((SECONDS - started)) s)"
}

answers() { curl -fsS -o /dev/null --max-time 2 "$HEALTH_URL" 2>/dev/null; }

start() {
    if our_pid >/dev/null; then
        say "already running (pid $(our_pid)) on http://localhost:$ZIPKIN_PORT"
        return 0
    fi
    if answers; then
        say "a Zipkin already answers on :$ZIPKIN_PORT; using it"
        return 0
    fi
    fetch
    command -v java >/dev/null || die "java not found (apt-get install openjdk-17-jre-headless)"
    mkdir -p "$RUN_DIR"
    # In-memory storage: the demo's traces, kept until the server stops; no self-tracing. Out
    # of memory it exits rather than hang, and `start` brings it back.
    # shellcheck disable=SC2086  # the heap options are a list of words
    STORAGE_TYPE=mem MEM_MAX_SPANS="$ZIPKIN_MAX_SPANS" QUERY_PORT="$ZIPKIN_PORT" \
        SELF_TRACING_ENABLED=false COLLECTOR_SCRIBE_ENABLED=false \
        setsid java $ZIPKIN_HEAP_OPTS -XX:+ExitOnOutOfMemoryError -XX:+UseSerialGC \
        -XX:TieredStopAtLevel=1 -jar "$JAR" >"$LOG" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$PID_FILE"
    local deadline=$((SECONDS + ZIPKIN_START_TIMEOUT))
    until answers; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$LOG" >&2
            die "the server exited; log: $LOG"
        fi
        if ((SECONDS > deadline)); then
            tail -n 30 "$LOG" >&2
            die "no answer on :$ZIPKIN_PORT within ${ZIPKIN_START_TIMEOUT}s; log: $LOG"
        fi
        sleep 0.5
    done
    say "ready on http://localhost:$ZIPKIN_PORT (pid $pid, log $LOG)"
    say "services export to it with OTEL_EXPORTER_ZIPKIN_ENDPOINT=http://localhost:$ZIPKIN_PORT/api/v2/spans"
}

status() {
    if pid="$(our_pid)"; then
        say "running (pid $pid) on http://localhost:$ZIPKIN_PORT"
    elif answers; then
        say "a Zipkin not started by this script answers on :$ZIPKIN_PORT"
    else
        say "stopped"
    fi
}

case "${1:-status}" in
fetch) fetch ;;
start) start ;;
stop) stop ;;
status) status ;;
*) die "usage: $0 fetch|start|stop|status" ;;
esac
