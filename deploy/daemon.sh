# Sourced by deploy/zipkin.sh and deploy/prometheus.sh: keeping one background server per script.
# The caller defines `say` and sets PID_FILE and PID_MARK (a part of the server's command line
# that tells it apart from any other process that took its pid).

our_pid() { # the pid of the server this script started, if it is still that process
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$PID_MARK" || return 1
    echo "$pid"
}

stop() {
    local pid
    if ! pid="$(our_pid)"; then
        rm -f "$PID_FILE"
        say "not running (none started by this script)"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
    say "stopped (pid $pid)"
}
