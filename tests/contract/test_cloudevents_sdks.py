"""Every event type, published through the outbox relay onto a real topic and read back, parses
unchanged with the CloudEvents SDKs' Kafka bindings: Python (`cloudevents` on PyPI) and
JavaScript (`cloudevents` on npm, run by tools/node/parse-cloudevents.mjs)."""

import json
import shutil
import subprocess
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from cloudevents.core.bindings import kafka
from cloudevents.core.bindings.kafka import KafkaMessage
from etalase_events.envelope import CloudEvent
from etalase_events.samples import SAMPLES, SUBJECTS
from etalase_events.schemas import ASYNCAPI_FILE, ROOT, SCHEMA_DIR
from etalase_platform.db import create_engine, session_factory, upgrade_to_head
from etalase_platform.outbox import OutboxRelay, enqueue, kafka_producer
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

from tests.helpers import DatabaseFactory, Infra, TopicFactory
from tests.platform.support import MIGRATIONS, relay_all

pytestmark = pytest.mark.infra

NODE_TOOLS = Path(__file__).resolve().parents[2] / "tools" / "node"
TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
REQUEST = SpanContext(
    TRACE_ID,
    0x00F067AA0BA902B7,
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
    trace_state=TraceState([("etalase", "contract")]),
)
HEADERS = {"content-type", "event-type", "traceparent", "tracestate"}

Record: TypeAlias = ConsumerRecord[bytes, bytes]


@pytest.fixture(scope="module")
async def published(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> list[tuple[CloudEvent, Record]]:
    """One event of every type written to the outbox inside a request's trace, relayed to a
    fresh topic and consumed back: each enqueued envelope with the record it became."""
    topic = await new_topic("contract", partitions=3)
    source = f"etalase/contract-{uuid.uuid4().hex[:8]}"
    url = await new_database("contract")
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(url)
    envelopes = []
    with trace.use_span(NonRecordingSpan(REQUEST)):
        async with session_factory(engine)() as session, session.begin():
            for sequence, (event_type, event) in enumerate(sorted(SAMPLES.items()), start=1):
                envelopes.append(
                    await enqueue(
                        session,
                        event,
                        source=source,
                        subject=SUBJECTS[event_type],
                        sequence=sequence,
                        topic=topic,
                    )
                )
    producer = kafka_producer(infra.kafka, "contract")
    await producer.start()
    try:
        await relay_all(OutboxRelay(engine, producer, service="contract"), len(envelopes))
    finally:
        await producer.stop()
        await engine.dispose()
    records = await _read(infra.kafka, topic, len(envelopes))
    by_id = {json.loads(record.value)["id"]: record for record in records}
    return [(envelope, by_id[envelope.id]) for envelope in envelopes]


async def _read(bootstrap: str, topic: str, expected: int) -> list[Record]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"contract-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[Record] = []
    try:
        for _ in range(300):
            polled = await consumer.getmany(timeout_ms=200)
            records += [record for batch in polled.values() for record in batch]
            if len(records) >= expected:
                break
    finally:
        await consumer.stop()
    assert len(records) == expected
    return records


def test_every_event_type_is_on_the_topic_with_the_contract_headers_only(
    published: list[tuple[CloudEvent, Record]],
) -> None:
    assert {envelope.type for envelope, _ in published} == set(SAMPLES)
    for envelope, record in published:
        headers = dict(record.headers)
        # a `ce_*` header would make the CloudEvents bindings read the record as binary mode
        assert [name for name in headers if name.lower().startswith("ce_")] == []
        assert set(headers) == HEADERS, envelope.type
        assert headers["content-type"] == b"application/cloudevents+json"
        assert headers["event-type"] == envelope.type.encode()
        assert headers["traceparent"].split(b"-")[1] == f"{TRACE_ID:032x}".encode()
        assert headers["tracestate"] == b"etalase=contract"
        assert record.key == envelope.subject.encode()


def test_every_record_matches_its_asyncapi_message_and_json_schema(
    published: list[tuple[CloudEvent, Record]],
) -> None:
    document = json.loads((ROOT / ASYNCAPI_FILE).read_text(encoding="utf-8"))
    for envelope, record in published:
        value = json.loads(record.value)
        headers = {name: value.decode() for name, value in record.headers}
        message = f"#/components/messages/{envelope.type}"
        # AsyncAPI 3.0 schemas are a superset of draft-07; the document is the root for its refs
        for part, instance in (("headers", headers), ("payload", value)):
            Draft7Validator({**document, "$ref": f"{message}/{part}"}).validate(instance)
        schema = json.loads((ROOT / SCHEMA_DIR / f"{envelope.type}.json").read_text())
        Draft202012Validator(schema, format_checker=FormatChecker()).validate(value)


def test_the_python_sdk_parses_every_record(published: list[tuple[CloudEvent, Record]]) -> None:
    for envelope, record in published:
        message = KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value)
        event = kafka.from_kafka_event(message)

        assert event.get_specversion() == "1.0"
        assert event.get_id() == envelope.id
        assert event.get_type() == envelope.type
        assert event.get_source() == envelope.source
        assert event.get_subject() == envelope.subject
        assert event.get_time() == envelope.time
        assert event.get_extension("sequence") == envelope.sequence
        assert event.get_datacontenttype() == "application/json"
        assert event.get_data() == envelope.data


def test_the_javascript_sdk_parses_every_record(
    published: list[tuple[CloudEvent, Record]],
) -> None:
    stdin = [
        {
            "headers": {name: value.decode() for name, value in record.headers},
            "key": record.key.decode(),
            "value": record.value.decode(),
        }
        for _, record in published
    ]
    results = _node("parse-cloudevents.mjs", json.dumps(stdin))

    assert len(results) == len(published)
    for (envelope, _), result in zip(published, results, strict=True):
        assert "error" not in result, (envelope.type, result)
        event = result["event"]
        assert event["specversion"] == "1.0"
        assert (event["id"], event["type"]) == (envelope.id, envelope.type)
        assert (event["source"], event["subject"]) == (envelope.source, envelope.subject)
        assert event["partitionkey"] == envelope.subject  # the binding's view of the record key
        assert event["sequence"] == envelope.sequence
        # the JS SDK keeps times to the millisecond (a JavaScript Date)
        parsed = datetime.fromisoformat(event["time"])
        assert abs((parsed - envelope.time).total_seconds()) < 0.001
        assert event["data"] == envelope.data


def _node(script: str, stdin: str) -> Any:
    node = shutil.which("node")
    assert node, "node is not installed (bash deploy/tools.sh)"
    assert (NODE_TOOLS / "node_modules" / "cloudevents").is_dir(), "run bash deploy/tools.sh"
    done = subprocess.run(
        [node, str(NODE_TOOLS / script)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
