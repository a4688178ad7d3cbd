"""The relay hands Kafka whole record batches, one per partition, instead of a `send` per record:
each record still lands on the partition `send` would choose for its key, and a partition's
records that fill more than one batch still arrive all, in order."""

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from etalase_events.codec import decode
from etalase_platform.db import create_engine
from etalase_platform.outbox import MAX_BATCH_BYTES, OutboxRelay, kafka_producer

from tests.helpers import DatabaseFactory, Infra, TopicFactory
from tests.platform.support import enqueue_verified, outbox_database, relay_all

pytestmark = pytest.mark.infra


async def _relay_all(
    infra: Infra, url: str, events: list[tuple[str, int]], topic: str, batch_size: int
) -> None:
    """Writes the (subject, sequence) events to the outbox and relays every one of them."""
    engine = create_engine(url)
    await enqueue_verified(engine, events, topic)
    producer = kafka_producer(infra.kafka, "relay-batches")
    await producer.start()
    try:
        await relay_all(
            OutboxRelay(engine, producer, service="test", batch_size=batch_size), len(events)
        )
    finally:
        await producer.stop()
        await engine.dispose()


async def _read(kafka: str, topic: str, expected: int) -> list[tuple[int, str, bytes]]:
    """(partition, key, value) of the topic's records, each partition in offset order."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    found: list[tuple[int, str, bytes]] = []
    try:
        while len(found) < expected:
            polled = await consumer.getmany(timeout_ms=20_000)
            assert polled, "the relayed records did not arrive"
            for records in polled.values():
                found += [(r.partition, r.key.decode(), r.value) for r in records if r.key]
    finally:
        await consumer.stop()
    assert len(found) == expected
    return found


async def test_each_record_lands_on_the_partition_send_would_choose_for_its_key(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    topic, probe = await new_topic("relay-batches"), await new_topic("relay-probe")
    url = await outbox_database(new_database, "relay-batches")
    subjects = [str(uuid.uuid4()) for _ in range(300)]
    await _relay_all(infra, url, [(s, 1) for s in subjects], topic, batch_size=500)

    # aiokafka's own default partitioner, not the one the relay shares with its producer
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka)
    await producer.start()
    try:
        by_send = {
            s: (await producer.send_and_wait(probe, value=b"{}", key=s.encode())).partition
            for s in subjects
        }
    finally:
        await producer.stop()
    by_relay = {key: partition for partition, key, _ in await _read(infra.kafka, topic, 300)}
    assert by_relay == by_send
    assert len(set(by_relay.values())) == 6  # the keys spread over every partition


async def test_a_partitions_records_beyond_one_kafka_batch_all_arrive_in_order(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    topic = await new_topic("relay-overflow", partitions=1)
    url = await outbox_database(new_database, "relay-overflow")
    subject = str(uuid.uuid4())
    await _relay_all(infra, url, [(subject, n) for n in range(1, 2001)], topic, batch_size=1000)

    found = await _read(infra.kafka, topic, 2000)
    # 1,000 of these records are more than one Kafka batch holds, and the relay's second claim
    # takes 1,000 rows of the one partition (its first, a bucket's share: 64)
    assert sum(len(value) for _, _, value in found[:1000]) > MAX_BATCH_BYTES
    assert [decode(value).envelope.sequence for _, _, value in found] == list(range(1, 2001))
