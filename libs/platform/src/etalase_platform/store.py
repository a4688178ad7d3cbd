"""What a consumer keeps in its service's database, and the one transaction that keeps it.

- `ConsumerStore.apply(deliveries, next_offsets)`: THE transaction of a consumer. It claims the
  deliveries' ids in the inbox (or, for a consumer without one, fences their partitions), has
  the projector apply those not applied before, stores the partitions' next offsets, and
  commits, all or nothing.
- `ConsumerStore.stored_offsets(partitions)`: where the consumer resumes;
  `ConsumerStore.restart(partitions)`: from the start, for logs recreated since.
- `forget_consumers(session, consumers)`: deletes those consumers' inbox ids and stored offsets,
  in the caller's transaction (a dropped projection generation, a consumer renamed). Signature
  stable: reporting's rebuild machinery uses it.

The pieces: `etalase_platform.inbox` (applied event ids), `etalase_platform.offsets` (next offsets),
both over the tables of `etalase_platform.tables`.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime

from aiokafka import TopicPartition
from opentelemetry.trace import INVALID_SPAN, Link, Tracer
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_platform import inbox, metrics, offsets
from etalase_platform.db import SessionFactory
from etalase_platform.delivery import Delivery
from etalase_platform.dispatch import Projector
from etalase_platform.offsets import Partition


class ConsumerStore:
    def __init__(
        self,
        sessions: SessionFactory,
        projector: Projector,
        tracer: Tracer,
        *,
        consumer: str,
        service: str,
        keeps_inbox: bool,
    ) -> None:
        """`keeps_inbox=False` for a projector that is idempotent by construction (applying an
        event again changes nothing): the stored offsets still keep redeliveries of applied
        records out, and an event published twice is simply applied twice, saving an insert
        per event.

        Without an inbox, a batch first locks its partitions' stored offsets and drops what lies
        below them. A rebalance can give a partition to a new owner (another process of the
        group, or a replica in a rolling restart) while the old owner's batch is still in its
        transaction: the new owner reads the same records from the offset that batch has not
        moved yet. With the lock, whoever comes second waits for the first to commit, then skips
        what it applied; the inbox does the same for the consumers that keep one."""
        self._sessions = sessions
        self._projector = projector
        self._tracer = tracer
        self._name = consumer
        self._inbox = inbox.Inbox(consumer) if keeps_inbox else None
        self._offsets = offsets.OffsetStore(consumer)
        self._applied = metrics.HANDLED_EVENTS.labels(service, consumer, "applied")
        self._duplicate = metrics.HANDLED_EVENTS.labels(service, consumer, "duplicate")

    async def apply(
        self,
        deliveries: Sequence[Delivery],
        next_offsets: Mapping[Partition, int],
        traced: Sequence[Delivery] | None = None,
    ) -> None:
        """`traced`: those of `deliveries` with a span of their own, when the caller knows."""
        if traced is None:
            traced = [d for d in deliveries if d.span is not INVALID_SPAN]
        # the batch's SQL nests under one span linked to every event's trace (OTel's batch form)
        links = [Link(d.span.get_span_context()) for d in traced]
        with self._tracer.start_as_current_span(f"{self._name} apply", links=links):
            async with self._sessions() as session, session.begin():
                fresh = await self._claim(session, deliveries)
                if fresh:
                    await self._projector.apply(session, fresh)
                await self._offsets.store(session, next_offsets, _last_event_times(fresh))

    async def stored_offsets(
        self, partitions: Sequence[TopicPartition]
    ) -> dict[TopicPartition, int]:
        async with self._sessions() as session:
            return await self._offsets.load(session, partitions)

    async def restart(self, partitions: Sequence[TopicPartition]) -> None:
        async with self._sessions() as session, session.begin():
            await self._offsets.restart(session, [(tp.topic, tp.partition) for tp in partitions])

    async def _claim(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> list[Delivery]:
        if not deliveries:
            return []
        if self._inbox is None:
            stored = await self._offsets.lock(session, [(d.topic, d.partition) for d in deliveries])
            fresh = [d for d in deliveries if d.offset >= stored[d.topic, d.partition]]
        else:
            fresh = await self._inbox.claim(session, deliveries)
        self._applied.inc(len(fresh))
        if len(fresh) < len(deliveries):
            self._duplicate.inc(len(deliveries) - len(fresh))
        return fresh


def _last_event_times(applied: Sequence[Delivery]) -> dict[Partition, datetime]:
    return {(d.topic, d.partition): d.time for d in applied}


async def forget_consumers(session: AsyncSession, consumers: Sequence[str]) -> None:
    await inbox.forget(session, consumers)
    await offsets.forget(session, consumers)
