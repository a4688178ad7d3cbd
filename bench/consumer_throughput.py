"""Idempotent-consumer throughput next to a raw aiokafka consume of the same topic.

    uv run python -m bench.consumer_throughput --events 200000

Needs KAFKA_BOOTSTRAP_SERVERS and ETALASE_POSTGRES_URL (``source .run/env``).
"""

import argparse
import asyncio
import os
import time
import uuid

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from etalase_events.codec import encode
from etalase_events.envelope import new_envelope
from etalase_platform.consumer import IdempotentConsumer
from etalase_platform.db import create_engine, database_url, session_factory, upgrade_to_head
from sqlalchemy import text

from tests.platform.support import MIGRATIONS, RecordEffects, verified


async def _prepare(kafka: str, events: int, source: str) -> str:
    topic = f"bench.consumer.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    await admin.create_topics([NewTopic(t, 6, 1) for t in (topic, topic + ".dlq")])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", linger_ms=10)
    await producer.start()
    pending = []
    for i in range(events):
        subject = f"agg-{i % 5000}"
        record = encode(
            new_envelope(verified(subject), source=source, subject=subject, sequence=i // 5000 + 1)
        )
        pending.append(await producer.send(topic, record.value, record.key, headers=record.headers))
        if len(pending) >= 5000:
            await asyncio.gather(*pending)
            pending.clear()
    await asyncio.gather(*pending)
    await producer.stop()
    return topic


async def _raw_consume(kafka: str, topic: str, events: int) -> float:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        group_id=None,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 << 20,
    )
    await consumer.start()
    seen, started = 0, time.perf_counter()
    while seen < events:
        batch = await consumer.getmany(timeout_ms=500, max_records=500)
        seen += sum(len(r) for r in batch.values())
    elapsed = time.perf_counter() - started
    await consumer.stop()
    return events / elapsed


async def _database(postgres: str) -> str:
    name = f"bench_consumer_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(postgres)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    return database_url(postgres, name, driver="asyncpg")


async def _idempotent_consume(
    kafka: str, postgres: str, topic: str, source: str, events: int
) -> float:
    url = await _database(postgres)
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(url)
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    consumer = IdempotentConsumer(
        name="bench",
        service="bench",
        topics=[topic],
        projector=RecordEffects(source),
        sessions=session_factory(engine),
        bootstrap_servers=kafka,
        group_id=f"bench-{uuid.uuid4()}",
        dlq_producer=producer,
        batch_size=500,
    )
    await consumer.start()
    started = time.perf_counter()
    task = asyncio.create_task(consumer.run_forever())
    while True:
        await asyncio.sleep(0.2)
        async with engine.connect() as connection:
            done = (await connection.execute(text("SELECT count(*) FROM effects"))).scalar_one()
        if done >= events:
            break
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await consumer.stop()
    await producer.stop()
    await engine.dispose()
    return events / elapsed


async def main(events: int) -> None:
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")
    postgres = os.environ["ETALASE_POSTGRES_URL"]
    source = f"bench/{uuid.uuid4()}"
    topic = await _prepare(kafka, events, source)
    raw = await _raw_consume(kafka, topic, events)
    idempotent = await _idempotent_consume(kafka, postgres, topic, source, events)
    print(f"events: {events}")
    print(f"raw aiokafka consume:        {raw:10.0f} events/s")
    print(
        f"idempotent consumer (batch): {idempotent:10.0f} events/s  ({idempotent / raw:.2f} of raw)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    asyncio.run(main(parser.parse_args().events))
