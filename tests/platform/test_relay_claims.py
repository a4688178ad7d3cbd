"""What the relay claims per round trip: each bucket offers a share of the batch, yet one busy
aggregate's backlog still goes out in whole batches, in order."""

import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from etalase_events.codec import decode
from etalase_platform.db import create_engine
from etalase_platform.outbox import OutboxRelay, kafka_producer

from tests.helpers import DatabaseFactory, Infra, TopicFactory
from tests.platform.support import enqueue_verified, outbox_database, relay_all

pytestmark = pytest.mark.infra


async def test_one_aggregates_backlog_goes_out_in_whole_batches_in_order(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    topic = await new_topic("relay-claims", partitions=1)
    url = await outbox_database(new_database, "relay-claims")
    engine = create_engine(url)
    subject = str(uuid.uuid4())
    await enqueue_verified(engine, [(subject, n) for n in range(1, 301)], topic)
    producer = kafka_producer(infra.kafka, "relay-claims")
    await producer.start()
    try:
        relay = OutboxRelay(
            engine, producer, service="test", batch_size=100, batches_per_transaction=3
        )
        rounds = await relay_all(relay, 300)
    finally:
        await producer.stop()
        await engine.dispose()
    # all 300 rows are in one of 32 buckets, whose share of a 100-row batch is 8: the claims
    # after the first still take whole batches from it
    assert len(rounds) <= 2, rounds
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=infra.kafka, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    sequences: list[int] = []
    try:
        while len(sequences) < 300:
            polled = await consumer.getmany(timeout_ms=20_000)
            assert polled, "the relayed records did not arrive"
            sequences += [decode(r.value).envelope.sequence for b in polled.values() for r in b]
    finally:
        await consumer.stop()
    assert sequences == list(range(1, 301))
