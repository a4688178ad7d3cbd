"""Idempotent, batched Kafka consumer: the loop.

For each batch of records:
1. records that cannot be decoded (not JSON, unknown type, invalid data) go to ``<topic>.dlq``;
2. in one database transaction (`store.ConsumerStore.apply`, the only place that opens it):
   events already applied (by id, in the ``inbox``) are skipped, the projector applies the rest,
   and each partition's next offset is stored;
3. only after that commit are the offsets committed to Kafka.

The offsets stored in the database are the truth: on assignment the consumer seeks to them, so
a crash between the database commit and the Kafka commit replays nothing twice. A stored offset
beyond its partition's end means the topic was recreated (a new cluster, topics deleted and made
again) while the database was kept: that partition is read again from its start, as a new
consumer would read it, with a warning (a projection over the old log should be rebuilt).
A transient failure (database or broker unreachable) retries the same batch with backoff and
never skips it (`retry`). A record whose handling fails for any other reason is isolated
(`isolation`) and dead-lettered (`dead_letters`), so one bad record cannot stop a projection.

The other modules: `decoding` (records to deliveries and their spans), `dispatch` (projectors
and typed handlers), `kafka_progress` (Kafka's commit and the lag gauges), `inbox` and `offsets`
(the tables' API). Their public names are importable from here too.
"""

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from sqlalchemy.ext.asyncio import AsyncEngine

from etalase_platform import inbox, metrics
from etalase_platform.db import SessionFactory
from etalase_platform.dead_letters import DeadLetters
from etalase_platform.decoding import SPANS, Batch, Decoder, next_offsets
from etalase_platform.delivery import Delivery, EventRejected
from etalase_platform.dispatch import Dispatcher, Handler, Projector, Subscription, of_type
from etalase_platform.isolation import Isolating
from etalase_platform.kafka_progress import KafkaProgress
from etalase_platform.outages import log_failure
from etalase_platform.retry import is_transient, retrying
from etalase_platform.settings import FETCH_MAX_BYTES, MAX_PARTITION_FETCH_BYTES
from etalase_platform.store import ConsumerStore
from etalase_platform.telemetry import tracer

__all__ = [
    "Delivery",
    "Dispatcher",
    "EventRejected",
    "Handler",
    "IdempotentConsumer",
    "Projector",
    "Subscription",
    "is_transient",
    "of_type",
    "purge_inbox",
]

log = logging.getLogger(__name__)

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
        fetch_max_bytes: int = FETCH_MAX_BYTES,
        max_partition_fetch_bytes: int = MAX_PARTITION_FETCH_BYTES,
    ) -> None:
        """`inbox=False` for a projector that is idempotent by construction (see
        `ConsumerStore`). The fetch bounds are what aiokafka may buffer ahead of the batches
        (`ServiceSettings.consumer_fetch_max_bytes`)."""
        self.name = name
        self.group_id = group_id  # the Kafka group, as OTel's messaging.consumer.group.name
        self.topics = tuple(topics)
        self._service = service
        self._batch_size = batch_size
        spans = tracer(SPANS)
        self.kafka = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            client_id=f"{service}.{name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=batch_size,
            fetch_max_bytes=fetch_max_bytes,
            max_partition_fetch_bytes=max_partition_fetch_bytes,
        )
        self._decoder = Decoder(group_id)
        self._store = ConsumerStore(
            sessions, projector, spans, consumer=name, service=service, keeps_inbox=inbox
        )
        self._dead_letters = DeadLetters(dlq_producer, service=service, consumer=name)
        self._isolating = Isolating(self._store, self._dead_letters, consumer=name)
        self._progress = KafkaProgress(self.kafka, service=service, consumer=name)
        self._latency = metrics.HANDLER_LATENCY.labels(service, name)
        self._last_applied = metrics.CONSUMER_LAST_APPLIED.labels(service, name)

    async def start(self) -> None:
        await self.kafka.start()
        self._last_applied.set_to_current_time()
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
                await self._progress.record_lag()
                if time.monotonic() - last_bookkeeping > 1.0 or not batch.records:
                    await self._progress.commit()
                    last_bookkeeping = time.monotonic()
        finally:
            following = await _discard(upcoming)
            if following is not None:
                following.end_spans()

    async def stored_offsets(
        self, partitions: Sequence[TopicPartition]
    ) -> dict[TopicPartition, int]:
        return await self._store.stored_offsets(partitions)

    async def restart_offsets(self, partitions: Sequence[TopicPartition]) -> None:
        await self._store.restart(partitions)

    async def _fetch(self) -> Batch:
        polled = await self.kafka.getmany(timeout_ms=200, max_records=self._batch_size)
        records = [record for records in polled.values() for record in records]
        batch = Batch(records, [], [], [], next_offsets(polled))
        for start in range(0, len(records), _DECODE_SLICE):
            self._decoder.decode_into(batch, records[start : start + _DECODE_SLICE])
            # let the current batch's transaction take its next step (its statements then run
            # in PostgreSQL while this decodes on)
            await asyncio.sleep(0)
        return batch

    async def _process_or_rewind(self, batch: Batch, upcoming: asyncio.Task[Batch]) -> bool:
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
            if following is not None:
                following.end_spans()
            await self._rewind([b for b in (batch, following) if b is not None])
            await asyncio.sleep(1)
            return False

    async def _process(self, batch: Batch) -> None:
        started = time.perf_counter()
        try:
            await self._dead_letters.send(batch.poison)
            await self._isolating.apply(batch.deliveries, batch.next_offsets, batch.traced)
        finally:
            batch.end_spans()
        self._progress.applied(batch.next_offsets)
        self._latency.observe(time.perf_counter() - started)
        self._last_applied.set_to_current_time()

    async def _rewind(self, batches: Sequence[Batch]) -> None:
        """Read the failed batch (and any fetched after it) again: nothing may be skipped."""
        first: dict[TopicPartition, int] = {}
        for batch in batches:
            for record in batch.records:
                tp = TopicPartition(record.topic, record.partition)
                first[tp] = min(first.get(tp, record.offset), record.offset)
        stored = await retrying(lambda: self.stored_offsets(list(first)), self.name)
        for tp, offset in first.items():
            self.kafka.seek(tp, stored.get(tp, offset))


async def _discard(fetching: asyncio.Task[Batch]) -> Batch | None:
    """Stops a fetch that is no longer wanted; what it had already fetched, if anything."""
    fetching.cancel()
    await asyncio.wait([fetching])
    if fetching.cancelled() or fetching.exception() is not None:
        return None
    return fetching.result()


class _SeekToStoredOffsets(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: IdempotentConsumer) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        consumer = self._consumer
        offsets = await retrying(lambda: consumer.stored_offsets(list(assigned)), consumer.name)
        ends = await consumer.kafka.end_offsets(list(offsets)) if offsets else {}
        # kept, the stored offset would skip the new log (a consumer without an inbox drops
        # what lies below it) until the log grew past it
        recreated = [tp for tp, offset in offsets.items() if offset > ends[tp]]
        if recreated:
            log.warning(
                "%s: stored offsets beyond the end of %s: the topics were recreated since;"
                " reading them again from their start",
                consumer.name,
                ", ".join(f"{tp.topic}[{tp.partition}]" for tp in recreated),
            )
            await retrying(lambda: consumer.restart_offsets(recreated), consumer.name)
        for tp, offset in offsets.items():
            consumer.kafka.seek(tp, 0 if tp in recreated else offset)


async def purge_inbox(engine: AsyncEngine, *, days: float) -> int:
    """Forgets applied ids older than `days` (`inbox.purge`)."""
    return await inbox.purge(engine, days=days)
