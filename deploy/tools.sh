#!/usr/bin/env bash
# Install the tools the suite drives from the outside, when missing: Debian's Chromium and
# ChromeDriver (browser tests; nothing downloads its own browser), Prometheus with promtool (alert
# rules), and the Node packages in tools/node (CloudEvents JS SDK, AsyncAPI parser, axe-core).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

as_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v promtool >/dev/null || missing+=(prometheus)
command -v wrk >/dev/null || missing+=(wrk)  # the benchmark's load generator
if ((${#missing[@]})); then
    echo "tools: installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
fi

# The package's own service would scrape nothing of ours and hold :9090; the demo runs its own.
if [[ -x /etc/init.d/prometheus ]] && pgrep -x prometheus -u prometheus >/dev/null 2>&1; then
    as_root /etc/init.d/prometheus stop >/dev/null 2>&1 || true
fi

command -v node >/dev/null || { echo "tools: node not found (apt-get install nodejs npm)" >&2; exit 1; }
lock="$ROOT/tools/node/package-lock.json"
stamp="$ROOT/tools/node/node_modules/.installed"
if [[ ! -f "$stamp" || "$lock" -nt "$stamp" ]]; then
    (cd "$ROOT/tools/node" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
fi
