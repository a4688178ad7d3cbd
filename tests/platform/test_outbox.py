"""The transactional outbox against real PostgreSQL and Kafka."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaConsumer
from etalase_events.codec import decode
from etalase_platform.consumer import IdempotentConsumer
from etalase_platform.db import create_engine, session_factory, upgrade_to_head
from etalase_platform.driver import DriverStatement
from etalase_platform.outbox import ENQUEUE_SQL, OutboxRelay, enqueue, kafka_producer
from etalase_platform.telemetry import tracer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers import DatabaseFactory, Infra, TopicFactory, eventually
from tests.platform.support import MIGRATIONS, RecordEffects, recorded_spans, verified

pytestmark = pytest.mark.infra


async def _database(new_database: DatabaseFactory) -> tuple[str, AsyncEngine]:
    url = await new_database("outbox")
    await upgrade_to_head(MIGRATIONS, url)
    return url, create_engine(url, pool_size=20)


async def _write_events(
    engine: AsyncEngine, topic: str, source: str, aggregates: int, per_aggregate: int
) -> None:
    """Each aggregate gets its events over several transactions, many aggregates at once."""
    sessions = session_factory(engine)

    async def write_aggregate(subject: str) -> None:
        sequence = 0
        while sequence < per_aggregate:
            async with sessions() as session, session.begin():
                for _ in range(min(5, per_aggregate - sequence)):
                    sequence += 1
                    await enqueue(
                        session,
                        verified(subject),
                        source=source,
                        subject=subject,
                        sequence=sequence,
                        topic=topic,
                    )

    subjects = [str(uuid.uuid4()) for _ in range(aggregates)]
    limit = asyncio.Semaphore(16)

    async def bounded(subject: str) -> None:
        async with limit:
            await write_aggregate(subject)

    await asyncio.gather(*(bounded(s) for s in subjects))


async def _count(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text(sql))).scalar_one())


async def test_ten_thousand_events_arrive_once_each_in_order_with_two_relays(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    topic = await new_topic("outbox")
    source = f"test/{uuid.uuid4()}"
    _, engine = await _database(new_database)
    consumer_url = await new_database("effects")
    await upgrade_to_head(MIGRATIONS, consumer_url)
    consumer_engine = create_engine(consumer_url)

    producers = [kafka_producer(infra.kafka, f"relay-{i}") for i in range(2)]
    for producer in producers:
        await producer.start()
    relays = [
        asyncio.create_task(OutboxRelay(engine, p, service="test", batch_size=200).run_forever())
        for p in producers
    ]
    consumer = IdempotentConsumer(
        name="effects",
        service="test",
        topics=[topic],
        projector=RecordEffects(source),
        sessions=session_factory(consumer_engine),
        bootstrap_servers=infra.kafka,
        group_id=f"test-{uuid.uuid4()}",
        dlq_producer=producers[0],
    )
    await consumer.start()
    consuming = asyncio.create_task(consumer.run_forever())
    try:
        await _write_events(engine, topic, source, aggregates=500, per_aggregate=20)

        async def all_applied() -> bool:
            return await _count(consumer_engine, "SELECT count(*) FROM effects") >= 10_000

        await eventually(all_applied, timeout=180)
        await asyncio.sleep(1)  # let any duplicate delivery surface before counting
        async with consumer_engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT event_id, subject, sequence FROM effects ORDER BY applied_order")
                )
            ).all()
        assert len(rows) == 10_000
        assert len({row.event_id for row in rows}) == 10_000
        sequences: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            sequences[row.subject].append(row.sequence)
        assert len(sequences) == 500
        assert all(seqs == list(range(1, 21)) for seqs in sequences.values())
        assert await _count(engine, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
    finally:
        for task in [*relays, consuming]:
            task.cancel()
        await asyncio.gather(*relays, consuming, return_exceptions=True)
        await consumer.stop()
        for producer in producers:
            await producer.stop()
        await engine.dispose()
        await consumer_engine.dispose()


async def test_a_rolled_back_transaction_publishes_nothing(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    topic = await new_topic("rollback")
    _, engine = await _database(new_database)
    sessions = session_factory(engine)

    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await enqueue(
                session, verified("v-rolled-back"), source="t", subject="a", sequence=1, topic=topic
            )
            raise RuntimeError("the state change failed")
    async with sessions() as session, session.begin():
        await enqueue(
            session, verified("v-committed"), source="t", subject="b", sequence=1, topic=topic
        )

    producer = kafka_producer(infra.kafka, "relay")
    await producer.start()
    try:
        published = await OutboxRelay(engine, producer, service="test").publish_batch()
    finally:
        await producer.stop()
    assert published == 1
    values = await _read_all(infra.kafka, topic, expected=1)
    assert [decode(v).event.vendor_id for v in values] == ["v-committed"]  # type: ignore[attr-defined]
    await engine.dispose()


async def test_an_event_enqueued_along_the_callers_statement_is_written_by_it(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    topic = await new_topic("along")
    _, engine = await _database(new_database)
    sessions = session_factory(engine)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE things (id TEXT PRIMARY KEY)"))
    # the caller's change and the outbox row in one statement: one round trip
    along = DriverStatement(
        text(f"WITH queued AS ({ENQUEUE_SQL}) INSERT INTO things (id) VALUES (:id)")
    )
    exporter = recorded_spans()
    with tracer("tests").start_as_current_span("change") as change:
        async with sessions() as session, session.begin():
            await enqueue(
                session,
                verified("v-along"),
                source="t",
                subject="a",
                sequence=1,
                topic=topic,
                along=(along, {"id": "thing-1"}),
            )
    statements = [
        span.attributes["db.statement"]
        for span in exporter.get_finished_spans()
        if span.parent is not None
        and span.parent.span_id == change.get_span_context().span_id
        and span.attributes is not None
    ]
    assert statements == [along.sql]
    assert await _count(engine, "SELECT count(*) FROM things WHERE id = 'thing-1'") == 1
    producer = kafka_producer(infra.kafka, "relay")
    await producer.start()
    try:
        assert await OutboxRelay(engine, producer, service="test").publish_batch() == 1
    finally:
        await producer.stop()
    values = await _read_all(infra.kafka, topic, expected=1)
    assert [decode(v).event.vendor_id for v in values] == ["v-along"]  # type: ignore[attr-defined]
    await engine.dispose()


async def test_a_commit_wakes_the_idle_relay_without_waiting_for_its_poll(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    topic = await new_topic("wakeup")
    _, engine = await _database(new_database)
    sessions = session_factory(engine)
    producer = kafka_producer(infra.kafka, "relay")
    await producer.start()
    # a poll a minute apart: only the writing transaction's notification can bring the events
    # out within the test's timeouts
    relay = OutboxRelay(engine, producer, service="test", idle_poll_seconds=60)
    relaying = asyncio.create_task(relay.run_forever())
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=infra.kafka, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        await asyncio.sleep(1)  # the relay found nothing and idles
        for vendor_id in ("v-first", "v-second"):
            async with sessions() as session, session.begin():
                await enqueue(
                    session,
                    verified(vendor_id),
                    source="t",
                    subject=vendor_id,
                    sequence=1,
                    topic=topic,
                )
            record = await asyncio.wait_for(consumer.getone(), timeout=20)
            assert decode(record.value).event.vendor_id == vendor_id  # type: ignore[attr-defined]
            await asyncio.sleep(0.5)  # idle again before the next commit
    finally:
        relaying.cancel()
        await asyncio.gather(relaying, return_exceptions=True)
        await consumer.stop()
        await producer.stop()
        await engine.dispose()


async def _read_all(kafka: str, topic: str, *, expected: int, timeout: float = 30) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            values += [r.value for records in batch.values() for r in records]
            if len(values) >= expected and not batch:
                break
    finally:
        await consumer.stop()
    return values


def _spawn_relay(database_url: str, kafka: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "etalase_platform.cli",
            "relay",
            "--database-url",
            database_url,
            "--kafka",
            kafka,
            "--batch-size",
            "100",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )


async def test_a_relay_killed_mid_publish_loses_nothing(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    topic = await new_topic("relaykill")
    source = f"test/{uuid.uuid4()}"
    url, engine = await _database(new_database)
    await _write_events(engine, topic, source, aggregates=200, per_aggregate=25)

    relay = _spawn_relay(url, infra.kafka)

    async def some_published() -> bool:
        return (
            await _count(engine, "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL") > 0
        )

    await eventually(some_published, interval=0.01)
    relay.send_signal(signal.SIGKILL)
    relay.wait()
    unpublished = await _count(engine, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
    assert unpublished > 0, "the relay finished before it was killed; nothing was proven"

    relay = _spawn_relay(url, infra.kafka)
    try:

        async def none_left() -> bool:
            return (
                await _count(engine, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
            )

        await eventually(none_left, timeout=120)
    finally:
        relay.kill()
        relay.wait()
    values = await _read_all(infra.kafka, topic, expected=5000)
    ids = {decode(v).envelope.id for v in values}
    assert len(ids) == 5000
    await engine.dispose()


async def test_old_published_rows_are_purged_and_unpublished_ones_never(
    new_database: DatabaseFactory,
) -> None:
    from etalase_platform.outbox import purge_published

    _, engine = await _database(new_database)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        for subject in ("old", "recent", "pending"):
            await enqueue(session, verified(subject), source="t", subject=subject, sequence=1)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE outbox SET published_at = now() - interval '2 days'"
                " WHERE message_key = 'old'"
            )
        )
        await connection.execute(
            text("UPDATE outbox SET published_at = now() WHERE message_key = 'recent'")
        )
    assert await purge_published(engine, hours=24) == 1
    async with engine.connect() as connection:
        keys = {row[0] for row in await connection.execute(text("SELECT message_key FROM outbox"))}
    assert keys == {"recent", "pending"}
    await engine.dispose()
