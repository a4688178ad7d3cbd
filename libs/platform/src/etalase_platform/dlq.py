"""Replaying dead letters: after the fix that lets a consumer apply them, each record of
`<topic>.dlq` is published again to the topic it came from (`dlq_original_topic`), with its key,
value and headers less the `dlq_*` ones.

The republished record lands at the log end, where the consumer that dead-lettered it reads it.
Every other consumer of that topic sees it a second time and skips it: they keep an inbox of
applied event ids, or are idempotent by construction (see `IdempotentConsumer`).
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from etalase_platform.outbox import kafka_producer

DLQ_HEADER_PREFIX = "dlq_"


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    original_topic: str
    consumer: str
    reason: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    @classmethod
    def of(cls, record: ConsumerRecord[Any, Any]) -> "DeadLetter":
        headers = list(record.headers or ())
        dlq = {name: value.decode(errors="replace") for name, value in headers}
        if "dlq_original_topic" not in dlq:
            raise ValueError(
                f"{record.topic}[{record.partition}]@{record.offset} has no dlq_original_topic"
                " header: not a dead letter"
            )
        return cls(
            partition=record.partition,
            offset=record.offset,
            original_topic=dlq["dlq_original_topic"],
            consumer=dlq.get("dlq_consumer", ""),
            reason=dlq.get("dlq_reason", ""),
            key=record.key,
            value=record.value,
            headers=[(n, v) for n, v in headers if not n.startswith(DLQ_HEADER_PREFIX)],
        )


async def read_dead_letters(
    bootstrap_servers: str,
    topic: str,
    *,
    partition: int | None = None,
    offset: int | None = None,
    consumer: str | None = None,
    timeout: float = 60.0,
) -> list[DeadLetter]:
    """The dead letters now in `topic` (up to its end when called), optionally only one record
    (partition and offset) or those of one consumer."""
    partitions = await _partitions(bootstrap_servers, topic)
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None
    )
    await reader.start()
    try:
        wanted = [TopicPartition(topic, p) for p in sorted(partitions) if partition in (None, p)]
        reader.assign(wanted)
        ends = await reader.end_offsets(wanted)
        starts = await reader.beginning_offsets(wanted)
        pending = set()
        for tp in wanted:
            start = max(offset if offset is not None else starts[tp], starts[tp])
            if start < ends[tp]:
                reader.seek(tp, start)
                pending.add(tp)
        letters: list[DeadLetter] = []
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} took longer than {timeout:.0f}s")
            batches = await reader.getmany(*pending, timeout_ms=1000)
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        break
                    if offset is None or record.offset == offset:
                        letters.append(DeadLetter.of(record))
                if await reader.position(tp) >= ends[tp] or (
                    offset is not None and await reader.position(tp) > offset
                ):
                    pending.discard(tp)
    finally:
        await reader.stop()
    return [letter for letter in letters if consumer in (None, letter.consumer)]


async def _partitions(bootstrap_servers: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    found = [d for d in described if d["topic"] == topic and d["error_code"] == 0]
    if not found or not found[0]["partitions"]:
        raise ValueError(f"topic {topic} does not exist")
    return [int(p["partition"]) for p in found[0]["partitions"]]


async def replay(bootstrap_servers: str, letters: Sequence[DeadLetter]) -> None:
    """Publish each dead letter again to its original topic, acknowledged by the broker."""
    producer = kafka_producer(bootstrap_servers, "etalase-dlq-replay")
    await producer.start()
    try:
        for letter in letters:
            await producer.send_and_wait(
                letter.original_topic, value=letter.value, key=letter.key, headers=letter.headers
            )
    finally:
        await producer.stop()
