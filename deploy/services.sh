#!/usr/bin/env bash
# Start or stop the four services as background processes (logs and pids under .run/services).
# Usage: deploy/services.sh start|stop|status
#   start starts those not running (so after a crash it restarts just the dead ones) and keeps
#   the previous log of each as <name>.log.1.
# Environment: ETALASE_RUN (default <repo>/.run; its env file is sourced), <SERVICE>_HTTP_PORT
# (default 8001-8004), ETALASE_HTTP_HOST.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${ETALASE_RUN:-$PWD/.run}"
RUN_DIR="$RUN/services"
mkdir -p "$RUN_DIR"
[[ -f "$RUN/env" ]] && source "$RUN/env"
SERVICES=(
  "registration:${REGISTRATION_HTTP_PORT:-8001}" "catalog:${CATALOG_HTTP_PORT:-8002}"
  "purchasing:${PURCHASING_HTTP_PORT:-8003}" "reporting:${REPORTING_HTTP_PORT:-8004}"
)
UV="$(command -v uv || echo "$HOME/.local/bin/uv")"

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  # Traces go to the Zipkin that deploy/zipkin.sh started, unless an endpoint was given.
  if [[ -z "${OTEL_EXPORTER_ZIPKIN_ENDPOINT:-}" ]] && bash deploy/zipkin.sh status | grep -q running; then
    export OTEL_EXPORTER_ZIPKIN_ENDPOINT="http://localhost:${ZIPKIN_PORT:-9411}/api/v2/spans"
  fi
  [[ -n "${OTEL_EXPORTER_ZIPKIN_ENDPOINT:-}" ]] && echo "traces to $OTEL_EXPORTER_ZIPKIN_ENDPOINT"
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"; port="${entry##*:}"; pidfile="$RUN_DIR/$name.pid"
    if alive "$pidfile"; then echo "$name already running (pid $(cat "$pidfile"))"; continue; fi
    upper="$(echo "$name" | tr a-z A-Z)"
    # keep the log of the run that ended (a crash's evidence) for a post-mortem
    [[ -f "$RUN_DIR/$name.log" ]] && mv -f "$RUN_DIR/$name.log" "$RUN_DIR/$name.log.1"
    env "${upper}_HTTP_PORT=$port" "${upper}_HTTP_HOST=${ETALASE_HTTP_HOST:-127.0.0.1}" \
      OTEL_SERVICE_NAME="etalase-$name" \
      setsid "$UV" run --frozen --no-sync python -m "etalase_$name.main" \
      >"$RUN_DIR/$name.log" 2>&1 < /dev/null &
    echo $! >"$pidfile"
    echo "started $name on :$port (pid $!, log $RUN_DIR/$name.log)"
  done
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"; port="${entry##*:}"
    for _ in $(seq 1 120); do
      if curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; then break; fi
      if ! alive "$RUN_DIR/$name.pid"; then
        echo "$name exited; last log lines:" >&2; tail -30 "$RUN_DIR/$name.log" >&2; exit 1
      fi
      sleep 0.5
    done
    curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null || {
      echo "$name not ready on :$port" >&2; tail -30 "$RUN_DIR/$name.log" >&2; exit 1; }
    echo "$name ready on http://127.0.0.1:$port"
  done
}

stop() {
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"; pidfile="$RUN_DIR/$name.pid"
    if alive "$pidfile"; then
      pid="$(cat "$pidfile")"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -KILL -- "-$pid" 2>/dev/null || true
      echo "stopped $name"
    fi
    rm -f "$pidfile"
  done
}

status() {
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"
    if alive "$RUN_DIR/$name.pid"; then echo "$name running"; else echo "$name stopped"; fi
  done
}

"${1:-status}"
