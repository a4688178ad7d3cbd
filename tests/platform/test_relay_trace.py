"""The relay's publish in the writing request's trace (ops.md), read off the records themselves:
the relay writes the producer span's `traceparent` itself, so the header is checked here against
the span, not only through a consumer."""

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from etalase_platform.db import create_engine, session_factory, upgrade_to_head
from etalase_platform.outbox import OutboxRelay, enqueue, kafka_producer
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

from tests.helpers import DatabaseFactory, Infra, TopicFactory
from tests.platform.support import MIGRATIONS, recorded_spans, verified

pytestmark = pytest.mark.infra

SAMPLED = SpanContext(
    0x4BF92F3577B34DA6A3CE929D0E0E4736,
    0x00F067AA0BA902B7,
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
    trace_state=TraceState([("vendor", "a1"), ("etalase", "relay")]),
)
NOT_SAMPLED = SpanContext(
    0x0AF7651916CD43DD8448EB211C80319C,
    0xB7AD6B7169203331,
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.DEFAULT),
)


async def _relay(
    infra: Infra, new_database: DatabaseFactory, topic: str, parents: dict[str, SpanContext | None]
) -> dict[str, ConsumerRecord[bytes, bytes]]:
    """Each subject's row written under its parent span (None: outside any trace), relayed;
    the records read back by key."""
    url = await new_database("relay-trace")
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(url)
    producer = kafka_producer(infra.kafka, "relay-trace")
    await producer.start()
    try:
        for subject, parent in parents.items():
            span = NonRecordingSpan(parent) if parent else trace.INVALID_SPAN
            with trace.use_span(span):
                async with session_factory(engine)() as session, session.begin():
                    await enqueue(
                        session, verified(subject), source="t", subject=subject, sequence=1,
                        topic=topic,
                    )  # fmt: skip
        assert await OutboxRelay(engine, producer, service="test").publish_batch() == len(parents)
    finally:
        await producer.stop()
        await engine.dispose()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=infra.kafka, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    records: dict[str, ConsumerRecord[bytes, bytes]] = {}
    try:
        while len(records) < len(parents):
            polled = await consumer.getmany(timeout_ms=20_000)
            assert polled, "the relayed records did not arrive"
            for batch in polled.values():
                records.update({(r.key or b"").decode(): r for r in batch})
    finally:
        await consumer.stop()
    return records


async def test_a_sampled_rows_record_carries_its_publish_span_child_of_the_row_span(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    exporter = recorded_spans()
    topic = await new_topic("relay-trace", partitions=1)
    sampled, unsampled, untraced = (str(uuid.uuid4()) for _ in range(3))

    records = await _relay(
        infra, new_database, topic, {sampled: SAMPLED, unsampled: NOT_SAMPLED, untraced: None}
    )

    publishes = [s for s in exporter.get_finished_spans() if s.name == f"{topic} publish"]
    assert len(publishes) == 1, "only the row of a sampled trace gets a publish span"
    (publish,) = publishes
    assert publish.kind == trace.SpanKind.PRODUCER
    assert publish.parent is not None and publish.parent.span_id == SAMPLED.span_id
    assert publish.context.trace_id == SAMPLED.trace_id
    assert publish.attributes is not None
    assert publish.attributes["messaging.kafka.message.key"] == sampled
    assert publish.attributes["messaging.destination.name"] == topic
    # exported as the SDK's own spans are: the service's resource, the relay's scope, real times
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    assert publish.resource is provider.resource
    assert publish.instrumentation_scope is not None
    assert publish.instrumentation_scope.name == "etalase.outbox"
    assert publish.start_time is not None and publish.end_time is not None
    assert 0 < publish.start_time <= publish.end_time
    assert publish.context.span_id != SAMPLED.span_id and publish.context.trace_flags.sampled
    headers = dict(records[sampled].headers)
    assert headers["traceparent"].decode() == (
        f"00-{SAMPLED.trace_id:032x}-{publish.context.span_id:016x}-{publish.context.trace_flags:02x}"
    )
    assert headers["tracestate"] == b"vendor=a1,etalase=relay"

    # outside a sampled trace the record carries what the row stored, and no span is made
    headers = dict(records[unsampled].headers)
    assert headers["traceparent"] == (
        f"00-{NOT_SAMPLED.trace_id:032x}-{NOT_SAMPLED.span_id:016x}-00".encode()
    )
    headers = dict(records[untraced].headers)
    assert "traceparent" not in headers and "tracestate" not in headers
    assert headers["event-type"] == b"VendorVerified.v1"
