"""The platform's tables and the store API over them, against real PostgreSQL."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import TopicPartition
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from etalase_platform import inbox, offsets, store, tables
from etalase_platform.db import create_engine, session_factory, upgrade_to_head
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers import DatabaseFactory
from tests.platform.support import MIGRATIONS

pytestmark = pytest.mark.infra


@dataclass(frozen=True)
class _Event:
    event_id: str
    topic: str = "t"
    partition: int = 0
    offset: int = 0


async def _migrated(new_database: DatabaseFactory) -> AsyncEngine:
    url = await new_database("store")
    await upgrade_to_head(MIGRATIONS, url)
    return create_engine(url)


async def test_the_migrated_platform_tables_are_the_declared_ones(
    new_database: DatabaseFactory,
) -> None:
    engine = await _migrated(new_database)

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [d for d in compare_metadata(context, tables.metadata) if d[0] != "remove_table"]

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
        indexes = await connection.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'outbox_unpublished'")
        )
        assert "WHERE (published_at IS NULL)" in indexes.scalar_one()
    await engine.dispose()


async def test_the_inbox_returns_only_ids_not_claimed_before_and_forgets_per_consumer(
    new_database: DatabaseFactory,
) -> None:
    engine = await _migrated(new_database)
    sessions = session_factory(engine)
    a, b, c = _Event("a", offset=1), _Event("b", offset=2), _Event("c", offset=3)
    async with sessions() as session, session.begin():
        assert await inbox.Inbox("one").claim(session, [a, b, a]) == [a, b]
        assert await inbox.Inbox("two").claim(session, [a]) == [a]
    async with sessions() as session, session.begin():
        assert await inbox.Inbox("one").claim(session, [b, c]) == [c]
        await inbox.forget(session, ["one"])
    async with sessions() as session, session.begin():
        assert await inbox.Inbox("one").claim(session, [a]) == [a]
        assert await inbox.Inbox("two").claim(session, [a]) == []
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE inbox SET applied_at = now() - interval '3 days' WHERE consumer = 'two'")
        )
    assert await inbox.purge(engine, days=2) == 1
    async with sessions() as session, session.begin():
        assert await inbox.Inbox("two").claim(session, [a]) == [a]
    await engine.dispose()


async def test_offsets_never_move_back_keep_their_event_time_and_are_forgotten_per_consumer(
    new_database: DatabaseFactory,
) -> None:
    engine = await _migrated(new_database)
    sessions = session_factory(engine)
    first = datetime(2026, 1, 1, tzinfo=UTC)
    one, two = offsets.OffsetStore("one"), offsets.OffsetStore("two")
    async with sessions() as session, session.begin():
        await one.store(session, {("t", 0): 10, ("t", 1): 4}, {("t", 0): first})
        await two.store(session, {("t", 0): 7}, {("t", 0): first - timedelta(days=1)})
    async with sessions() as session, session.begin():
        await one.store(session, {("t", 0): 8, ("t", 1): 5})  # a replay: offset 8 < 10 stays
    async with sessions() as session:
        assert await one.load(session, [TopicPartition("t", 0), TopicPartition("u", 0)]) == {
            TopicPartition("t", 0): 10
        }
        rows = sorted(await offsets.stored(session, ["one", "two"]), key=str)
        assert [(r.consumer, r.partition, r.next_offset, r.last_event_time) for r in rows] == [
            ("one", 0, 10, first),
            ("one", 1, 5, None),
            ("two", 0, 7, first - timedelta(days=1)),
        ]
        latest = await offsets.latest_event_times(session, ["one", "two", "three"])
        assert {name: time for name, (time, _) in latest.items()} == {
            "one": first,
            "two": first - timedelta(days=1),
        }
        assert latest["two"][1] - latest["one"][1] == pytest.approx(86400, abs=60)
    async with sessions() as session, session.begin():
        await inbox.Inbox("one").claim(session, [_Event("a")])
        await inbox.Inbox("two").claim(session, [_Event("a")])
        await store.forget_consumers(session, ["one"])
    async with sessions() as session, session.begin():
        assert [r.consumer for r in await offsets.stored(session, ["one", "two"])] == ["two"]
        assert await inbox.Inbox("one").claim(session, [_Event("a")]) == [_Event("a")]
        assert await inbox.Inbox("two").claim(session, [_Event("a")]) == []
    await engine.dispose()
