"""The idempotent consumer against real Kafka and PostgreSQL."""

import asyncio
import json
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cloudevents.core.bindings import kafka
from cloudevents.core.bindings.kafka import KafkaMessage
from etalase_events.codec import CONTENT_TYPE, encode
from etalase_events.envelope import new_envelope
from etalase_platform.consumer import Delivery, IdempotentConsumer
from etalase_platform.db import create_engine, session_factory, upgrade_to_head
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.helpers import DatabaseFactory, Infra, TopicFactory, eventually
from tests.platform.support import MIGRATIONS, RecordEffects, verified

CE_JSON = CONTENT_TYPE.encode()

pytestmark = pytest.mark.infra


async def _produce(
    kafka: str, topic: str, records: Sequence[tuple[bytes, bytes, list[tuple[str, bytes]]]]
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", linger_ms=5)
    await producer.start()
    try:
        sends = [await producer.send(topic, value=v, key=k, headers=h) for k, v, h in records]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


def _valid(
    source: str, subject: str, sequence: int = 1
) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    record = encode(
        new_envelope(verified(subject), source=source, subject=subject, sequence=sequence)
    )
    return record.key, record.value, record.headers


async def _effects(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT event_id FROM effects ORDER BY applied_order"))
        return [row[0] for row in rows]


class _Running:
    def __init__(self, consumer: IdempotentConsumer) -> None:
        self.consumer = consumer
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> IdempotentConsumer:
        await self.consumer.start()
        self.task = asyncio.create_task(self.consumer.run_forever())
        return self.consumer

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.consumer.stop()


async def _stored_offset(engine: AsyncEngine) -> int | None:
    """The consumer's next offset of its one partition."""
    async with engine.connect() as connection:
        stored = await connection.scalar(
            text("SELECT next_offset FROM consumer_offsets WHERE consumer = 'effects'")
        )
    return None if stored is None else int(stored)


async def _consumer(
    infra: Infra,
    new_database: DatabaseFactory,
    topic: str,
    projector: object,
    dlq: Callable[[AIOKafkaProducer], object] = lambda producer: producer,
    inbox: bool = True,
) -> tuple[IdempotentConsumer, AsyncEngine, AIOKafkaProducer]:
    url = await new_database("consumer")
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(url)
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka, acks="all")
    await producer.start()
    consumer = IdempotentConsumer(
        name="effects",
        service="test",
        topics=[topic],
        projector=projector,  # type: ignore[arg-type]
        sessions=session_factory(engine),
        bootstrap_servers=infra.kafka,
        group_id=f"test-{uuid.uuid4()}",
        dlq_producer=dlq(producer),
        batch_size=50,
        inbox=inbox,
    )
    return consumer, engine, producer


async def test_poison_records_go_to_the_dlq_and_valid_ones_around_them_are_applied(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    topic = await new_topic("poison", partitions=1)
    source = f"test/{uuid.uuid4()}"
    unknown = json.loads(_valid(source, "x")[1])
    unknown["type"] = "VendorTeleported.v1"
    missing = json.loads(_valid(source, "y")[1])
    del missing["data"]["verified_at"]
    old_style = [("content-type", CE_JSON), ("ce_type", b"VendorVerified.v1")]  # before no-ce_*
    records = [
        _valid(source, "a"),
        (b"p1", b"this is not json", []),
        _valid(source, "b"),
        (b"p2", json.dumps(unknown).encode(), [("event-type", b"VendorTeleported.v1")]),
        (*_valid(source, "c")[:2], old_style),  # still applied: the value decides
        (b"p3", json.dumps(missing).encode(), old_style),
        _valid(source, "d"),
    ]
    duplicate = records[0]
    await _produce(infra.kafka, topic, [*records, duplicate])

    consumer, engine, producer = await _consumer(infra, new_database, topic, RecordEffects(source))
    async with _Running(consumer):

        async def four_applied() -> bool:
            return len(await _effects(engine)) >= 4

        await eventually(four_applied)
        dead = await _read(infra.kafka, topic + ".dlq", expected=3)
    assert len(await _effects(engine)) == 4  # the duplicate of the first was skipped

    reasons = {d.key: dict(d.headers) for d in dead}
    assert set(reasons) == {b"p1", b"p2", b"p3"}
    assert reasons[b"p1"]["dlq_reason"].startswith(b"MalformedRecord")
    assert reasons[b"p2"]["dlq_reason"].startswith(b"UnknownEventType")
    assert reasons[b"p3"]["dlq_reason"].startswith(b"InvalidEventData")
    assert b"verified_at" in reasons[b"p3"]["dlq_reason"]
    assert reasons[b"p2"]["dlq_original_offset"] == b"3"
    assert reasons[b"p2"]["dlq_original_topic"] == topic.encode()
    assert reasons[b"p2"]["dlq_original_partition"] == b"0"
    assert reasons[b"p2"]["dlq_consumer"] == b"effects"
    assert reasons[b"p2"]["event-type"] == b"VendorTeleported.v1"  # the original's headers stay
    # ... less the old `ce_type`: the dead letter parses with the CloudEvents SDK
    assert not [name for name in reasons[b"p3"] if name.startswith("ce_")]
    (p3,) = [d for d in dead if d.key == b"p3"]
    message = KafkaMessage(dict(p3.headers), p3.key, p3.value)
    assert kafka.from_kafka_event(message).get_source() == source
    await producer.stop()
    await engine.dispose()


async def test_without_an_inbox_a_republished_event_is_applied_again_and_none_is_recorded(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    """For a projector idempotent by construction: the inbox is skipped, so the projector sees
    an event published twice (RecordEffects is not idempotent, which makes that visible)."""
    topic = await new_topic("no-inbox", partitions=1)
    source = f"test/{uuid.uuid4()}"
    first = _valid(source, "a")
    await _produce(infra.kafka, topic, [first, _valid(source, "b"), first])

    consumer, engine, producer = await _consumer(
        infra, new_database, topic, RecordEffects(source), inbox=False
    )
    async with _Running(consumer):

        async def all_applied() -> bool:
            return len(await _effects(engine)) >= 3

        await eventually(all_applied)
    effects = await _effects(engine)
    assert len(effects) == 3 and effects[0] == effects[2]
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM inbox")) == 0
    assert await _stored_offset(engine) == 3  # still stored in the batch's transaction
    await producer.stop()
    await engine.dispose()


@pytest.mark.parametrize("inbox", [False, True])
async def test_a_topic_recreated_under_stored_offsets_is_read_from_its_start(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory, inbox: bool
) -> None:
    """The database kept offsets of an earlier log of the topic, far beyond the new log's end
    (a new cluster, or the topics deleted and made again): the new log is applied all the same,
    and its offsets are stored from its start."""
    topic = await new_topic("recreated", partitions=1)
    source = f"test/{uuid.uuid4()}"
    await _produce(infra.kafka, topic, [_valid(source, name) for name in "abc"])
    consumer, engine, producer = await _consumer(
        infra, new_database, topic, RecordEffects(source), inbox=inbox
    )
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO consumer_offsets (consumer, topic, partition, next_offset)"
                " VALUES ('effects', :topic, 0, 275)"
            ),
            {"topic": topic},
        )
    async with _Running(consumer):

        async def all_applied_and_stored() -> bool:
            # a first batch may be fetched while the assignment is still being handled, and
            # its transaction commit before the restart to 0: the records are then read again
            # (the inbox or the offsets drop them) and the offset is stored once more
            return len(await _effects(engine)) == 3 and await _stored_offset(engine) == 3

        await eventually(all_applied_and_stored)
    await producer.stop()
    await engine.dispose()


class _FlakyDatabase(RecordEffects):
    """Fails the first attempts as a database connection loss would."""

    def __init__(self, source: str, failures: int) -> None:
        super().__init__(source)
        self.failures = failures

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionResetError("connection to the database was lost")
        await super().apply(session, deliveries)


async def test_a_transient_failure_is_retried_and_never_skipped(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    topic = await new_topic("transient", partitions=1)
    source = f"test/{uuid.uuid4()}"
    await _produce(infra.kafka, topic, [_valid(source, f"s{i}") for i in range(10)])
    projector = _FlakyDatabase(source, failures=3)
    consumer, engine, producer = await _consumer(infra, new_database, topic, projector)
    async with _Running(consumer):

        async def all_applied() -> bool:
            return len(await _effects(engine)) >= 10

        await eventually(all_applied)
    assert projector.failures == 0
    assert len(set(await _effects(engine))) == 10
    assert await _read(infra.kafka, topic + ".dlq", expected=0, timeout=2) == []
    await producer.stop()
    await engine.dispose()


async def test_a_consumer_killed_mid_batch_applies_every_effect_exactly_once(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    topic = await new_topic("consumerkill")
    source = f"test/{uuid.uuid4()}"
    total = 3000
    await _produce(
        infra.kafka, topic, [_valid(source, f"agg-{i % 300}", i // 300 + 1) for i in range(total)]
    )
    url = await new_database("killed")
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(url)
    group = f"test-{uuid.uuid4()}"

    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.platform.consumer_process",
                url,
                infra.kafka,
                topic,
                group,
                source,
                "0.2",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    process = spawn()

    async def started() -> bool:
        return len(await _effects(engine)) > 0

    await eventually(started)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert len(await _effects(engine)) < total, "finished before the kill; nothing was proven"

    process = spawn()
    try:

        async def all_applied() -> bool:
            return len(await _effects(engine)) >= total

        await eventually(all_applied, timeout=120)
        await asyncio.sleep(2)  # a double application would show up by now
    finally:
        process.kill()
        process.wait()
    effects = await _effects(engine)
    assert len(effects) == total
    assert len(set(effects)) == total
    await engine.dispose()


async def _read(kafka: str, topic: str, *, expected: int, timeout: float = 30) -> list:  # type: ignore[type-arg]
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    records: list = []  # type: ignore[type-arg]
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline and len(records) < max(expected, 1):
            batch = await consumer.getmany(timeout_ms=300)
            records += [r for rs in batch.values() for r in rs]
    finally:
        await consumer.stop()
    return records


class _RejectsOne(RecordEffects):
    """A projector that can never apply one particular event."""

    def __init__(self, source: str, bad_subject: str) -> None:
        super().__init__(source)
        self.bad_subject = bad_subject
        self.attempts = 0

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        self.attempts += 1
        if any(d.decoded.envelope.subject == self.bad_subject for d in deliveries):
            raise ValueError(f"cannot apply {self.bad_subject}")
        await super().apply(session, deliveries)


async def test_an_event_the_projector_rejects_is_dead_lettered_and_the_rest_applied(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    topic = await new_topic("rejected", partitions=1)
    source = f"test/{uuid.uuid4()}"
    await _produce(infra.kafka, topic, [_valid(source, f"s{i}") for i in range(40)])
    projector = _RejectsOne(source, "s17")
    consumer, engine, producer = await _consumer(infra, new_database, topic, projector)
    async with _Running(consumer):

        async def others_applied() -> bool:
            return len(await _effects(engine)) >= 39

        await eventually(others_applied)
        dead = await _read(infra.kafka, topic + ".dlq", expected=1)
    assert len(await _effects(engine)) == 39
    assert [dict(d.headers)["dlq_reason"] for d in dead] == [b"ValueError: cannot apply s17"]
    assert projector.attempts < 40  # bisected, not retried record by record
    await producer.stop()
    await engine.dispose()


class _DeadLettersLater:
    """A DLQ producer that is unreachable at first (not a failure the consumer retries in
    place): the whole batch fails and must be read again."""

    def __init__(self, producer: AIOKafkaProducer, failures: int) -> None:
        self._producer = producer
        self.failures = failures

    async def send(self, *args: object, **kwargs: object) -> "asyncio.Future[object]":
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("DLQ unavailable")
        return await self._producer.send(*args, **kwargs)  # type: ignore[no-any-return]


async def test_a_failed_batch_is_read_again_before_the_batches_fetched_after_it(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    """The consumer fetches the next batch while applying the current one; when the current one
    fails, the next must not be applied ahead of it (nor skipped)."""
    topic = await new_topic("rewind", partitions=1)
    source = f"test/{uuid.uuid4()}"
    valid = [_valid(source, f"s{i:03d}") for i in range(300)]
    await _produce(infra.kafka, topic, [*valid[:20], (b"bad", b"not json", []), *valid[20:]])
    failing: list[_DeadLettersLater] = []

    def dead_letters_later(producer: AIOKafkaProducer) -> _DeadLettersLater:
        failing.append(_DeadLettersLater(producer, failures=2))
        return failing[0]

    consumer, engine, producer = await _consumer(
        infra, new_database, topic, RecordEffects(source), dead_letters_later
    )
    async with _Running(consumer):

        async def all_applied() -> bool:
            return len(await _effects(engine)) >= 300

        await eventually(all_applied, timeout=60)
        dead = await _read(infra.kafka, topic + ".dlq", expected=1)
    assert failing[0].failures == 0
    async with engine.connect() as connection:
        subjects = (
            (await connection.execute(text("SELECT subject FROM effects ORDER BY applied_order")))
            .scalars()
            .all()
        )
    assert subjects == [f"s{i:03d}" for i in range(300)]  # each once, in log order
    assert [d.key for d in dead] == [b"bad"]
    await producer.stop()
    await engine.dispose()
