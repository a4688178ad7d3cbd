"""Order write path: `POST /orders` at N closed-loop clients, next to the bare baseline endpoint
taking the same requests from the same client."""

from collections.abc import Mapping
from typing import Any

from bench.load import client, closed_loop
from bench.processes import Server
from bench.scenario import Scenario


async def measure(
    scenario: Scenario,
    *,
    baseline: Server,
    services: Mapping[str, Server],
    clients: int,
    warmup_s: float,
    measure_s: float,
) -> dict[str, Any]:
    pids = {
        name: server.process.pid for name, server in [("baseline", baseline), *services.items()]
    }
    async with client(baseline.url, clients) as http:
        bare = await closed_loop(
            http,
            scenario.next_order,
            clients=clients,
            warmup_s=warmup_s,
            measure_s=measure_s,
            pids=pids,
        )
    async with client(services["purchasing"].url, clients) as http:
        orders = await closed_loop(
            http,
            scenario.next_order,
            clients=clients,
            warmup_s=warmup_s,
            measure_s=measure_s,
            pids=pids,
            on_answer=scenario.ledger.record,
        )
    return {
        "clients": clients,
        "warmup_s": warmup_s,
        "measure_s": measure_s,
        "baseline": bare.as_dict(),
        "orders": orders.as_dict(),
        "ratio": orders.per_s / bare.per_s if bare.per_s else 0.0,
    }
