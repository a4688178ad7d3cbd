"""How fast the compliance projection catches up, against raw Kafka and a naive projector.

    uv run python -m bench.projection --events N [--kafka HOST:PORT] [--postgres URL]

Writes N events (BudgetAllocated and OrderPlaced/Accepted/Completed/Cancelled, as purchasing emits
them) to a dedicated topic, then measures in the same run:
  (a) raw: an aiokafka consumer reading the topic, nothing else; and the same consumer decoding
      and validating each record with the codec, no more (the floor of any consumer of the
      contract: in CPython it costs several times the raw read);
  (b) projector: the reporting projector through the platform's IdempotentConsumer (decode,
      one transaction per batch, offsets) into a fresh database;
  (c) naive: the same projector and consumer with batches of one event (a transaction per event),
      on a sample of the topic;
  (d) processes: the projector of (b) as N processes of one consumer group over the topic's
      partitions, into one database (`processes_rate`; reporting runs its projection the same
      way with REPORTING_PROJECTION_PROCESSES).
Rates are measured from the first record received to the last one applied, so consumer-group
joins are not counted. `measure()` is what the project's bench CLI calls.
"""

import argparse
import asyncio
import gc
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from etalase_events.codec import decode, encode_event
from etalase_events.models import (
    BudgetAllocated,
    Catalog,
    Event,
    LegalForm,
    OrderAccepted,
    OrderCancelled,
    OrderCompleted,
    OrderLine,
    OrderPlaced,
    Scale,
)
from etalase_platform.consumer import Delivery, IdempotentConsumer
from etalase_platform.db import (
    create_engine,
    database_url,
    drop_databases,
    session_factory,
    upgrade_to_head,
)
from etalase_platform.outbox import kafka_producer
from etalase_reporting.bootstrap import MIGRATIONS
from etalase_reporting.main import tune_garbage_collector
from etalase_reporting.projection.compliance import ComplianceProjector
from etalase_reporting.projection.registry import PROJECTIONS
from etalase_reporting.rebuild.generations import Status, create_generation, lock
from etalase_reporting.settings import Settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.environment import REPO

PARTITIONS = 6
BATCH: int = Settings.model_fields["consumer_batch_size"].default  # as the service runs
NAIVE_SAMPLE = 3000
COMPLIANCE = next(p for p in PROJECTIONS if p.name == "compliance")  # run as the service runs it
FISCAL_YEAR = 2041


# --- the events --------------------------------------------------------------------------------


def _opds(rng: random.Random) -> list[tuple[str, str]]:
    """300 OPDs (code, region) over 18 kab/kota."""
    regions = [f"{p}.{k:02d}" for p in (33, 34, 35) for k in (1, 2, 3, 71, 72, 73)]
    opds = []
    for number in range(300):
        region = rng.choice(regions)
        opds.append((f"{region}.{number // 10}.{number % 10:02d}", region))
    return opds


def _events(count: int, seed: int = 7) -> Iterator[tuple[str, Event, int]]:
    """(subject, event, sequence) in publishing order: a realistic purchasing stream."""
    rng = random.Random(seed)
    start = datetime(FISCAL_YEAR, 1, 2, tzinfo=UTC)
    opds = _opds(rng)
    produced = 0
    for opd, region in opds:
        for sequence in (1, 2):
            if produced >= count:
                return
            event = BudgetAllocated(
                fiscal_year=FISCAL_YEAR,
                opd_code=opd,
                opd_name=f"Dinas {opd}",
                region_code=region,
                pagu_idr=rng.randrange(10**9, 10**11),
                allocated_at=start + timedelta(days=30 * (sequence - 1)),
            )
            yield f"{FISCAL_YEAR}:{opd}", event, sequence
            produced += 1
    number = 0
    while produced < count:
        number += 1
        order_id = f"bench-{number}"
        opd, region = rng.choice(opds)
        at = start + timedelta(minutes=rng.randrange(360 * 24 * 60))
        lifecycle: list[Event] = [_order(rng, order_id, opd, region, at)]
        if rng.random() < 0.85:
            lifecycle.append(OrderAccepted(order_id=order_id, accepted_at=at + timedelta(hours=2)))
            if rng.random() < 0.8:
                done = at + timedelta(days=rng.randrange(1, 20))
                lifecycle.append(OrderCompleted(order_id=order_id, completed_at=done))
        if len(lifecycle) < 3 and rng.random() < 0.5:
            cancelled = at + timedelta(days=rng.randrange(0, 5))
            lifecycle.append(
                OrderCancelled(order_id=order_id, reason="batal", cancelled_at=cancelled)
            )
        for sequence, step in enumerate(lifecycle, start=1):
            if produced >= count:
                return
            yield order_id, step, sequence
            produced += 1


def _order(rng: random.Random, order_id: str, opd: str, region: str, at: datetime) -> OrderPlaced:
    lines = []
    for number in range(1, rng.randint(1, 4) + 1):
        quantity, price = rng.randint(1, 50), rng.randrange(10_000, 5_000_000)
        tkdn = rng.choice([None, Decimal("15"), Decimal("25.5"), Decimal("40")])
        lines.append(
            OrderLine(
                line_no=number,
                product_id=f"p-{rng.randrange(20_000)}",
                name="Barang",
                category=rng.choice(["alat tulis", "komputer", "makanan", "obat"]),
                catalog=rng.choice(list(Catalog)),
                quantity=quantity,
                unit_price_idr=price,
                subtotal_idr=quantity * price,
                domestic=rng.random() < 0.8,
                tkdn_pct=tkdn,
                bmp_pct=None if tkdn is None else Decimal("10"),
                pdn_alternative_available=rng.random() < 0.1,
            )
        )
    return OrderPlaced(
        order_id=order_id,
        opd_code=opd,
        region_code=region,
        fiscal_year=FISCAL_YEAR,
        vendor_id=f"v-{rng.randrange(5_000)}",
        vendor_scale=rng.choice(list(Scale)),
        vendor_legal_form=rng.choice([LegalForm.CV, LegalForm.PT, LegalForm.KOPERASI]),
        vendor_region_code=rng.choice([region, "33.75"]),
        lines=tuple(lines),
        total_idr=sum(line.subtotal_idr for line in lines),
        placed_at=at,
    )


async def write_events(kafka: str, topic: str, count: int) -> float:
    """Publish `count` events to `topic`; returns events per second."""
    producer = kafka_producer(kafka, "bench.projection")
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for subject, event, sequence in _events(count):
            record = encode_event(event, source="etalase/bench", subject=subject, sequence=sequence)
            pending.append(
                await producer.send(
                    topic, value=record.value, key=record.key, headers=record.headers
                )
            )
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return count / (time.perf_counter() - started)


# --- the measurements --------------------------------------------------------------------------


async def raw_rate(kafka: str, topic: str, count: int, *, decoding: bool = False) -> float:
    """Records per second through a bare aiokafka consumer; with `decoding`, each record also
    decoded and validated by the codec (what any consumer of the contract must do at least)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        group_id=f"bench.raw.{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=BATCH,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        seen, started = 0, 0.0
        while seen < count:
            batch = await consumer.getmany(timeout_ms=1000, max_records=BATCH)
            if batch and not started:
                started = time.perf_counter()
            for records in batch.values():
                seen += len(records)
                if decoding:
                    for record in records:
                        decode(record.value, record.headers)
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


class _FirstBatch:
    """The projector, noting when its first batch arrived (the clock starts there) and how many
    events it was handed."""

    def __init__(self, projector: ComplianceProjector) -> None:
        self.projector = projector
        self.started: float | None = None
        self.handed = 0

    async def apply(self, session: Any, deliveries: Sequence[Delivery]) -> None:
        if self.started is None:
            self.started = time.time()  # epoch: compared across processes
        self.handed += len(deliveries)
        await self.projector.apply(session, deliveries)


async def _prepared(url: str) -> AsyncEngine:
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(url, pool_size=4)
    async with session_factory(engine)() as session, session.begin():
        await lock(session)
        await create_generation(session, Status.LIVE, {})
    return engine


async def _applied(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        total = await connection.scalar(
            text("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets")
        )
    return int(total or 0)


async def projector_rate(kafka: str, url: str, topic: str, count: int, batch_size: int) -> float:
    """Events per second through the real consumer and projector, until `count` are applied."""
    engine = await _prepared(url)
    try:
        group = f"bench.projector.{uuid.uuid4().hex[:8]}"
        started, finished = await _consume_until(
            kafka, engine, topic, count, batch_size, group, alone=True
        )
    finally:
        await engine.dispose()
    assert started is not None
    return count / (finished - started)


async def _consume_until(
    kafka: str,
    engine: AsyncEngine,
    topic: str,
    count: int,
    batch_size: int,
    group: str,
    *,
    alone: bool = False,
) -> tuple[float | None, float]:
    """Runs the projector's consumer in `group` until `count` events are applied (by this process
    or others of the group); returns when its first batch arrived (None: it got none) and when
    the last was applied (epoch seconds: the clock of every process).

    `alone`: no other process of the group applies any, so the database is asked only once
    this one's projector has been handed `count` events (a query every 50 ms on the consumer's
    own event loop took 3-5 % of its samples, a cost of the bench, not of the projector)."""
    dlq = kafka_producer(kafka, "bench.dlq")
    await dlq.start()
    projector = _FirstBatch(ComplianceProjector("reporting_g1"))
    consumer = IdempotentConsumer(
        name=f"compliance.bench{batch_size}",
        service="reporting",
        topics=[topic],
        projector=projector,
        sessions=session_factory(engine),
        bootstrap_servers=kafka,
        group_id=group,
        dlq_producer=dlq,
        batch_size=batch_size,
        inbox=COMPLIANCE.inbox,
    )
    await consumer.start()
    task = asyncio.create_task(consumer.run_forever())
    try:
        while (alone and projector.handed < count) or await _applied(engine) < count:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        finished = time.time()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()
        await dlq.stop()
    return projector.started, finished


async def _worker(kafka: str, url: str, topic: str, count: int, group: str) -> None:
    """One of `processes_rate`'s processes: prints when its first batch arrived and when all were
    applied."""
    tune_garbage_collector()
    engine = create_engine(url, pool_size=4)
    try:
        started, finished = await _consume_until(kafka, engine, topic, count, BATCH, group)
    finally:
        await engine.dispose()
    print(json.dumps({"first_batch_at": started, "finished_at": finished}), flush=True)


async def processes_rate(kafka: str, url: str, topic: str, count: int, processes: int) -> float:
    """Events per second with `processes` OS processes of one consumer group sharing the topic's
    partitions (at most one process per partition does work), from the first batch any of them
    received until `count` are applied."""
    engine = await _prepared(url)
    group = f"bench.processes.{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "-m", "bench.projection", "--worker", topic, url, str(count), group]
    workers = [
        await asyncio.create_subprocess_exec(
            *command, "--kafka", kafka, stdout=asyncio.subprocess.PIPE, cwd=REPO
        )
        for _ in range(processes)
    ]
    try:
        outputs = await asyncio.gather(*(worker.communicate() for worker in workers))
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
        await engine.dispose()
    if any(worker.returncode for worker in workers):
        raise RuntimeError(f"a projection process failed: {[w.returncode for w in workers]}")
    reports = [json.loads(out.decode().splitlines()[-1]) for out, _ in outputs]
    started = min(float(r["first_batch_at"]) for r in reports if r["first_batch_at"] is not None)
    return count / (min(float(r["finished_at"]) for r in reports) - started)


async def measure(
    kafka: str, postgres_url: str, events: int, *, processes: int = 2
) -> dict[str, float]:
    """Write `events` events to a fresh topic and measure raw, projector and naive rates."""
    topic = f"bench.projection.{uuid.uuid4().hex[:8]}"
    previous_gc = tune_garbage_collector()  # the process settings the service runs with
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    databases: list[str] = []
    try:
        await admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in (topic, topic + ".dlq")])
        produce = await write_events(kafka, topic, events)
        raw = await raw_rate(kafka, topic, events)
        decoded = await raw_rate(kafka, topic, events, decoding=True)
        projected = await projector_rate(
            kafka, await _database(postgres_url, databases), topic, events, BATCH
        )
        in_processes = await processes_rate(
            kafka, await _database(postgres_url, databases), topic, events, processes
        )
        sample = min(events, NAIVE_SAMPLE)
        naive = await projector_rate(
            kafka, await _database(postgres_url, databases), topic, sample, 1
        )
    finally:
        await admin.delete_topics([topic, topic + ".dlq"])
        await admin.close()
        await _drop(postgres_url, databases)
        gc.set_threshold(*previous_gc)
    return {
        "projector_events_per_s": projected,
        "raw_consume_events_per_s": raw,
        "consume_and_decode_events_per_s": decoded,
        "naive_events_per_s": naive,
        "processes": float(processes),
        "processes_events_per_s": in_processes,
        "processes_vs_one": in_processes / projected,
        "projector_vs_raw": projected / raw,
        "projector_vs_consume_and_decode": projected / decoded,
        "projector_vs_naive": projected / naive,
        "events": float(events),
        "naive_sample_events": float(sample),
        "batch_size": float(BATCH),
        "write_events_per_second": produce,
    }


# --- databases ---------------------------------------------------------------------------------


def _server_url(url: str) -> str:
    return database_url(url, "postgres")


async def _database(postgres_url: str, created: list[str]) -> str:
    name = f"bench_projection_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(_server_url(postgres_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    created.append(name)
    return database_url(postgres_url, name, driver="asyncpg")


async def _drop(postgres_url: str, names: list[str]) -> None:
    await drop_databases(_server_url(postgres_url), names)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.projection", description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument(
        "--kafka", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "ETALASE_POSTGRES_URL", "postgresql://etalase:etalase@localhost:5432/postgres"
        ),
        help="a server URL whose role may create databases",
    )
    parser.add_argument(
        "--worker",
        nargs=4,
        metavar=("TOPIC", "DATABASE_URL", "COUNT", "GROUP"),
        help="run as one of the processes of (d)",
    )
    parser.add_argument("--processes", type=int, default=2, help="the processes of (d)")
    args = parser.parse_args()
    if args.worker:
        topic, url, count, group = args.worker
        asyncio.run(_worker(args.kafka, url, topic, int(count), group))
        return
    result = asyncio.run(measure(args.kafka, args.postgres, args.events, processes=args.processes))
    print(json.dumps({k: round(v, 2) for k, v in result.items()}, indent=2))
    print(
        f"projector {result['projector_events_per_s']:,.0f} events/s ="
        f" {result['projector_vs_raw']:.2f} x raw consume"
        f" ({result['raw_consume_events_per_s']:,.0f}/s),"
        f" {result['projector_vs_consume_and_decode']:.2f} x consume and decode"
        f" ({result['consume_and_decode_events_per_s']:,.0f}/s),"
        f" {result['projector_vs_naive']:.1f} x naive ({result['naive_events_per_s']:,.0f}/s)"
    )


if __name__ == "__main__":
    main()
