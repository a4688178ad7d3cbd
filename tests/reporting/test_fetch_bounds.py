"""Reporting's consumers fetch no more from Kafka at once than their settings allow: aiokafka
keeps each fetched response whole until it is consumed, so the bound is what a consumer can hold
ahead of its batches (its memory, twice over during a rebuild)."""

import asyncio

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from etalase_platform.consumer import Subscription
from etalase_platform.runtime import ServiceRuntime
from etalase_reporting.bootstrap import MIGRATIONS
from etalase_reporting.projection.registry import subscriptions
from etalase_reporting.settings import Settings

from tests.helpers import Infra, TopicFactory

pytestmark = pytest.mark.infra

RECORD = b"x" * 1024
RECORDS = 600
BOUND = 64 << 10


async def _produce(kafka: str, topic: str) -> None:
    # small producer batches: the broker's bound is soft by one record batch
    producer = AIOKafkaProducer(bootstrap_servers=kafka, max_batch_size=8 << 10, linger_ms=0)
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(topic, RECORD) for _ in range(RECORDS)])
    finally:
        await producer.stop()


async def test_a_consumer_fetches_at_most_the_configured_bytes(
    infra: Infra, new_topic: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = await new_topic("fetch-bound", partitions=1)
    await _produce(infra.kafka, topic)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", infra.kafka)
    monkeypatch.setenv("REPORTING_CONSUMER_FETCH_MAX_BYTES", str(BOUND))
    monkeypatch.setenv("REPORTING_CONSUMER_MAX_PARTITION_FETCH_BYTES", str(BOUND))
    runtime = ServiceRuntime(Settings(), MIGRATIONS)
    runtime.producer = AIOKafkaProducer(bootstrap_servers=infra.kafka)  # dead letters: unused
    _, live = subscriptions(1, "g1")[0]
    consumer = runtime.consumer(
        Subscription(live.name, (topic,), live.projector, live.inbox), group_id=topic
    )
    tp = TopicPartition(topic, 0)
    await consumer.kafka.start()
    try:
        consumer.kafka.assign([tp])
        await consumer.kafka.seek_to_beginning(tp)
        fetched = await consumer.kafka.getmany(tp, timeout_ms=10_000, max_records=RECORDS)
    finally:
        await consumer.kafka.stop()
        await runtime.engine.dispose()
    size = sum(len(record.value or b"") for record in fetched[tp])
    assert 0 < size <= BOUND + (8 << 10), f"one fetch brought {size} bytes"
