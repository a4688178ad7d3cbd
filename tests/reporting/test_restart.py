"""Killing the reporting service mid-stream (SIGKILL, no shutdown) and starting it again changes
nothing: the figures equal an independent recomputation from the events."""

import os
import random
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from etalase_events.models import Catalog, LegalForm, Scale
from etalase_platform.db import create_engine
from sqlalchemy import text

from tests.helpers import DatabaseFactory, Infra, bearer, eventually, unique
from tests.reporting import oracle
from tests.reporting.support import (
    Positions,
    Sent,
    accepted,
    budget,
    cancelled,
    completed,
    fresh_scope,
    line,
    log_ends,
    placed,
    produce,
    wait_applied,
)

pytestmark = pytest.mark.infra

START = datetime(2041, 3, 1, 1, 0, tzinfo=UTC)


def _history(fiscal_year: int, province: str, orders: int, seed: int) -> list[Sent]:
    rng = random.Random(seed)
    opds = [
        (f"{province}.{kab}.1.{n:02d}", f"{province}.{kab}")
        for kab in ("71", "02")
        for n in range(5)
    ]

    def moment() -> datetime:
        return START + timedelta(minutes=rng.randrange(6 * 24 * 60))

    events = [
        budget(fiscal_year, opd, region, rng.randrange(1, 10**10), moment(), sequence)
        for opd, region in opds
        for sequence in (1, 2)
    ]
    for number in range(orders):
        order_id = f"restart-{number}-{uuid.uuid4()}"
        opd, region = rng.choice(opds)
        lines = [
            line(
                n,
                rng.randrange(1, 10**8),
                rng.choice(list(Catalog)),
                domestic=rng.random() < 0.8,
                tkdn=rng.choice([None, "10", "25", "35"]),
                bmp=rng.choice([None, "5", "15"]),
                alternative=rng.random() < 0.2,
            )
            for n in range(1, rng.randint(1, 3) + 1)
        ]
        at = moment()
        events.append(
            placed(
                order_id,
                fiscal_year,
                opd,
                region,
                lines,
                at,
                scale=rng.choice(list(Scale)),
                legal_form=rng.choice([LegalForm.CV, LegalForm.KOPERASI]),
                vendor_region_code=rng.choice([f"{province}.71", f"{province}.02"]),
            )
        )
        events.append(accepted(order_id, at + timedelta(hours=1)))
        ending = rng.random()
        if ending < 0.5:
            events.append(completed(order_id, at + timedelta(hours=rng.randrange(1, 60))))
        elif ending < 0.7:
            events.append(cancelled(order_id, at + timedelta(hours=rng.randrange(1, 60))))
    return events


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _service(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "etalase_reporting.main"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


@asynccontextmanager
async def _client(port: int) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

        async def ready() -> bool:
            try:
                return (await client.get("/health/ready")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready)
        yield client


async def _applied_some(client: httpx.AsyncClient, start: Positions) -> None:
    async def progressed() -> bool:
        body = (await client.get("/projections", headers=bearer("auditor"))).json()
        return any(
            (item["next_offset"] or 0) > start.get((item["topic"], item["partition"]), 0)
            for item in body["items"]
            if item["projection"] == "compliance"
        )

    await eventually(progressed, interval=0.02)


async def test_a_killed_service_restarts_without_changing_the_figures(
    infra: Infra, new_database: DatabaseFactory
) -> None:
    port = _free_port()
    env = os.environ | {
        "REPORTING_DATABASE_URL": await new_database("reporting_restart"),
        "REPORTING_HTTP_PORT": str(port),
        "REPORTING_CONSUMER_GROUP": unique("test.reporting.restart."),
        "REPORTING_CONSUMER_BATCH_SIZE": "50",  # many transactions: the kill lands inside one
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka,
    }

    with _service(env) as process:
        async with _client(port) as client:
            fiscal_year, province = await fresh_scope(client, infra.kafka)
            events = _history(fiscal_year, province, orders=400, seed=fiscal_year)
            rng = random.Random(1)
            stream = events + rng.sample(events, 100)  # some delivered twice
            rng.shuffle(stream)
            first, second = stream[: len(stream) // 2], stream[len(stream) // 2 :]
            start = await log_ends(infra.kafka)
            written = await produce(infra.kafka, first)
            await _applied_some(client, start)
        process.send_signal(signal.SIGKILL)  # mid-stream: no shutdown, a batch may be in flight
        process.wait()

    written |= await produce(infra.kafka, second)  # arrives while the service is down
    with _service(env):
        async with _client(port) as client:
            await wait_applied(client, written)
            for as_of in (None, "2041-03-02", "2041-03-05"):
                params: dict[str, str | int] = {"fiscal_year": fiscal_year, "region_code": province}
                if as_of:
                    params["as_of"] = as_of
                response = await client.get(
                    "/compliance/opd", params=params, headers=bearer("auditor")
                )
                day = datetime.fromisoformat(as_of).date() if as_of else None
                assert response.json()["items"] == oracle.opd_report(events, fiscal_year, day)


async def test_a_generation_made_before_a_projection_gets_its_tables_on_start(
    infra: Infra, new_database: DatabaseFactory
) -> None:
    """A live generation an earlier release made lacks the tables of projections added since
    (here the documents projection's): the service creates them before its consumers start,
    and the OCDS export, which reads them, holds an order sent while it was down."""
    port = _free_port()
    url = await new_database("reporting_older_generation")
    env = os.environ | {
        "REPORTING_DATABASE_URL": url,
        "REPORTING_HTTP_PORT": str(port),
        "REPORTING_CONSUMER_GROUP": unique("test.reporting.older."),
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka,
    }
    with _service(env):
        async with _client(port) as client:
            fiscal_year, province = await fresh_scope(client, infra.kafka)
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text("DROP TABLE reporting_g1.order_documents, reporting_g1.vendor_names")
        )
    await engine.dispose()

    opd, region = f"{province}.71.1.01", f"{province}.71"
    order_id = f"older-{uuid.uuid4()}"
    at = START + timedelta(days=1)
    written = await produce(
        infra.kafka,
        [
            budget(fiscal_year, opd, region, 10**9, at),
            placed(order_id, fiscal_year, opd, region, [line(1, 5_000_000)], at),
        ],
    )
    with _service(env):
        async with _client(port) as client:
            await wait_applied(client, written)
            response = await client.get(
                "/ocds/releases",
                params={"fiscal_year": fiscal_year, "region_code": province},
                headers=bearer("auditor"),
            )
    assert response.status_code == 200, response.text
    assert order_id in response.text, "the order's document is not in the OCDS export"
