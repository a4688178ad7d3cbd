"""The order write path of two purchasing builds side by side, in turns, in one session: on a
shared machine the load moves between runs, so each round measures the baseline, A and B back to
back, and the CPU per order is compared rather than the rates alone.

    git archive <rev> services/purchasing libs/platform | tar -x -C /tmp/before
    uv run python -m bench.write_path_ab --a /tmp/before/services/purchasing/src \
        --a /tmp/before/libs/platform/src [--rounds 2]

A is purchasing from the given source directories (each --a put first on its PYTHONPATH, in the
order given: purchasing's and the platform's, when the change is in both; by default the
working tree's too, e.g. to compare a database URL option given with --a-url-query), B the
working tree's. Needs KAFKA_BOOTSTRAP_SERVERS and ETALASE_POSTGRES_URL like `python -m bench`;
the topics must exist (deploy/topics.py).
"""

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from bench import wrk
from bench.cpu import CpuMeter
from bench.environment import REPO, Infra, free_port
from bench.load import client
from bench.offsets import skip_history
from bench.processes import Server, _spawn, start_baseline
from bench.scenario import Scenario

log = logging.getLogger("bench.write_path_ab")


async def _purchasing(
    infra: Infra, label: str, logs: Path, sources: list[str], url_query: str = ""
) -> Server:
    port = free_port()
    group = f"bench.{infra.run_id}.{label}"
    await skip_history(infra.kafka, "purchasing", group)
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka,
        "PURCHASING_HTTP_HOST": "127.0.0.1",
        "PURCHASING_HTTP_PORT": str(port),
        "PURCHASING_DATABASE_URL": await infra.new_database(label) + url_query,
        "PURCHASING_CONSUMER_GROUP": group,
    }
    if sources:
        env["PYTHONPATH"] = os.pathsep.join([*sources, env.get("PYTHONPATH", "")]).rstrip(":")
    command = [sys.executable, "-m", "etalase_purchasing.main"]
    return _spawn(label, command, env, logs, port)


async def _run(
    infra: Infra, server: Server, database: str, scenario: Scenario, args: argparse.Namespace
) -> dict[str, Any]:
    meter = CpuMeter({server.name: server.process.pid}, infra.postgres, [database])
    run = await wrk.closed_loop(
        server.url,
        scenario.next_order,
        clients=args.clients,
        warmup_s=args.warmup,
        measure_s=args.seconds,
        meter=meter,
    )
    t = run.throughput
    per_ms = {
        name: round(t.cpu_cores.get(name, 0.0) / t.per_s * 1000, 2) if t.per_s else None
        for name in (server.name, "postgresql", "load generator")
    }
    return {
        "per_s": round(t.per_s, 1),
        "errors": t.errors,
        "p50_ms": round(t.latency_p50_ms, 1),
        "cpu_ms_per_request": per_ms,
        "machine_cores": t.cpu_cores.get("machine"),
    }


async def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    infra = Infra.from_environment()
    logs = REPO / ".run" / "bench-ab"
    servers: list[Server] = []
    try:
        a = await _purchasing(infra, "purchasing_a", logs, args.a, args.a_url_query)
        b = await _purchasing(infra, "purchasing_b", logs, [])
        base = await start_baseline(infra, logs)
        servers = [a, b, base]
        databases = dict(zip(("a", "b", "baseline"), infra.created_databases, strict=True))
        await asyncio.gather(*(server.wait_ready() for server in servers))
        scenario = Scenario.seeded(infra.run_id, opds=16, vendors=8, products=40)
        async with client(a.url, 16) as http_a, client(b.url, 16) as http_b:
            await scenario.prepare(infra.kafka, http_a)
            await scenario._allocate_budgets(http_b)
            await scenario._wait_until_products_known(http_b)
        rounds = []
        for number in range(args.rounds):
            found = {}
            for key, server in (("baseline", base), ("a", a), ("b", b)):
                found[key] = await _run(infra, server, databases[key], scenario, args)
                log.info("round %d %s: %s", number, key, found[key])
            rounds.append(found)
        return rounds
    finally:
        for server in servers:
            await server.stop()
        await infra.drop_databases()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--a",
        action="append",
        default=[],
        help="a src directory for A, first on its path (repeatable; default: the working tree)",
    )
    parser.add_argument(
        "--a-url-query", default="", help="appended to A's database URL, e.g. ?ssl=disable"
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
