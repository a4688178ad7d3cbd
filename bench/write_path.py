"""Order write path: `POST /orders` at N closed-loop clients, next to the bare baseline endpoint
taking the same requests from the same client.

Besides the rates, the CPU each request cost its server and PostgreSQL: on a busy machine the
rates move with the other load, the cost per request much less."""

from typing import Any

from bench import wrk
from bench.cpu import CpuMeter
from bench.load import Throughput, client, closed_loop
from bench.scenario import Scenario


def _cpu_ms_per_request(run: Throughput, server: str) -> dict[str, float]:
    if not run.per_s:
        return {}
    return {
        name: round(run.cpu_cores[name] / run.per_s * 1000, 2)
        for name in (server, "postgresql", "load generator")
    }


async def measure(
    scenario: Scenario,
    *,
    baseline_url: str,
    purchasing_url: str,
    clients: int,
    warmup_s: float,
    measure_s: float,
    meter: CpuMeter,
) -> dict[str, Any]:
    if wrk.available():
        bare_run = await wrk.closed_loop(
            baseline_url,
            scenario.next_order,
            clients=clients,
            warmup_s=warmup_s,
            measure_s=measure_s,
            meter=meter,
        )
        orders_run = await wrk.closed_loop(
            purchasing_url,
            scenario.next_order,
            clients=clients,
            warmup_s=warmup_s,
            measure_s=measure_s,
            meter=meter,
        )
        scenario.ledger.add(orders_run.created_by_tag)
        async with client(purchasing_url, 4) as http:
            await scenario.recount(http)
        return _figures(
            "wrk", clients, warmup_s, measure_s, bare_run.throughput, orders_run.throughput
        )
    async with client(baseline_url, clients) as http:
        bare = await closed_loop(
            http,
            scenario.next_order,
            clients=clients,
            warmup_s=warmup_s,
            measure_s=measure_s,
            meter=meter,
        )
    async with client(purchasing_url, clients) as http:
        orders = await closed_loop(
            http,
            scenario.next_order,
            clients=clients,
            warmup_s=warmup_s,
            measure_s=measure_s,
            meter=meter,
            on_answer=scenario.ledger.record,
        )
        await scenario.recount(http)
    return _figures("httpx", clients, warmup_s, measure_s, bare, orders)


def _figures(
    generator: str,
    clients: int,
    warmup_s: float,
    measure_s: float,
    bare: Throughput,
    orders: Throughput,
) -> dict[str, Any]:
    return {
        "load_generator": generator,
        "clients": clients,
        "warmup_s": warmup_s,
        "measure_s": measure_s,
        "baseline": {**bare.as_dict(), "cpu_ms_per_request": _cpu_ms_per_request(bare, "baseline")},
        "orders": {
            **orders.as_dict(),
            "cpu_ms_per_request": _cpu_ms_per_request(orders, "purchasing"),
        },
        "ratio": orders.per_s / bare.per_s if bare.per_s else 0.0,
    }
