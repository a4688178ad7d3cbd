#!/usr/bin/env bash
# Debian's PostgreSQL for local development and tests, without Docker (and without systemd).
#
#   deploy/postgres.sh start   install if missing, start the cluster, create role and databases
#   deploy/postgres.sh stop    stop the cluster, only if this script started it
#   deploy/postgres.sh status
#
# Environment:
#   ETALASE_POSTGRES_URL, or all four of REGISTRATION_DATABASE_URL, CATALOG_DATABASE_URL,
#     PURCHASING_DATABASE_URL, REPORTING_DATABASE_URL: an existing server to use; nothing is started
#     (except when they are the etalase:etalase@localhost URLs up.sh itself writes to .run/env)
#   ETALASE_PG_MAX_CONNECTIONS   raised to at least this (default 300; 0 leaves it alone)
#   ETALASE_PG_CLUSTER           the Debian cluster to run (default main); another name gives a
#                                private cluster, created on ETALASE_PG_PORT when missing
#   ETALASE_PG_STOP_MODE         pg_ctl stop mode for `stop` (default fast; immediate = a crash)
#   ETALASE_RUN                  runtime state (default <repo>/.run)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${ETALASE_RUN:-$ROOT/.run}/postgres"
STARTED_MARKER="$RUN_DIR/started-by-etalase" # holds "<version> <cluster>" when we started it
PORT_FILE="$RUN_DIR/port"
SOCKET_FILE="$RUN_DIR/socket" # the directory of the cluster's Unix socket, for up.sh's URLs
CLUSTER="${ETALASE_PG_CLUSTER:-main}"
ROLE=etalase
PASSWORD=etalase # development credentials
INSTALLED=""
DATABASES=(etalase_registration etalase_catalog etalase_purchasing etalase_reporting)
MAX_CONNECTIONS="${ETALASE_PG_MAX_CONNECTIONS:-300}"

say() { echo "postgres: $*"; }
die() { echo "postgres: $*" >&2; exit 1; }

as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
    # cd /: the postgres user may not be allowed into the caller's directory.
    if [[ $EUID -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && sudo -u postgres "$@")
    fi
}

psql_admin() { # psql as the superuser over the local socket
    as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" "$@"
}

ours() { # a URL up.sh writes into .run/env for the local cluster (not the user's own server):
    # over its Unix socket, or over loopback TCP (chaos's private clusters)
    local db='/(postgres|etalase_[a-z]+)'
    [[ "$1" =~ ^postgresql(\+asyncpg)?://$ROLE:$PASSWORD@localhost:[0-9]+$db$ ]] ||
        [[ "$1" =~ ^postgresql(\+asyncpg)?://$ROLE:$PASSWORD@$db\?host=/[^\&]+\&port=[0-9]+$ ]]
}

external() {
    local url urls=(
        "${REGISTRATION_DATABASE_URL:-}" "${CATALOG_DATABASE_URL:-}"
        "${PURCHASING_DATABASE_URL:-}" "${REPORTING_DATABASE_URL:-}"
    )
    if [[ -z "${ETALASE_POSTGRES_URL:-}" ]]; then
        for url in "${urls[@]}"; do [[ -n "$url" ]] || return 1; done
    fi
    # With .run/env sourced in the shell the URLs are set, yet name the cluster this script runs:
    # it must still be started (after a reboot or a killed run).
    for url in "${ETALASE_POSTGRES_URL:-}" "${urls[@]}"; do
        [[ -z "$url" ]] || ours "$url" || return 0
    done
    return 1
}

installed_version() { # highest major version with a server binary
    local dir best=""
    for dir in /usr/lib/postgresql/*/bin/postgres; do
        [[ -x "$dir" ]] || continue
        dir="${dir#/usr/lib/postgresql/}"
        dir="${dir%%/*}"
        if [[ -z "$best" ]] || ((dir > best)); then best="$dir"; fi
    done
    echo "$best"
}

install_postgres() {
    if command -v pg_ctlcluster >/dev/null && [[ -n "$(installed_version)" ]]; then
        return 0
    fi
    say "installing Debian's postgresql package"
    # C.UTF-8 always exists: the cluster the package creates must not need a generated locale.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8 \
        apt-get install -y -q --no-install-recommends postgresql 9>&-
    [[ -n "$(installed_version)" ]] || die "postgresql installed, but no server binary found"
    INSTALLED=1 # its postinst may start the cluster: still ours to stop
}

cluster_field() { # cluster_field N: a column of `pg_lsclusters` for our cluster (3 port, 4 status)
    pg_lsclusters -h "$VERSION" "$CLUSTER" 2>/dev/null | awk -v n="$1" '{print $n}'
}

online() { [[ "$(cluster_field 4)" == online* ]]; }

live_postgres() { # live_postgres PID: a running (not zombie) postgres process
    local stat
    [[ "$1" =~ ^[0-9]+$ ]] || return 1
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    [[ "$stat" == *"(postgres)"* && "${stat##*) }" != Z* ]]
}

clear_stale_pid() {
    # After a killed run, postmaster.pid and the socket's lock file may name a pid that is gone,
    # a zombie, or now another process (pids are small and reused in containers): postgres would
    # refuse to start. Only called while pg_lsclusters says the cluster is down.
    local data file pid
    data="$(cluster_field 6)"
    for file in "$data/postmaster.pid" "/var/run/postgresql/.s.PGSQL.$PORT.lock"; do
        if [[ -z "$data" ]] || ! as_root test -f "$file"; then continue; fi
        pid="$(as_root head -n 1 "$file" 2>/dev/null || true)"
        live_postgres "$pid" && continue # a live postmaster: leave it to pg_ctlcluster
        say "removing stale $file (pid ${pid:-?} is not a running postgres)"
        as_root rm -f "$file"
    done
}

start_cluster() {
    local attempt
    for attempt in 1 2 3 4 5 6; do
        clear_stale_pid
        if as_root pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$CLUSTER" start 9>&-; then
            return 0
        fi
        online && return 0
        # Backends orphaned by a killed postmaster keep the old shared memory for a moment.
        say "start failed (attempt $attempt), retrying"
        sleep 2
    done
    as_root tail -n 30 "/var/log/postgresql/postgresql-$VERSION-$CLUSTER.log" >&2 || true
    die "could not start cluster $VERSION/$CLUSTER"
}

wait_ready() {
    local _
    for _ in $(seq 60); do
        pg_isready -q -h localhost -p "$PORT" && as_postgres pg_isready -q -p "$PORT" && return 0
        sleep 0.5
    done
    die "cluster $VERSION/$CLUSTER does not accept connections on port $PORT"
}

socket_directory() { # the first of the cluster's socket directories
    psql_admin -tAc 'show unix_socket_directories' | cut -d, -f1 | tr -d ' '
}

login_works() { # every host given: a name, an address or a socket directory
    local host
    for host in "$@"; do
        PGPASSWORD="$PASSWORD" PGCONNECT_TIMEOUT=5 psql -X -q -w -h "$host" -p "$PORT" \
            -U "$ROLE" -d "${DATABASES[0]}" -tAc 'select 1' >/dev/null 2>&1 || return 1
    done
}

allow_password_logins() { # where, the pg_hba.conf lines letting the role in there, its hosts
    local where="$1" lines="$2" hba
    shift 2
    login_works "$@" && return 0
    hba="$(psql_admin -tAc 'show hba_file')"
    say "allowing password logins for $ROLE on $where in $hba"
    as_root sed -i "1i $lines" "$hba"
    psql_admin -c 'select pg_reload_conf()' >/dev/null
    sleep 0.5
    login_works "$@" || die "password login as $ROLE on $where ($*:$PORT) fails"
}

ensure_password_auth() {
    # Not Debian's default pg_hba.conf, which lets socket users in by peer (OS user) only: the
    # role logs in with its password on loopback and on the Unix socket. up.sh's URLs use the
    # socket: loopback TCP cost about a fifth of purchasing's CPU per order, the kernel's TCP
    # work being charged to the sender.
    allow_password_logins loopback \
        "host all $ROLE 127.0.0.1/32 scram-sha-256\nhost all $ROLE ::1/128 scram-sha-256" \
        127.0.0.1 localhost
    local socket
    socket="$(socket_directory)"
    allow_password_logins "the Unix socket" "local all $ROLE scram-sha-256" "$socket"
    echo "$socket" >"$SOCKET_FILE"
}

ensure_max_connections() {
    [[ "$MAX_CONNECTIONS" -gt 0 ]] || return 0
    local current
    current="$(psql_admin -tAc 'show max_connections')"
    [[ "$current" -ge "$MAX_CONNECTIONS" ]] && return 0
    say "raising max_connections from $current to $MAX_CONNECTIONS (restart)"
    psql_admin -c "alter system set max_connections = $MAX_CONNECTIONS"
    as_root pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$CLUSTER" restart 9>&-
    wait_ready
}

ensure_no_tls() {
    # The cluster listens on loopback only, so TLS protects nothing, yet asyncpg's default
    # sslmode=prefer negotiates it: encrypting every statement was 39 % of purchasing's CPU per
    # order. Off here, not in the URLs: an operator's own server keeps its URLs and its TLS.
    # A reload is enough (no restart): new connections are then plain, open ones stay as they are.
    [[ "$(psql_admin -tAc 'show ssl')" == off ]] && return 0
    say "turning TLS off (loopback-only cluster)"
    psql_admin -c 'alter system set ssl = off' -c 'select pg_reload_conf()' >/dev/null
}

ensure_role_and_databases() {
    psql_admin -d postgres <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  ELSE
    ALTER ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  END IF;
END
\$\$;
SQL
    local db
    for db in "${DATABASES[@]}"; do
        psql_admin -d postgres <<SQL
SELECT format('CREATE DATABASE %I OWNER $ROLE', '$db')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db') \gexec
ALTER DATABASE $db OWNER TO $ROLE;
SQL
    done
}

lock() { # one start or stop at a time (make test and make demo may run together)
    mkdir -p "$RUN_DIR"
    exec 9>"$RUN_DIR/.lock"
    flock 9
}

start() {
    if external; then
        say "using the configured database URLs (nothing started)"
        return 0
    fi
    lock
    install_postgres
    VERSION="$(installed_version)"
    if [[ -z "$(pg_lsclusters -h "$VERSION" "$CLUSTER" 2>/dev/null)" ]]; then
        say "creating cluster $VERSION/$CLUSTER"
        as_root env LANG=C.UTF-8 LC_ALL=C.UTF-8 pg_createcluster \
            ${ETALASE_PG_PORT:+-p "$ETALASE_PG_PORT"} "$VERSION" "$CLUSTER" 9>&-
    fi
    PORT="$(cluster_field 3)"
    mkdir -p "$RUN_DIR"
    # /run is a tmpfs after a reboot: the socket directory may be gone.
    as_root install -d -o postgres -g postgres -m 2775 /var/run/postgresql
    if online; then
        say "cluster $VERSION/$CLUSTER already running on port $PORT"
        [[ -z "${INSTALLED:-}" ]] || echo "$VERSION $CLUSTER" >"$STARTED_MARKER"
    else
        say "starting cluster $VERSION/$CLUSTER on port $PORT"
        start_cluster
        echo "$VERSION $CLUSTER" >"$STARTED_MARKER"
    fi
    wait_ready
    ensure_max_connections
    ensure_no_tls
    ensure_role_and_databases
    ensure_password_auth
    echo "$PORT" >"$PORT_FILE"
    say "ready on port $PORT, socket $(cat "$SOCKET_FILE"): ${DATABASES[*]}"
}

stop() {
    lock
    if [[ ! -f "$STARTED_MARKER" ]]; then
        say "no cluster started by this script (nothing stopped)"
        return 0
    fi
    local version cluster
    read -r version cluster <"$STARTED_MARKER"
    VERSION="$version"
    CLUSTER="$cluster"
    if online; then
        say "stopping cluster $VERSION/$CLUSTER"
        as_root pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$CLUSTER" stop \
            -m "${ETALASE_PG_STOP_MODE:-fast}"
    else
        say "cluster $VERSION/$CLUSTER is not running"
    fi
    rm -f "$STARTED_MARKER"
}

status() {
    if external; then
        say "external server (database URLs configured)"
        return 0
    fi
    command -v pg_lsclusters >/dev/null || { say "not installed"; return 3; }
    pg_lsclusters
    if [[ -f "$STARTED_MARKER" ]]; then say "started by this script: $(cat "$STARTED_MARKER")"; fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
