"""Keeps two processes from applying the same records when a partition changes hands.

With several projection processes in one consumer group (or two instances during a rolling
restart), a rebalance can give a partition to a new owner while the old one's batch is still in
its transaction: the new owner seeks to the stored offset, which that batch has not yet moved, and
reads the same records. The compliance and documents projectors keep no inbox and compute deltas
against the facts their statement sees, so two such transactions would both count the batch.

The fence runs first in the consumer's transaction: it locks the partitions' rows of
`consumer_offsets` (creating those not stored yet) and drops the deliveries below the stored next
offset. Whoever comes second waits for the first to commit, then sees the offset it stored and
skips what it applied; the consumer stores the new offsets at the end of the same transaction.
"""

from collections.abc import Sequence

from etalase_platform.consumer import Delivery, Projector
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

_CLAIM = text(
    "INSERT INTO consumer_offsets (consumer, topic, partition, next_offset)"
    " SELECT :consumer, t, p, 0 FROM unnest(CAST(:topics AS text[]), CAST(:partitions AS int[]))"
    " AS u(t, p) ORDER BY t, p ON CONFLICT DO NOTHING"
)
_LOCK = text(
    "SELECT topic, partition, next_offset FROM consumer_offsets"
    " WHERE consumer = :consumer AND (topic, partition) IN"
    " (SELECT * FROM unnest(CAST(:topics AS text[]), CAST(:partitions AS int[])))"
    " ORDER BY topic, partition FOR UPDATE"
)


class FencedProjector:
    """`projector`, applied only to the deliveries no other transaction of `consumer` applied."""

    def __init__(self, projector: Projector, consumer: str) -> None:
        self._projector = projector
        self._consumer = consumer

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        keys = sorted({(d.topic, d.partition) for d in deliveries})
        if not keys:
            return
        parameters = {
            "consumer": self._consumer,
            "topics": [topic for topic, _ in keys],
            "partitions": [partition for _, partition in keys],
        }
        # a row stored in this transaction only: the consumer sets its offset before commit
        await session.execute(_CLAIM, parameters)
        stored = {(t, p): o for t, p, o in await session.execute(_LOCK, parameters)}
        fresh = [d for d in deliveries if d.offset >= stored[d.topic, d.partition]]
        if fresh:
            await self._projector.apply(session, fresh)
