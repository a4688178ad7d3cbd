"""The inbox: the event ids each consumer has applied, so that an event delivered again (a
redelivery, or the same event published twice) is applied once.

API (signatures stable; reporting's rebuild machinery uses the module functions):

- `Inbox(consumer).claim(session, deliveries) -> list[delivery]`: records the ids in the caller's
  transaction and returns the deliveries not applied before, in their order; a repeat inside the
  batch counts once (its first occurrence).
- `forget(session, consumers)`: deletes the consumers' ids, in the caller's transaction.
- `purge(engine, days=...) -> int`: deletes ids applied more than `days` ago, in a transaction
  of its own; returns how many.

The table is declared in `etalase_platform.tables`.
"""

from collections.abc import Sequence
from typing import Protocol, TypeVar

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from etalase_platform.tables import inbox


class Claimable(Protocol):
    """Where an event came from: what the inbox records beside its id."""

    @property
    def event_id(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...


C = TypeVar("C", bound=Claimable)

# one statement per batch, its rows as arrays, the inserted ids back as one array: a round trip,
# a plan and a row, whatever the batch size
_CLAIM = text(
    'WITH inserted AS (INSERT INTO inbox (consumer, event_id, topic, partition, "offset")'
    " SELECT :consumer, * FROM unnest(CAST(:ids AS text[]),"
    " CAST(:topics AS text[]), CAST(:partitions AS int[]),"
    " CAST(:offsets AS bigint[])) ON CONFLICT DO NOTHING RETURNING event_id)"
    " SELECT coalesce(array_agg(event_id), '{}') FROM inserted"
)


class Inbox:
    def __init__(self, consumer: str) -> None:
        self.consumer = consumer

    async def claim(self, session: AsyncSession, deliveries: Sequence[C]) -> list[C]:
        if not deliveries:
            return []
        result = await session.execute(
            _CLAIM,
            {
                "consumer": self.consumer,
                "ids": [d.event_id for d in deliveries],
                "topics": [d.topic for d in deliveries],
                "partitions": [d.partition for d in deliveries],
                "offsets": [d.offset for d in deliveries],
            },
        )
        inserted = set(result.scalar_one())
        if len(inserted) == len(deliveries):
            return list(deliveries)  # the common case: nothing seen before, no repeat
        fresh = []
        for delivery in deliveries:
            if delivery.event_id in inserted:
                inserted.discard(delivery.event_id)  # a repeat inside the batch comes later
                fresh.append(delivery)
        return fresh


async def forget(session: AsyncSession, consumers: Sequence[str]) -> None:
    await session.execute(delete(inbox).where(inbox.c.consumer.in_(list(consumers))))


async def purge(engine: AsyncEngine, *, days: float) -> int:
    """By then the stored offsets alone keep a redelivery from being applied again."""
    async with engine.begin() as connection:
        result = await connection.execute(
            text("DELETE FROM inbox WHERE applied_at < now() - make_interval(secs => :seconds)"),
            {"seconds": days * 86400},
        )
    return int(result.rowcount)
