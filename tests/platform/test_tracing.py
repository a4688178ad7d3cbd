"""Trace context travels from the writing request, through the outbox and Kafka, to consumers."""

import asyncio
import uuid

import pytest
from etalase_platform.consumer import IdempotentConsumer
from etalase_platform.db import create_engine, session_factory, upgrade_to_head
from etalase_platform.outbox import OutboxRelay, enqueue, kafka_producer
from etalase_platform.telemetry import tracer
from opentelemetry import trace

from tests.helpers import DatabaseFactory, Infra, TopicFactory, eventually
from tests.platform.support import MIGRATIONS, RecordEffects, recorded_spans, verified

pytestmark = pytest.mark.infra


async def test_the_consumer_span_continues_the_request_trace(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    exporter = recorded_spans()

    topic = await new_topic("trace", partitions=1)
    source = f"test/{uuid.uuid4()}"
    url = await new_database("trace")
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(url)
    with tracer("tests").start_as_current_span("POST /things") as request_span:
        async with session_factory(engine)() as session, session.begin():
            await enqueue(
                session, verified("v"), source=source, subject="s", sequence=1, topic=topic
            )
    producer = kafka_producer(infra.kafka, "trace")
    await producer.start()
    assert await OutboxRelay(engine, producer, service="test").publish_batch() == 1
    consumer = IdempotentConsumer(
        name="effects",
        service="test",
        topics=[topic],
        projector=RecordEffects(source),
        sessions=session_factory(engine),
        bootstrap_servers=infra.kafka,
        group_id=f"test-{uuid.uuid4()}",
        dlq_producer=producer,
    )
    await consumer.start()
    task = asyncio.create_task(consumer.run_forever())

    def spans_named(name: str) -> list:  # type: ignore[type-arg]
        return [s for s in exporter.get_finished_spans() if s.name == name]

    async def consumed() -> bool:
        return bool(spans_named(f"{topic} process"))

    try:
        await eventually(consumed)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()
        await producer.stop()
        await engine.dispose()

    (publish,) = spans_named(f"{topic} publish")
    (process,) = spans_named(f"{topic} process")
    trace_id = request_span.get_span_context().trace_id
    # ops.md: the relay's publish is a span of the request's trace, the consumer's its child
    assert publish.context.trace_id == process.context.trace_id == trace_id
    assert publish.parent.span_id == request_span.get_span_context().span_id
    assert process.parent.span_id == publish.context.span_id
    assert publish.kind == trace.SpanKind.PRODUCER and process.kind == trace.SpanKind.CONSUMER
    assert process.attributes["messaging.system"] == "kafka"
    assert process.attributes["messaging.destination.name"] == topic
