"""Transactional outbox: events are rows written in the same transaction as the state change.

`enqueue` adds the row; `OutboxRelay` publishes rows to Kafka. Guarantees:
- nothing is published unless its transaction committed (a rolled-back transaction leaves no row);
- a row is marked published only after Kafka acknowledged it (acks=all), so a crash can duplicate
  an event but never lose one;
- events of one aggregate are published in order even with several relays running: rows are
  spread over `BUCKETS` by their key, and a relay publishes a bucket only while it holds that
  bucket's advisory lock, so one aggregate is never in flight from two relays at once.
"""

import asyncio
import contextlib
import logging
import random
import zlib
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from etalase_events import codec
from etalase_events.envelope import CloudEvent, new_envelope
from etalase_events.models import Event
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from etalase_platform import metrics
from etalase_platform.driver import DriverStatement, DriverTransaction, Transactional, transaction
from etalase_platform.outages import log_failure
from etalase_platform.telemetry import (
    LeanSpan,
    current_trace_headers,
    span_context_from_traceparent,
    trace_headers,
)

log = logging.getLogger(__name__)

BUCKETS = 32
_ADVISORY_NAMESPACE = 0x0E7A  # first key of pg_try_advisory_xact_lock(int, int)
NOTIFY_CHANNEL = "etalase_outbox"
_SCOPE = InstrumentationScope("etalase.outbox")


def bucket_of(key: str) -> int:
    return zlib.crc32(key.encode()) % BUCKETS


ENQUEUE_SQL = (
    "INSERT INTO outbox (event_id, topic, message_key, bucket, sequence, event_type,"
    " payload, traceparent, tracestate) SELECT :outbox_event_id, :outbox_topic, :outbox_key,"
    " :outbox_bucket, :outbox_sequence, :outbox_event_type, :outbox_payload,"
    " :outbox_traceparent, :outbox_tracestate"
    f" FROM pg_notify('{NOTIFY_CHANNEL}', '') AS notified"
)
"""The outbox row's insert. Its parameters are prefixed so that a caller's statement may run it
as a CTE beside parameters of its own (`enqueue(..., along=)`: one round trip fewer). The
notification, sent at commit only, wakes the relays (see OutboxRelay); made by the insert itself,
so that it costs no round trip of its own."""

# On the driver: every state change runs it, and SQLAlchemy's execution of a statement costs
# twice the driver's (etalase_platform.driver).
_ENQUEUE = DriverStatement(text(ENQUEUE_SQL))


async def enqueue(
    session: Transactional,
    event: Event,
    *,
    source: str,
    subject: str,
    sequence: int,
    time: datetime | None = None,
    topic: str | None = None,
    along: tuple[DriverStatement, Mapping[str, object]] | None = None,
) -> CloudEvent:
    """Write `event` to the outbox inside the caller's transaction.

    `topic` defaults to the event type's topic of the contract; tests route to their own.
    `along`: a statement of the caller's that runs `ENQUEUE_SQL` as a CTE, and its own
    parameters: the row is then written by it, in the round trip of the caller's change.
    """
    envelope = new_envelope(event, source=source, subject=subject, sequence=sequence, time=time)
    record = codec.encode(envelope)
    traceparent, tracestate = current_trace_headers()
    statement, parameters = along if along is not None else (_ENQUEUE, {})
    await statement.execute(
        session,
        {
            **parameters,
            "outbox_event_id": envelope.id,
            "outbox_topic": topic or record.topic,
            "outbox_key": subject,
            "outbox_bucket": bucket_of(subject),
            "outbox_sequence": sequence,
            "outbox_event_type": envelope.type,
            "outbox_payload": record.value.decode(),
            "outbox_traceparent": traceparent,
            "outbox_tracestate": tracestate,
        },
    )
    return envelope


MAX_BATCH_BYTES = 256 * 1024
"""The producers' record batches, which the relay fills (`_KafkaBatches`)."""
PARTITIONER = DefaultPartitioner()
"""The partitioner of the producers `kafka_producer` makes, which the relay also applies to the
record batches it builds: a relay's producer is one of those (every service's is)."""


def kafka_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        partitioner=PARTITIONER,
        linger_ms=5,
        max_batch_size=MAX_BATCH_BYTES,
        request_timeout_ms=30_000,
    )


@dataclass(frozen=True)
class _Row:
    position: int
    bucket: int
    topic: str
    key: str
    event_type: str
    payload: str
    traceparent: str | None
    tracestate: str | None


_Batch = tuple[list[_Row], "asyncio.Future[list[object]]"]


class _KafkaBatches:
    """A claim's records as Kafka record batches, one per partition, handed to the producer
    whole. The producer's `send` per record (its partitioning, a future and a queue append per
    record) was a third of the relay's CPU; built here, a record costs the partitioner and one
    append to its partition's batch (`python -m bench.relay`: 31-32 -> 22 µs of CPU per traced
    event). Each record goes to the partition `send` would choose for its key (the producer's
    own `PARTITIONER`), and a partition's records keep their order: its batches are handed over
    in the order they filled, and the idempotent producer keeps that order on the broker."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._building: dict[tuple[str, int], BatchBuilder] = {}
        self._partitions: dict[str, list[int]] = {}
        self._deliveries: list[asyncio.Future[object]] = []

    async def append(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        partitions = self._partitions.get(topic)
        if partitions is None:
            partitions = self._partitions[topic] = sorted(
                await self._producer.partitions_for(topic)
            )
        destination = (topic, PARTITIONER(key, partitions, partitions))
        builder = self._building.get(destination)
        if builder is None:
            builder = self._building[destination] = self._producer.create_batch()
        if builder.append(timestamp=None, key=key, value=value, headers=headers) is None:
            # full: handed over, and the record starts the partition's next batch (an empty
            # batch always takes its first record)
            await self._hand_over(destination, builder)
            builder = self._building[destination] = self._producer.create_batch()
            if builder.append(timestamp=None, key=key, value=value, headers=headers) is None:
                raise RuntimeError(f"an empty Kafka batch refused a record for {topic}")

    async def submit(self) -> "asyncio.Future[list[object]]":
        """Hands over every batch still filling; resolves when Kafka acknowledged them all."""
        for destination, builder in self._building.items():
            await self._hand_over(destination, builder)
        self._building.clear()
        return asyncio.gather(*self._deliveries)

    def abandon(self) -> None:
        """The batches already handed over will not be awaited: their outcome is read anyway
        (the rows are sent again), so that a failure is not logged as never retrieved."""
        for delivery in self._deliveries:
            delivery.add_done_callback(_retrieve)

    async def _hand_over(self, destination: tuple[str, int], builder: BatchBuilder) -> None:
        topic, partition = destination
        self._deliveries.append(
            await self._producer.send_batch(builder, topic, partition=partition)
        )


_LOCK_FREE_BUCKETS = DriverStatement(
    text(
        "SELECT b FROM unnest(CAST(:buckets AS int[])) AS b"
        " WHERE pg_try_advisory_xact_lock(:namespace, b)"
    )
)
# The oldest unpublished positions are found bucket by bucket in the partial index (bucket,
# position): a plain `bucket = ANY(...) ORDER BY position` lets the planner walk the primary key
# past every published row still kept, so each batch costs more the more rows were published
# before it (a 200,000-row backlog drained 4x slower at its end).
_CLAIM = DriverStatement(
    text(
        "UPDATE outbox SET published_at = now() WHERE position IN ("
        "SELECT position FROM outbox WHERE position IN ("
        "SELECT next.position FROM unnest(CAST(:buckets AS int[])) AS b(bucket)"
        " CROSS JOIN LATERAL (SELECT position FROM outbox"
        " WHERE published_at IS NULL AND outbox.bucket = b.bucket"
        " ORDER BY position LIMIT :per_bucket) AS next"
        " ORDER BY next.position LIMIT :limit)"
        " FOR UPDATE SKIP LOCKED)"
        " RETURNING position, bucket, topic, message_key, event_type, payload,"
        " traceparent, tracestate"
    )
)
"""The relay's statements, on the driver: SQLAlchemy's execution of each (and of the text it was
built from, every call) was most of the relay's client CPU per small batch."""


class OutboxRelay:
    """Publishes committed outbox rows in position order, bucket by bucket.

    It wakes up when a writing transaction commits (`enqueue` notifies `NOTIFY_CHANNEL`, which
    PostgreSQL delivers at commit) and polls every `idle_poll_seconds` besides, for a
    notification missed while its listening connection was down. While a batch's
    acknowledgements are in flight it claims and sends the next one, in the same transaction, so
    the bucket locks that keep each key in order are held throughout; the transaction commits
    once every record it claimed was acknowledged.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        producer: AIOKafkaProducer,
        *,
        service: str,
        batch_size: int = 500,
        idle_poll_seconds: float = 1.0,
        batches_per_transaction: int = 20,
    ) -> None:
        self._engine = engine
        self._producer = producer
        self._service = service
        self._batch_size = batch_size
        self._idle_poll_seconds = idle_poll_seconds
        # bounds what a crash re-sends and how long one relay keeps other relays off its buckets
        self._batches_per_transaction = batches_per_transaction
        self._wake = asyncio.Event()
        self._listening = False

    @property
    def listening(self) -> bool:
        """Whether commits of new rows wake the relay (else it only polls)."""
        return self._listening

    async def run_forever(self) -> None:
        listener = asyncio.create_task(self._listen_forever())
        try:
            while True:
                # cleared before the claim: a commit notified during it makes the next round
                # start at once
                self._wake.clear()
                try:
                    published = await self.publish_batch()
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    log_failure(log, "%s: outbox relay failed; retrying", error, self._service)
                    await asyncio.sleep(1.0)
                    continue
                if published == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._idle_poll_seconds)
        finally:
            listener.cancel()
            # bounded: a stop must never wait on the listening connection's cleanup
            await asyncio.wait({listener}, timeout=5.0)

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # the connection's cleanup after a cancel raised something else: the cancel
                    # still stands, or the relay's stop would wait on this loop for ever
                    raise asyncio.CancelledError from error
                log.warning("outbox relay cannot listen for commits (%s); polling", error)
            finally:
                self._listening = False
            await asyncio.sleep(min(5.0, self._idle_poll_seconds))

    async def _listen(self) -> None:
        """Holds one connection LISTENing until it breaks."""
        lost = asyncio.Event()
        async with self._engine.connect() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None

            def notified(*_: object) -> None:
                self._wake.set()

            raw.add_termination_listener(lambda _: lost.set())
            await raw.add_listener(NOTIFY_CHANNEL, notified)
            self._listening = True
            # rows committed before LISTEN took effect are claimed by this round
            self._wake.set()
            try:
                while not lost.is_set():
                    # a connection closed without a termination message shows on the next query
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), 30)
                    if not lost.is_set():
                        await raw.execute("SELECT 1")
            finally:
                if not raw.is_closed():
                    await raw.remove_listener(NOTIFY_CHANNEL, notified)
                    # the pool must not hand out a connection still LISTENing
                    await raw.execute("UNLISTEN *")

    async def publish_batch(self) -> int:
        """Claim, publish and mark rows in one transaction; returns how many were published.

        Up to `batches_per_transaction` batches, each claimed while the previous one is queued
        and its acknowledgements are in flight."""
        # the relay's own SQL (polled many times a second) would drown the traces; its publish
        # spans are created by hand, each a child of the request that wrote its row
        with suppress_instrumentation():
            return await self._publish_batches()

    async def _publish_batches(self) -> int:
        published = 0
        in_flight: deque[_Batch] = deque()
        try:
            async with transaction(self._engine) as begun:
                buckets = await self._lock_free_buckets(begun)
                if not buckets:
                    return 0
                rows, next_share = await self._claim(begun, buckets, self._share(buckets))
                claims = 1
                claiming: asyncio.Task[tuple[list[_Row], int | None]] | None = None
                try:
                    while rows or in_flight:
                        if next_share is not None and claims < self._batches_per_transaction:
                            # PostgreSQL runs the next claim while this batch is queued (each
                            # took about as long as the other); this claim's rows are marked
                            # already, so the next passes over them
                            claiming = asyncio.create_task(self._claim(begun, buckets, next_share))
                            claims += 1
                            await asyncio.sleep(0)  # lets it send its query before the CPU work
                        if rows:
                            in_flight.append((rows, await self._send(rows)))
                        rows, next_share = [], None
                        if claiming is not None:
                            (rows, next_share), claiming = await claiming, None
                        # at most two batches in flight: the oldest is awaited before a third
                        if in_flight and (len(in_flight) == 2 or not rows):
                            batch, acks = in_flight.popleft()
                            await acks
                            published += len(batch)
                finally:
                    if claiming is not None:
                        # the rollback must not run while the claim still uses the connection
                        await asyncio.wait({claiming})
                        claiming.add_done_callback(_retrieve)
                # the commit makes the claims' marks durable, only now that every ack arrived
        finally:
            for _, acks in in_flight:
                # a failed transaction leaves its rows unmarked: they are sent again, in order
                acks.add_done_callback(_retrieve)
        if published:
            metrics.OUTBOX_PUBLISHED.labels(self._service).inc(published)
        return published

    async def _lock_free_buckets(self, begun: DriverTransaction) -> list[int]:
        order = list(range(BUCKETS))
        random.shuffle(order)  # so that concurrent relays do not all queue on bucket 0
        rows = await _LOCK_FREE_BUCKETS.fetch(
            begun, {"buckets": order, "namespace": _ADVISORY_NAMESPACE}
        )
        return [row["b"] for row in rows]

    def _share(self, buckets: list[int]) -> int:
        """How many rows each bucket offers a claim: twice its share of the batch. Offering the
        whole batch from each of 32 buckets made a claim 17 ms of PostgreSQL time, 32 rows each
        8 ms (EXPLAIN ANALYZE, 40,000 rows waiting)."""
        return min(self._batch_size, 2 * -(-self._batch_size // len(buckets)))

    async def _claim(
        self, begun: DriverTransaction, buckets: list[int], per_bucket: int
    ) -> tuple[list[_Row], int | None]:
        """The next rows in position order, marked published in this transaction, and the
        `per_bucket` of the next claim (None if no rows are left). A failure before the commit
        (a missing ack, a crash) leaves them unpublished, and the next claim of the same
        transaction, made while they are in flight, passes over them."""
        claimed = await _CLAIM.fetch(
            begun, {"buckets": buckets, "limit": self._batch_size, "per_bucket": per_bucket}
        )
        rows = sorted((_Row(*row) for row in claimed), key=lambda row: row.position)
        if per_bucket in Counter(row.bucket for row in rows).values():
            # a bucket offered all it may and holds more (one busy aggregate): the next claim
            # may take a whole batch from it
            return rows, self._batch_size
        return rows, (self._share(buckets) if len(rows) == self._batch_size else None)

    async def _send(self, rows: list[_Row]) -> "asyncio.Future[list[object]]":
        """Queues the batch; the future resolves when Kafka acknowledged every record.

        ops.md makes the relay's publish part of the writing request's trace: a row written in a
        sampled trace gets a producer span, child of that request, and its record carries the
        span's context, so each consumer's span is the publish's child. A row written outside a
        sampled trace costs no span and carries what was stored."""
        batches = _KafkaBatches(self._producer)
        try:
            for row in rows:
                traceparent, tracestate = row.traceparent, row.tracestate
                parent = _sampled_parent(row)
                span = None if parent is None else self._publish_span(row, parent)
                if span is not None:
                    traceparent, tracestate = trace_headers(span.context)
                headers = codec.kafka_headers(
                    row.event_type, traceparent=traceparent, tracestate=tracestate
                )
                await batches.append(row.topic, row.key.encode(), row.payload.encode(), headers)
                if span is not None:
                    span.end()
            return await batches.submit()
        except BaseException:
            batches.abandon()
            raise

    def _publish_span(self, row: _Row, parent: SpanContext) -> LeanSpan:
        # a span per traced row is most of the relay's CPU: hence a LeanSpan, not the SDK's
        return LeanSpan(
            parent,
            f"{row.topic} publish",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "publish",
                "messaging.destination.name": row.topic,
                "messaging.kafka.message.key": row.key,
                "cloudevents.event_type": row.event_type,
            },
            scope=_SCOPE,
        )


def _sampled_parent(row: _Row) -> SpanContext | None:
    """The span of a sampled trace that wrote the row, if it was written in one."""
    if not row.traceparent:
        return None
    context = span_context_from_traceparent(row.traceparent, row.tracestate)
    return context if context is not None and context.trace_flags.sampled else None


def _retrieve(future: "asyncio.Future[Any]") -> None:
    if not future.cancelled():
        future.exception()


async def backlog(engine: AsyncEngine) -> tuple[int, float]:
    """Unpublished rows and the age in seconds of the oldest one."""
    async with engine.connect() as connection:
        result = await connection.execute(
            text(
                "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)"
                " FROM outbox WHERE published_at IS NULL"
            )
        )
        count, age = result.one()
    return int(count), float(age)


async def purge_published(engine: AsyncEngine, *, hours: float) -> int:
    async with engine.begin() as connection:
        result = await connection.execute(
            text("DELETE FROM outbox WHERE published_at < now() - make_interval(secs => :seconds)"),
            {"seconds": hours * 3600},
        )
    return int(result.rowcount)
