#!/usr/bin/env bash
# Stop what deploy/up.sh started: the Kafka broker and the PostgreSQL cluster, each only if up.sh
# started it (a broker or cluster that was already running, or given by URL, is left alone).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
status=0
bash "$ROOT/deploy/kafka.sh" stop || status=$?
bash "$ROOT/deploy/postgres.sh" stop || status=$?
exit "$status"
