"""With REPORTING_PROJECTION_PROCESSES=2 the service and a worker process share each projection's
consumer group, and the figures equal an independent recomputation: while both apply the stream,
after the worker is killed mid-stream (its partitions move, then move back when it is started
again) and after a rebuild, which both processes replay and one of them switches over."""

import os
import random
import signal
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment as Assignment

from tests.helpers import DatabaseFactory, Infra, bearer, eventually, unique
from tests.reporting import oracle
from tests.reporting.support import Sent, fresh_scope, produce, wait_applied
from tests.reporting.test_restart import _client, _free_port, _history, _service

pytestmark = pytest.mark.infra

AUDITOR = bearer("auditor")


def _workers(service: int) -> list[int]:
    """The projection workers the service started (its child processes running them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == service and b"etalase_reporting.workers" in command:
            found.append(int(entry.name))
    return found


def _alive(pids: list[int]) -> list[int]:
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


async def _members(kafka: str, group_prefix: str) -> dict[str, int]:
    """Per consumer group starting with `group_prefix`: how many members have partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        groups = [g[0] for g in await admin.list_consumer_groups() if g[0].startswith(group_prefix)]
        if not groups:
            return {}
        described = await admin.describe_consumer_groups(groups)
        counts = {}
        for response in described:
            for group in response.groups:
                counts[group[1]] = sum(
                    1
                    for member in group[5]
                    if member[4] and Assignment.decode(member[4]).partitions()
                )
        return counts
    finally:
        await admin.close()


async def _figures(client: httpx.AsyncClient, fiscal_year: int, province: str) -> list[Any]:
    bodies = []
    for as_of in (None, "2041-03-02", "2041-03-05"):
        params: dict[str, str | int] = {"fiscal_year": fiscal_year, "region_code": province}
        if as_of:
            params["as_of"] = as_of
        response = await client.get("/compliance/opd", params=params, headers=AUDITOR)
        assert response.status_code == 200, response.text
        bodies.append(response.json()["items"])
    return bodies


def _expected(events: list[Sent], fiscal_year: int) -> list[Any]:
    days = (None, date(2041, 3, 2), date(2041, 3, 5))
    return [oracle.opd_report(events, fiscal_year, day) for day in days]


async def test_two_projection_processes_give_the_figures_of_one(
    infra: Infra, new_database: DatabaseFactory
) -> None:
    port = _free_port()
    group = unique("test.reporting.processes.")
    env = os.environ | {
        "REPORTING_DATABASE_URL": await new_database("reporting_processes"),
        "REPORTING_HTTP_PORT": str(port),
        "REPORTING_CONSUMER_GROUP": group,
        "REPORTING_CONSUMER_BATCH_SIZE": "50",  # many transactions: moves land inside some
        "REPORTING_PROJECTION_PROCESSES": "2",
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka,
    }
    with _service(env) as service:
        async with _client(port) as client:

            async def both_processes_consume() -> bool:
                members = await _members(infra.kafka, f"{group}.compliance.")
                return list(members.values()) == [2]

            await eventually(both_processes_consume, timeout=60, interval=0.5)
            (worker,) = _workers(service.pid)

            fiscal_year, province = await fresh_scope(client, infra.kafka)
            events = _history(fiscal_year, province, orders=200, seed=fiscal_year)
            rng = random.Random(2)
            stream = events + rng.sample(events, 80)  # some delivered twice
            rng.shuffle(stream)
            third = len(stream) // 3
            written = await produce(infra.kafka, stream[:third])
            os.kill(worker, signal.SIGKILL)  # mid-stream: its partitions go to the service
            written |= await produce(infra.kafka, stream[third : 2 * third])

            async def worker_restarted() -> bool:
                return bool(set(_workers(service.pid)) - {worker})

            await eventually(worker_restarted, timeout=30, interval=0.2)
            written |= await produce(infra.kafka, stream[2 * third :])
            await wait_applied(client, written)
            await eventually(both_processes_consume, timeout=60, interval=0.5)
            expected = _expected(events, fiscal_year)
            assert await _figures(client, fiscal_year, province) == expected

            response = await client.post("/projections/rebuild", headers=AUDITOR)
            assert response.status_code == 202, response.text
            generation = response.json()["generation"]

            async def rebuilt() -> bool:
                body = (await client.get("/projections", headers=AUDITOR)).json()
                return bool(body["live_generation"] == generation)

            await eventually(rebuilt, timeout=300, interval=0.5)  # replays the whole log
            assert await _figures(client, fiscal_year, province) == expected

            async def both_in_the_new_generation() -> bool:
                # read once its group has settled: right after the switch it may be rebalancing
                # (no members listed) as the second process joins
                members = await _members(infra.kafka, f"{group}.compliance.g{generation}.")
                return list(members.values()) == [2]

            await eventually(both_in_the_new_generation, timeout=60, interval=0.5)
            workers = _workers(service.pid)
    # the service was killed (SIGKILL) on leaving `_service`: its workers stop with it

    async def workers_gone() -> bool:
        return not _alive(workers)

    await eventually(workers_gone, timeout=30, interval=0.2)
