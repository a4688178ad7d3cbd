"""Runs every benchmark in one go: the two that need no service first (outbox relay, projection
catch-up) on a quiet machine, then the four services and the baseline as subprocesses for the
order write path and end-to-end freshness, their peak memory read as they stop.

A benchmark that fails is recorded with its error and the others still run."""

import asyncio
import functools
import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import freshness, rebuild, relay, views, write_path
from bench.cpu import CpuMeter, settle
from bench.environment import Infra, machine
from bench.load import client
from bench.processes import (
    CONSUMING,
    SERVICES,
    Server,
    start_baseline,
    start_service,
    wait_caught_up,
)
from bench.scenario import Scenario
from bench.sizes import Sizes

log = logging.getLogger("bench")
Results = dict[str, Any]
CATCH_UP_TIMEOUT_S = 600.0
QUICK_NAIVE_SAMPLE = 300
SETTLE_S = 90.0
QUICK_SETTLE_S = 4.0


async def _guarded(name: str, results: Results, work: Callable[[], Awaitable[Any]]) -> None:
    log.info("%s ...", name)
    try:
        results[name] = await work()
    except Exception as error:
        log.error("%s failed: %r", name, error)
        results[name] = {"error": f"{type(error).__name__}: {error}"}
        results[name]["traceback"] = traceback.format_exc()
    log.info("%s done", name)


async def _settle(infra: Infra, results: Results, section: str, *, quick: bool) -> None:
    """What the previous section left (its databases and their autovacuum, dirty buffers, a busy
    broker) must not run beside the next one; --quick, a smoke test, waits little."""
    await infra.drop_databases()
    quiet = await settle(limit_s=QUICK_SETTLE_S if quick else SETTLE_S)
    results.setdefault("settled", {})[section] = quiet
    log.info("%s: settled after %.1f s (%.2f cores busy)", section, *quiet.values())


async def _projection(infra: Infra, sizes: Sizes, *, quick: bool) -> dict[str, float]:
    from bench import projection  # reporting's; imported here so that a break in it fails
    # this benchmark only

    if quick:
        # a transaction per event is slow by design: a small sample keeps --quick quick
        projection.NAIVE_SAMPLE = min(projection.NAIVE_SAMPLE, QUICK_NAIVE_SAMPLE)
    return await projection.measure(
        infra.kafka, infra.postgres, sizes.projection_events, processes=sizes.projection_processes
    )


async def _start_servers(
    infra: Infra, logs: Path, started: dict[str, Server], profile: Sequence[str]
) -> None:
    """Fills `started` as it goes, so that whatever started is stopped even if a start fails."""
    for name in SERVICES:
        started[name] = await start_service(name, infra, logs, profile=name in profile)
    started["baseline"] = await start_baseline(infra, logs)
    await asyncio.gather(*(server.wait_ready() for server in started.values()))


async def _prepare(infra: Infra, scenario: Scenario, servers: dict[str, Server]) -> Results:
    consuming = [servers[name] for name in CONSUMING]
    history_s = await wait_caught_up(consuming, CATCH_UP_TIMEOUT_S)
    async with client(servers["purchasing"].url, 16) as http:
        await scenario.prepare(infra.kafka, http)
    caught_up_s = await wait_caught_up(consuming, CATCH_UP_TIMEOUT_S)
    return {
        "opds": len(scenario.opds),
        "vendors": len(scenario.products_by_vendor),
        "products": sum(len(p) for p in scenario.products_by_vendor.values()),
        "shared_topic_history_read_s": history_s,
        "after_seeding_caught_up_s": caught_up_s,
    }


async def _measure(
    infra: Infra, sizes: Sizes, servers: dict[str, Server], results: Results
) -> None:
    scenario = Scenario.seeded(
        infra.run_id, opds=sizes.opds, vendors=sizes.vendors, products=sizes.products
    )
    await _guarded("setup", results, lambda: _prepare(infra, scenario, servers))
    if "error" in results["setup"]:
        return
    meter = CpuMeter(
        {name: server.process.pid for name, server in servers.items()},
        infra.postgres,
        infra.created_databases,
    )
    purchasing = servers["purchasing"].url
    await _guarded(
        "write_path",
        results,
        lambda: write_path.measure(
            scenario,
            baseline_url=servers["baseline"].url,
            purchasing_url=purchasing,
            clients=sizes.clients,
            warmup_s=sizes.write_warmup_s,
            measure_s=sizes.write_measure_s,
            meter=meter,
        ),
    )
    await servers["baseline"].stop()
    rate = sizes.freshness_rate
    capacity = results["write_path"].get("orders", {}).get("per_s", rate / 2)
    # the pipeline's own latency, at a load this machine can take: half the write capacity
    sustainable = max(1.0, min(rate, round(capacity / 2)))
    if sustainable < rate:
        await _guarded(
            "freshness_sustainable",
            results,
            functools.partial(
                _freshness, infra.kafka, scenario, servers, sizes, sustainable, meter
            ),
        )
    await _guarded(
        "freshness",
        results,
        functools.partial(_freshness, infra.kafka, scenario, servers, sizes, rate, meter),
    )
    await _guarded("rebuild", results, lambda: rebuild.measure(servers))


async def _freshness(
    kafka: str,
    scenario: Scenario,
    servers: dict[str, Server],
    sizes: Sizes,
    rate: float,
    meter: CpuMeter,
) -> Results:
    return await freshness.measure(
        scenario,
        kafka=kafka,
        purchasing_url=servers["purchasing"].url,
        reporting_url=servers["reporting"].url,
        rate=rate,
        warmup_s=sizes.freshness_warmup_s,
        duration_s=sizes.freshness_s,
        meter=meter,
    )


async def _with_services(
    infra: Infra, sizes: Sizes, logs: Path, profile: Sequence[str], results: Results
) -> None:
    servers: dict[str, Server] = {}
    try:
        await _start_servers(infra, logs, servers, profile)
        await _measure(infra, sizes, servers, results)
    except Exception as error:
        log.error("services: %r", error)
        results.setdefault("setup", {"error": f"{type(error).__name__}: {error}"})
    finally:
        for server in servers.values():
            await server.stop()
        results["memory"] = {
            name: {"peak_rss_mib": server.peak_rss_mib, "log": str(server.log)}
            for name, server in servers.items()
            if name in SERVICES
        }


SECTIONS = ("relay", "projection", "views", "services")
"""What `--only` may select: the benchmarks without services, and everything that runs against
the services (write path, freshness, reporting's rebuild, memory)."""


async def run_all(
    sizes: Sizes,
    *,
    quick: bool,
    command: str,
    logs: Path,
    profile: Sequence[str] = (),
    only: Sequence[str] = SECTIONS,
) -> Results:
    infra = Infra.from_environment()
    results: Results = {
        "command": command,
        "mode": "quick" if quick else "full",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": await machine(infra),
        "sizes": asdict(sizes),
    }
    without_services: dict[str, Callable[[], Awaitable[Any]]] = {
        "relay": lambda: relay.measure(infra, sizes.relay_events),
        "projection": lambda: _projection(infra, sizes, quick=quick),
        "views": lambda: views.measure(infra, sizes.views_events),
    }
    try:
        for section in (name for name in SECTIONS if name in only):
            await _settle(infra, results, section, quick=quick)
            if section in without_services:
                await _guarded(section, results, without_services[section])
            else:
                await _with_services(infra, sizes, logs, profile, results)
    finally:
        await infra.drop_databases()
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return results
