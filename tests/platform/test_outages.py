"""Failures and dependency outages, through a real uvicorn server over TCP: 503 naming the
dependency, 500 without dropping the keep-alive connection, one log line per failed request,
readiness that means "can do its job", and metrics that say "unknown" rather than go stale."""

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from etalase_platform.db import create_engine, session_factory
from etalase_platform.deps import Sessions
from etalase_platform.http import create_app
from etalase_platform.runtime import ServiceRuntime
from etalase_platform.settings import ServiceSettings
from fastapi import APIRouter, FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.helpers import DatabaseFactory, Infra, eventually, unique
from tests.platform.support import MIGRATIONS

pytestmark = pytest.mark.infra

UNREACHABLE_DATABASE = "postgresql+asyncpg://nobody:x@127.0.0.1:1/none"


def _router() -> APIRouter:
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError("a bug")

    @router.get("/rows")
    async def rows(sessions: Sessions) -> dict[str, int]:
        async with sessions() as session:
            return {"rows": (await session.execute(text("SELECT count(*) FROM outbox"))).one()[0]}

    @router.get("/slow")
    async def slow(sessions: Sessions) -> dict[str, str]:
        async with sessions() as session:
            await session.execute(text("SELECT pg_sleep(30)"))
        return {"slept": "yes"}

    return router


class Served:
    def __init__(self, app: FastAPI, runtime: ServiceRuntime, port: int) -> None:
        self.app, self.runtime, self.port = app, runtime, port
        self.url = f"http://127.0.0.1:{port}"

    def break_database(self) -> tuple[Any, Any]:
        healthy = (self.runtime.engine, self.runtime.sessions)
        self.runtime.engine = create_engine(UNREACHABLE_DATABASE)
        self.runtime.sessions = session_factory(self.runtime.engine)
        return healthy

    async def mend_database(self, healthy: tuple[Any, Any]) -> None:
        await self.runtime.engine.dispose()
        self.runtime.engine, self.runtime.sessions = healthy


@pytest.fixture(scope="module")
async def served(infra: Infra, new_database: DatabaseFactory) -> AsyncIterator[Served]:
    settings = ServiceSettings(
        service_name=unique("outages-"),
        database_url=await new_database("outages"),
        kafka_bootstrap_servers=infra.kafka,
    )
    runtime = ServiceRuntime(settings, MIGRATIONS)
    app = create_app(title="outages", runtime=runtime, routers=[_router()], asyncapi=lambda: {})
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Served(app, runtime, port)
    server.should_exit = True
    await task


async def _pipelined(port: int, *paths: str) -> list[tuple[int, bytes]]:
    """Sends every request at once on one connection (HTTP/1.1 pipelining), reads the answers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for path in paths:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    await writer.drain()
    answers = []
    try:
        for _ in paths:
            status_line = await asyncio.wait_for(reader.readline(), 30)
            if not status_line:
                break  # the server closed the connection
            headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            answers.append((int(status_line.split()[1]), body))
    finally:
        writer.close()
    return answers


async def test_a_500_keeps_the_connection_so_pipelined_requests_are_answered(
    served: Served,
) -> None:
    answers = await _pipelined(served.port, "/boom", "/health/live", "/boom", "/health/live")
    assert [status for status, _ in answers] == [500, 200, 500, 200]


async def test_a_503_keeps_the_connection_too(served: Served) -> None:
    healthy = served.break_database()
    try:
        answers = await _pipelined(served.port, "/rows", "/health/live")
    finally:
        await served.mend_database(healthy)
    assert [status for status, _ in answers] == [503, 200]


async def test_an_unreachable_database_is_a_503_naming_it_with_retry_after(
    served: Served,
) -> None:
    healthy = served.break_database()
    try:
        async with httpx.AsyncClient(base_url=served.url) as client:
            response = await client.get("/rows")
    finally:
        await served.mend_database(healthy)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert (body["status"], body["dependency"]) == (503, "postgresql")


async def test_a_connection_lost_mid_query_is_a_503(served: Served, infra: Infra) -> None:
    async with httpx.AsyncClient(base_url=served.url, timeout=60) as client:
        slow = asyncio.create_task(client.get("/slow"))
        admin = create_async_engine(
            infra.postgres.replace("postgresql://", "postgresql+asyncpg://")
        )
        try:

            async def terminated() -> bool:
                async with admin.connect() as connection:
                    killed = await connection.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE query = 'SELECT pg_sleep(30)' AND pid <> pg_backend_pid()"
                        )
                    )
                    return any(row[0] for row in killed)

            await eventually(terminated, timeout=20)
        finally:
            await admin.dispose()
        response = await slow
    assert response.status_code == 503, response.text
    assert response.json()["dependency"] == "postgresql"


async def test_no_connection_free_in_the_pool_is_a_503(served: Served, infra: Infra) -> None:
    url = served.runtime.settings.database_url
    starved = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    healthy = (served.runtime.engine, served.runtime.sessions)
    served.runtime.sessions = session_factory(starved)
    try:
        async with starved.connect(), httpx.AsyncClient(base_url=served.url) as client:
            response = await client.get("/rows")
    finally:
        served.runtime.engine, served.runtime.sessions = healthy
        await starved.dispose()
    assert response.status_code == 503
    assert response.json()["dependency"] == "postgresql"


async def test_each_failed_request_is_one_line_with_its_trace_id_and_tracebacks_are_limited(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        answers = await _pipelined(served.port, *["/boom"] * 5)
    assert [status for status, _ in answers] == [500] * 5
    failures = [r for r in caplog.records if "/boom" in r.getMessage()]
    assert len(failures) == 5
    assert all("trace_id=" in r.getMessage() for r in failures)
    assert sum(r.exc_info is not None for r in failures) <= 1  # one per class per minute
    # nothing re-raised to the server, which would log each one again with its traceback
    assert not [r for r in caplog.records if r.name.startswith("uvicorn")]


def _gauge(metrics: str, name: str, service: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == name and sample.labels == {"service": service, **labels}:
                return float(sample.value)
    return None


async def test_the_broker_down_is_reported_but_the_service_stays_ready(served: Served) -> None:
    from aiokafka import AIOKafkaProducer

    healthy = served.runtime.producer
    served.runtime.producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1")
    try:
        async with httpx.AsyncClient(base_url=served.url) as client:
            response = await client.get("/health/ready")
            metrics = (await client.get("/metrics")).text
    finally:
        served.runtime.producer = healthy
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["dependencies"]["kafka"]["status"] == "down"
    assert body["dependencies"]["kafka"]["required"] is False
    assert body["dependencies"]["postgresql"]["status"] == "up"
    service = served.runtime.service
    assert _gauge(metrics, "etalase_dependency_up", service, dependency="kafka") == 0
    assert _gauge(metrics, "etalase_dependency_up", service, dependency="postgresql") == 1


async def test_the_database_down_is_not_ready_and_the_backlog_is_unknown(served: Served) -> None:
    service = served.runtime.service
    async with httpx.AsyncClient(base_url=served.url) as client:

        async def backlog_known() -> bool:
            metrics = (await client.get("/metrics")).text
            return _gauge(metrics, "etalase_outbox_backlog", service) == 0

        await eventually(backlog_known, timeout=20)
        healthy = served.break_database()
        try:
            ready = await client.get("/health/ready")

            async def backlog_unknown() -> bool:
                metrics = (await client.get("/metrics")).text
                value = _gauge(metrics, "etalase_outbox_backlog", service)
                return value is not None and math.isnan(value)

            await eventually(backlog_unknown, timeout=20)
            metrics = (await client.get("/metrics")).text
        finally:
            await served.mend_database(healthy)
        assert ready.status_code == 503
        assert ready.json()["dependencies"]["postgresql"]["status"] == "down"
        age = _gauge(metrics, "etalase_outbox_oldest_age_seconds", service)
        assert age is not None and math.isnan(age)
        assert _gauge(metrics, "etalase_outbox_backlog_known", service) == 0
        await eventually(backlog_known, timeout=20)  # known again once the database is back
