#!/usr/bin/env bash
# Start what Etalase needs locally: PostgreSQL (role and databases), a Kafka broker, the topics.
# Writes .run/env (shell `export` lines); `source .run/env` before running the services or tests.
#
# Honours everything deploy/postgres.sh and deploy/kafka.sh honour. A user who already runs them:
#   KAFKA_BOOTSTRAP_SERVERS=host:9092                          no broker is started
#   ETALASE_POSTGRES_URL=postgresql://user:pw@host:5432/postgres   and/or the four
#   {REGISTRATION,CATALOG,PURCHASING,REPORTING}_DATABASE_URL   no PostgreSQL is started
# Values given are echoed into .run/env; the missing ones are derived from those given.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${ETALASE_RUN:-$ROOT/.run}"
SERVICES=(registration catalog purchasing reporting)

python_cmd() {
    if [[ -n "${ETALASE_PYTHON:-}" ]]; then
        "$ETALASE_PYTHON" "$@"
    elif [[ -x "$ROOT/.venv/bin/python" ]]; then
        "$ROOT/.venv/bin/python" "$@"
    else
        (cd "$ROOT" && uv run --frozen python "$@")
    fi
}

# url_with SCHEME DATABASE URL: URL with its scheme (driver) and database replaced.
url_with() {
    local re='^[A-Za-z][A-Za-z0-9.-]*(\+[A-Za-z0-9_]+)?://([^/?#]*)(/[^?#]*)?(\?.*)?$'
    [[ "$3" =~ $re ]] || { echo "up: cannot parse database URL: $3" >&2; exit 1; }
    echo "$1://${BASH_REMATCH[2]}/$2${BASH_REMATCH[4]}"
}

started=$SECONDS
bash "$ROOT/deploy/postgres.sh" start
bash "$ROOT/deploy/kafka.sh" start # fetches the jars first when it has a broker to start

bootstrap="${KAFKA_BOOTSTRAP_SERVERS:-localhost:${KAFKA_PORT:-9092}}"
python_cmd "$ROOT/deploy/topics.py" --bootstrap-servers "$bootstrap"

# The database URLs: the user's, else derived from another given one, else the local cluster's.
port="$(cat "$RUN/postgres/port" 2>/dev/null || echo 5432)"
admin_url="${ETALASE_POSTGRES_URL:-}"
if [[ -z "$admin_url" && -n "${REGISTRATION_DATABASE_URL:-}" ]]; then
    admin_url="$(url_with postgresql postgres "$REGISTRATION_DATABASE_URL")"
fi
if [[ -z "$admin_url" && -s "$RUN/postgres/socket" ]]; then
    # the local cluster over its Unix socket (deploy/postgres.sh says why)
    admin_url="postgresql://etalase:etalase@/postgres?host=$(cat "$RUN/postgres/socket")&port=$port"
fi
admin_url="${admin_url:-postgresql://etalase:etalase@localhost:$port/postgres}"

mkdir -p "$RUN"
{
    echo "# Written by deploy/up.sh: source it before running the services or the tests."
    printf 'export %s=%q\n' KAFKA_BOOTSTRAP_SERVERS "$bootstrap"
    printf 'export %s=%q\n' ETALASE_POSTGRES_URL "$admin_url"
    for svc in "${SERVICES[@]}"; do
        var="${svc^^}_DATABASE_URL"
        url="${!var:-}"
        [[ -n "$url" ]] || url="$(url_with postgresql+asyncpg "etalase_$svc" "$admin_url")"
        printf 'export %s=%q\n' "$var" "$url"
    done
} >"$RUN/env.tmp"
mv -f "$RUN/env.tmp" "$RUN/env"

echo
echo "Infrastructure up in $((SECONDS - started)) s. Environment (also in ${RUN#"$ROOT"/}/env):"
grep '^export' "$RUN/env"
