"""Idempotent, batched Kafka consumer.

For each batch of records:
1. records that cannot be decoded (not JSON, unknown type, invalid data) go to ``<topic>.dlq``;
2. in one database transaction: events already applied (by id, in the ``inbox``) are skipped, the
   projector applies the rest, their ids are recorded, and each partition's next offset is stored;
3. only after that commit are the offsets committed to Kafka.

The offsets stored in the database are the truth: on assignment the consumer seeks to them, so
a crash between the database commit and the Kafka commit replays nothing twice. A transient
failure (database or broker unreachable) retries the same batch with backoff and never skips it.
A record whose handling fails for any other reason is isolated (the batch is retried record by
record) and dead-lettered, so one bad record cannot stop a projection.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from etalase_events.codec import (
    DecodedEvent,
    EventDecodeError,
    decode,
    without_binary_mode_headers,
)
from etalase_events.models import Event
from etalase_events.topics import dlq
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Link, Span, SpanKind
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_platform import inbox, metrics
from etalase_platform.db import SessionFactory
from etalase_platform.inbox import Inbox
from etalase_platform.offsets import OffsetStore
from etalase_platform.outages import log_failure
from etalase_platform.telemetry import context_from_headers, tracer

log = logging.getLogger(__name__)
T = TypeVar("T")


class EventRejected(Exception):
    """A well-formed event this consumer can never apply: it is dead-lettered, not retried."""


class Delivery:
    """A decoded event with the record it came from and the span of its processing.

    Its attributes are read once, when it is made: a projector reads them several times per
    event in batches of thousands."""

    __slots__ = (
        "decoded",
        "event",
        "event_id",
        "offset",
        "partition",
        "record",
        "sequence",
        "span",
        "time",
        "topic",
    )

    def __init__(
        self,
        record: ConsumerRecord[Any, Any],
        decoded: DecodedEvent,
        span: Span = INVALID_SPAN,
    ) -> None:
        self.record = record
        self.decoded = decoded
        self.span = span
        self.topic: str = record.topic
        self.partition: int = record.partition
        self.offset: int = record.offset
        self.event: Event = decoded.event
        self.event_id: str = decoded.attributes.id
        self.sequence: int = decoded.attributes.sequence
        self.time: datetime = decoded.attributes.time


class Projector(Protocol):
    """Applies a batch of deliveries within the consumer's transaction."""

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None: ...


Handler = Callable[[AsyncSession, Delivery], Awaitable[None]]


class Dispatcher:
    """A projector applying each event with the handler registered for its type, in order.

    Event types without a handler are tolerated and recorded as applied.
    """

    def __init__(self, handlers: Mapping[type[Event], Handler]) -> None:
        self._handlers = dict(handlers)

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            handler = self._handlers.get(type(delivery.event))
            if handler is not None:
                with trace.use_span(delivery.span, end_on_exit=False):
                    await handler(session, delivery)


def is_transient(error: BaseException) -> bool:
    """Failures that go away by themselves: retry them, never skip the record."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        error = error.orig or error
        cause = getattr(error, "__cause__", None)
        if cause is not None:
            error = cause
    return isinstance(
        error,
        OSError
        | ConnectionError
        | TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.CannotConnectNowError
        | asyncpg.SerializationError
        | asyncpg.DeadlockDetectedError
        | asyncpg.TooManyConnectionsError
        | asyncpg.InterfaceError,
    )


@dataclass(frozen=True)
class _Poison:
    record: ConsumerRecord[bytes, bytes]
    reason: str


@dataclass(frozen=True)
class _Batch:
    """Records as fetched, decoded: the events and the records that cannot be decoded."""

    records: list[ConsumerRecord[Any, Any]]
    deliveries: list[Delivery]
    poison: list[_Poison]


def _end_spans(batch: _Batch | None) -> None:
    for delivery in batch.deliveries if batch else ():
        delivery.span.end()


async def _discard(fetching: asyncio.Task[_Batch]) -> _Batch | None:
    """Stops a fetch that is no longer wanted; what it had already fetched, if anything."""
    fetching.cancel()
    await asyncio.wait([fetching])
    if fetching.cancelled() or fetching.exception() is not None:
        return None
    return fetching.result()


_DECODE_SLICE = 25
"""Records decoded between two chances for the batch being applied to continue."""


class IdempotentConsumer:
    def __init__(
        self,
        *,
        name: str,
        service: str,
        topics: Sequence[str],
        projector: Projector,
        sessions: SessionFactory,
        bootstrap_servers: str,
        group_id: str,
        dlq_producer: AIOKafkaProducer,
        batch_size: int = 500,
        inbox: bool = True,
    ) -> None:
        """`inbox=False` for a projector that is idempotent by construction (applying an event
        again changes nothing): the stored offsets still keep redeliveries of applied records
        out, and an event published twice is simply applied twice, saving an insert per event."""
        self.name = name
        self.group_id = group_id  # the Kafka group, as OTel's messaging.consumer.group.name
        self.topics = tuple(topics)
        self._service = service
        self._projector = projector
        self._inbox = Inbox(name) if inbox else None
        self._offsets = OffsetStore(name)
        self._sessions = sessions
        self._dlq_producer = dlq_producer
        self._batch_size = batch_size
        self._tracer = tracer("etalase.consumer")
        self._uncommitted: dict[TopicPartition, int] = {}
        self.kafka = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            client_id=f"{service}.{name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=batch_size,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )

    async def start(self) -> None:
        await self.kafka.start()
        metrics.CONSUMER_LAST_APPLIED.labels(self._service, self.name).set_to_current_time()
        for topic in self.topics:  # at zero, so that an alert on its increase sees the first
            metrics.DEAD_LETTERS.labels(self._service, self.name, topic)
        self.kafka.subscribe(list(self.topics), listener=_SeekToStoredOffsets(self))

    async def stop(self) -> None:
        await self.kafka.stop()

    async def run_forever(self) -> None:
        """Fetch and decode the next batch while the current one's transaction runs: decoding is
        CPU work in this process and the transaction is waiting on PostgreSQL, so catching up on
        a long log costs the larger of the two rather than their sum."""
        last_bookkeeping = 0.0
        upcoming = asyncio.create_task(self._fetch())
        try:
            while True:
                batch = await upcoming
                upcoming = asyncio.create_task(self._fetch())
                if batch.records and not await self._process_or_rewind(batch, upcoming):
                    upcoming = asyncio.create_task(self._fetch())
                # Kafka's copy of the offsets is for operators; the database holds the offsets
                # that matter, so the commit need not cost a round trip per batch. The lag is
                # known locally (high watermark and position), so it is current after every
                # batch: a burst drained within a second still shows.
                await self._record_lag()
                if time.monotonic() - last_bookkeeping > 1.0 or not batch.records:
                    await self._commit_kafka()
                    last_bookkeeping = time.monotonic()
        finally:
            _end_spans(await _discard(upcoming))

    async def _process_or_rewind(self, batch: _Batch, upcoming: asyncio.Task[_Batch]) -> bool:
        """False when the batch failed: then it, and the one fetched after it, will be read
        again from the stored offsets."""
        try:
            await self._process(batch)
            return True
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log_failure(log, "%s: batch failed; rewinding to the stored offsets", error, self.name)
            following = await _discard(upcoming)
            _end_spans(following)
            await self._rewind([b for b in (batch, following) if b is not None])
            await asyncio.sleep(1)
            return False

    async def _fetch(self) -> _Batch:
        polled = await self.kafka.getmany(timeout_ms=200, max_records=self._batch_size)
        records = [record for records in polled.values() for record in records]
        deliveries: list[Delivery] = []
        poison: list[_Poison] = []
        for start in range(0, len(records), _DECODE_SLICE):
            decoded, rejected = self._decode(records[start : start + _DECODE_SLICE])
            deliveries += decoded
            poison += rejected
            # let the current batch's transaction take its next step (its statements then run
            # in PostgreSQL while this decodes on)
            await asyncio.sleep(0)
        return _Batch(records, deliveries, poison)

    async def _rewind(self, batches: Sequence[_Batch]) -> None:
        """Read the failed batch (and any fetched after it) again: nothing may be skipped."""
        first: dict[TopicPartition, int] = {}
        for batch in batches:
            for record in batch.records:
                tp = TopicPartition(record.topic, record.partition)
                first[tp] = min(first.get(tp, record.offset), record.offset)
        stored = await _retrying(lambda: self.stored_offsets(list(first)), self.name)
        for tp, offset in first.items():
            self.kafka.seek(tp, stored.get(tp, offset))

    async def _process(self, batch: _Batch) -> None:
        started = time.perf_counter()
        try:
            await self._dead_letter(batch.poison)
            await self._apply_or_isolate(batch.deliveries, batch.records)
        finally:
            _end_spans(batch)
        for (topic, partition), offset in _next_offsets(batch.records).items():
            self._uncommitted[TopicPartition(topic, partition)] = offset
        metrics.HANDLER_LATENCY.labels(self._service, self.name).observe(
            time.perf_counter() - started
        )
        metrics.CONSUMER_LAST_APPLIED.labels(self._service, self.name).set_to_current_time()

    def _decode(
        self, records: Sequence[ConsumerRecord[Any, Any]]
    ) -> tuple[list[Delivery], list[_Poison]]:
        deliveries: list[Delivery] = []
        poison: list[_Poison] = []
        for record in records:
            headers = list(record.headers or ())
            try:
                decoded = decode(record.value, headers)
            except EventDecodeError as error:
                poison.append(_Poison(record, f"{type(error).__name__}: {error}"))
                continue
            deliveries.append(Delivery(record, decoded, self._span(record, headers, decoded)))
        return deliveries, poison

    def _span(
        self,
        record: ConsumerRecord[Any, Any],
        headers: Sequence[tuple[str, bytes]],
        decoded: DecodedEvent,
    ) -> Span:
        """The span of the record's processing, in the trace of the request that caused it.

        A record without a trace context (a batch import, a bench) gets none: a new trace per
        record would cost more than projecting it (about 30 µs) and follow nothing; the batch's
        `apply` span still covers its SQL."""
        if not any(name == "traceparent" for name, _ in headers):
            return INVALID_SPAN
        return self._tracer.start_span(
            f"{record.topic} process",
            context=context_from_headers(headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": record.topic,
                "messaging.consumer.group.name": self.group_id,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.offset": record.offset,
                "messaging.message.id": decoded.attributes.id,
                "cloudevents.event_type": decoded.attributes.type,
            },
        )

    async def _apply_or_isolate(
        self, deliveries: Sequence[Delivery], records: Sequence[ConsumerRecord[Any, Any]]
    ) -> None:
        try:
            await _retrying(lambda: self._apply(deliveries, records), self.name)
        except Exception as error:
            log.warning("%s: batch failed (%r); isolating the bad records", self.name, error)
            await self._bisect(deliveries)
            await _retrying(lambda: self._apply([], records), self.name)

    async def _bisect(self, deliveries: Sequence[Delivery]) -> None:
        """Applies the halves of a failed batch in order, so that one bad record costs a few
        transactions rather than one per record."""
        if len(deliveries) == 1:
            await self._apply_or_reject(deliveries[0])
            return
        try:
            await _retrying(lambda: self._apply(deliveries, []), self.name)
        except Exception:
            middle = len(deliveries) // 2
            await self._bisect(deliveries[:middle])
            await self._bisect(deliveries[middle:])

    async def _apply_or_reject(self, delivery: Delivery) -> None:
        try:
            await _retrying(lambda: self._apply([delivery], []), self.name)
        except Exception as error:
            log.error("%s: dead-lettering %s: %r", self.name, delivery.event_id, error)
            await self._dead_letter([_Poison(delivery.record, f"{type(error).__name__}: {error}")])

    async def _apply(
        self, deliveries: Sequence[Delivery], records: Sequence[ConsumerRecord[Any, Any]]
    ) -> None:
        """One transaction: record the ids not seen before, apply those, store the offsets."""
        # the batch's SQL nests under one span linked to every event's trace (OTel's batch form)
        links = [Link(d.span.get_span_context()) for d in deliveries if d.span is not INVALID_SPAN]
        with self._tracer.start_as_current_span(f"{self.name} apply", links=links):
            async with self._sessions() as session, session.begin():
                fresh = await self._claim_fresh(session, deliveries)
                if fresh:
                    await self._projector.apply(session, fresh)
                await self._store_offsets(session, fresh, records)

    async def _claim_fresh(
        self, session: AsyncSession, deliveries: Sequence[Delivery]
    ) -> list[Delivery]:
        """The deliveries not applied before. Without an inbox, all are fresh: the projector
        tolerates repeats."""
        if not deliveries:
            return []
        fresh = await self._inbox.claim(session, deliveries) if self._inbox else list(deliveries)
        metrics.HANDLED_EVENTS.labels(self._service, self.name, "applied").inc(len(fresh))
        if len(fresh) < len(deliveries):
            metrics.HANDLED_EVENTS.labels(self._service, self.name, "duplicate").inc(
                len(deliveries) - len(fresh)
            )
        return fresh

    async def _store_offsets(
        self,
        session: AsyncSession,
        applied: Sequence[Delivery],
        records: Sequence[ConsumerRecord[Any, Any]],
    ) -> None:
        await self._offsets.store(
            session,
            _next_offsets(records),
            {(d.topic, d.partition): d.time for d in applied},
        )

    async def _dead_letter(self, poison: Sequence[_Poison]) -> None:
        if not poison:
            return
        deliveries = []
        for item in poison:
            record = item.record
            # a record written before the no-`ce_*` rule is copied without its `ce_type`, so
            # the dead letter parses with the CloudEvents SDKs like any other record
            headers = [*without_binary_mode_headers(record.headers or ()), *self._dlq_headers(item)]
            deliveries.append(
                await self._dlq_producer.send(
                    dlq(record.topic), value=record.value, key=record.key, headers=headers
                )
            )
            metrics.DEAD_LETTERS.labels(self._service, self.name, record.topic).inc()
        await asyncio.gather(*deliveries)

    def _dlq_headers(self, item: _Poison) -> list[tuple[str, bytes]]:
        record = item.record
        return [
            ("dlq_reason", item.reason[:1000].encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
        ]

    async def _commit_kafka(self) -> None:
        if not self._uncommitted:
            return
        offsets, self._uncommitted = self._uncommitted, {}
        try:
            await self.kafka.commit(offsets)
        except Exception as error:  # the database holds the offsets; Kafka's copy may lag
            log.warning("%s: offset commit failed: %r", self.name, error)

    async def _record_lag(self) -> None:
        for tp in self.kafka.assignment():
            highwater = self.kafka.highwater(tp)
            if highwater is None:
                continue
            position = await self.kafka.position(tp)
            partition = str(tp.partition)
            metrics.CONSUMER_LOG_END.labels(self._service, self.name, tp.topic, partition).set(
                highwater
            )
            metrics.CONSUMER_LAG.labels(self._service, self.name, tp.topic, str(tp.partition)).set(
                max(highwater - position, 0)
            )

    async def stored_offsets(
        self, partitions: Sequence[TopicPartition]
    ) -> dict[TopicPartition, int]:
        async with self._sessions() as session:
            return await self._offsets.load(session, partitions)


class _SeekToStoredOffsets(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: IdempotentConsumer) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        offsets = await _retrying(
            lambda: self._consumer.stored_offsets(list(assigned)), self._consumer.name
        )
        for tp, offset in offsets.items():
            self._consumer.kafka.seek(tp, offset)


def _next_offsets(records: Sequence[ConsumerRecord[Any, Any]]) -> dict[tuple[str, int], int]:
    offsets: dict[tuple[str, int], int] = {}
    for record in records:
        key = (record.topic, record.partition)
        offsets[key] = max(offsets.get(key, 0), record.offset + 1)
    return offsets


async def _retrying(action: Callable[[], Awaitable[T]], name: str) -> T:
    delay = 0.1
    while True:
        try:
            return await action()
        except Exception as error:
            if not is_transient(error):
                raise
            log.warning("%s: transient failure %r; retrying in %.1fs", name, error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def purge_inbox(engine: AsyncEngine, *, days: float) -> int:
    return await inbox.purge(engine, days=days)
