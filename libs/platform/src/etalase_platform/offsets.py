"""Consumer offsets in the service's database: each consumer's next offset per partition.

They are the truth a consumer resumes from (Kafka's committed offsets are a copy for operators):
stored in the transaction that applies the records, so a crash can replay nothing twice.

API (signatures stable; reporting's rebuild machinery uses the module functions):

- `OffsetStore(consumer).load(session, partitions) -> {TopicPartition: next offset}`: the stored
  offsets of those partitions that have one.
- `OffsetStore(consumer).store(session, next_offsets, last_event_times)`: in the caller's
  transaction, after applying; an offset never moves back, and a partition without an event time
  (its records all duplicates or dead letters) keeps the one it had.
- `OffsetStore(consumer).lock(session, partitions) -> {(topic, partition): next offset}`: locks
  those partitions' rows until the caller's transaction ends (creating the missing ones at 0), so
  a second transaction of the consumer over them waits, then reads what the first stored.
- `OffsetStore(consumer).restart(session, partitions)`: those partitions' next offsets back to 0,
  for a log that was recreated (its end is now below what was stored); the only way an offset
  moves back.
- `stored(session, consumers) -> list[StoredOffset]`: every stored offset of those consumers.
- `latest_event_times(session, consumers) -> {consumer: (time, age in seconds)}`: per consumer,
  the newest event time it applied, and its age by the database's clock; consumers without one
  are left out.
- `forget(session, consumers)`: deletes those consumers' offsets, in the caller's transaction.

The table is declared in `etalase_platform.tables`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from aiokafka import TopicPartition
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from etalase_platform.tables import consumer_offsets

Partition = tuple[str, int]
"""(topic, partition)"""


@dataclass(frozen=True)
class StoredOffset:
    consumer: str
    topic: str
    partition: int
    next_offset: int
    last_event_time: datetime | None


_STORE = text(
    "INSERT INTO consumer_offsets (consumer, topic, partition, next_offset,"
    " last_event_time) SELECT :consumer, * FROM unnest(CAST(:topics AS text[]),"
    " CAST(:partitions AS int[]), CAST(:offsets AS bigint[]),"
    " CAST(:times AS timestamptz[]))"
    " ON CONFLICT (consumer, topic, partition) DO UPDATE SET"
    " next_offset = greatest(consumer_offsets.next_offset, excluded.next_offset),"
    " last_event_time = coalesce(excluded.last_event_time,"
    " consumer_offsets.last_event_time), updated_at = now()"
)


_LOCK = text(
    # one statement: the missing rows are made at 0, and a no-op update of the existing ones
    # takes their row locks (waiting, like FOR UPDATE, for a transaction that holds one) and
    # returns what the last committed transaction stored
    "INSERT INTO consumer_offsets (consumer, topic, partition, next_offset)"
    " SELECT :consumer, t, p, 0 FROM unnest(CAST(:topics AS text[]), CAST(:partitions AS int[]))"
    " AS u(t, p) ORDER BY t, p"
    " ON CONFLICT (consumer, topic, partition) DO UPDATE SET"
    " next_offset = consumer_offsets.next_offset"
    " RETURNING topic, partition, next_offset"
)

_RESTART = text(
    "UPDATE consumer_offsets SET next_offset = 0, updated_at = now()"
    " WHERE consumer = :consumer AND (topic, partition) IN"
    " (SELECT * FROM unnest(CAST(:topics AS text[]), CAST(:partitions AS int[])))"
)


class OffsetStore:
    def __init__(self, consumer: str) -> None:
        self.consumer = consumer

    async def load(
        self, session: AsyncSession, partitions: Sequence[TopicPartition]
    ) -> dict[TopicPartition, int]:
        c = consumer_offsets.c
        result = await session.execute(
            select(c.topic, c.partition, c.next_offset).where(c.consumer == self.consumer)
        )
        stored = {TopicPartition(t, p): o for t, p, o in result}
        return {tp: stored[tp] for tp in partitions if tp in stored}

    async def store(
        self,
        session: AsyncSession,
        next_offsets: Mapping[Partition, int],
        last_event_times: Mapping[Partition, datetime] | None = None,
    ) -> None:
        if not next_offsets:
            return
        times = last_event_times or {}
        keys = list(next_offsets)
        await session.execute(
            _STORE,
            {
                "consumer": self.consumer,
                "topics": [topic for topic, _ in keys],
                "partitions": [partition for _, partition in keys],
                "offsets": [next_offsets[key] for key in keys],
                "times": [times.get(key) for key in keys],
            },
        )

    async def lock(
        self, session: AsyncSession, partitions: Sequence[Partition]
    ) -> dict[Partition, int]:
        keys = sorted(set(partitions))  # one order for every transaction: no deadlock
        if not keys:
            return {}
        parameters = {
            "consumer": self.consumer,
            "topics": [topic for topic, _ in keys],
            "partitions": [partition for _, partition in keys],
        }
        # a row inserted here is uncommitted, so a concurrent insert of it waits on it too
        result = await session.execute(_LOCK, parameters)
        return {(topic, partition): offset for topic, partition, offset in result}

    async def restart(self, session: AsyncSession, partitions: Sequence[Partition]) -> None:
        await session.execute(
            _RESTART,
            {
                "consumer": self.consumer,
                "topics": [topic for topic, _ in partitions],
                "partitions": [partition for _, partition in partitions],
            },
        )


async def stored(session: AsyncSession, consumers: Sequence[str]) -> list[StoredOffset]:
    c = consumer_offsets.c
    result = await session.execute(
        select(c.consumer, c.topic, c.partition, c.next_offset, c.last_event_time).where(
            c.consumer.in_(list(consumers))
        )
    )
    return [StoredOffset(*row) for row in result]


async def latest_event_times(
    session: AsyncSession, consumers: Sequence[str]
) -> dict[str, tuple[datetime, float]]:
    c = consumer_offsets.c
    last = func.max(c.last_event_time)
    result = await session.execute(
        select(c.consumer, last, func.extract("epoch", func.now() - last))
        .where(c.consumer.in_(list(consumers)), c.last_event_time.is_not(None))
        .group_by(c.consumer)
    )
    return {consumer: (time, float(age)) for consumer, time, age in result}


async def forget(session: AsyncSession, consumers: Sequence[str]) -> None:
    await session.execute(
        delete(consumer_offsets).where(consumer_offsets.c.consumer.in_(list(consumers)))
    )
