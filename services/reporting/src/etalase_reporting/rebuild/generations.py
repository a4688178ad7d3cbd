"""Generations of the projection tables: each lives in its own PostgreSQL schema.

One generation is `live` (queries read it), at most one is `building` (a rebuild replaying the log
beside it), and older ones are `retired`. Switching is one UPDATE of `projection_generations`, so a
query sees either the old tables or the new ones, never a mix. The projection tables are created
with their generation from their declarations in `tables` (not by Alembic): changing them means
deploying and rebuilding.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from etalase_platform.store import forget_consumers
from sqlalchemy import delete, func, insert, select, text, update
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_reporting import tables
from etalase_reporting.tables import projection_generations as generations

_LOCK = 0x0E7A_5E9  # pg_advisory_xact_lock key: one generation change at a time


class Status(StrEnum):
    BUILDING = "building"
    LIVE = "live"
    RETIRED = "retired"


LogEnd = dict[str, dict[int, tuple[int, int]]]
"""topic → partition → (beginning offset, end offset), captured when a rebuild starts."""


@dataclass(frozen=True)
class Generation:
    number: int
    status: Status
    token: str
    """Part of the Kafka group ids, so that a group never resumes an older database's offsets."""
    log_end: LogEnd
    started_at: datetime
    live_since: datetime | None
    retired_at: datetime | None

    @property
    def schema(self) -> str:
        return schema_name(self.number)


def schema_name(number: int) -> str:
    return f"reporting_g{number}"


async def create_projection_tables(session: AsyncSession, schema: str) -> None:
    await session.execute(text(f"CREATE SCHEMA {schema}"))
    await complete_projection_tables(session, schema)


async def complete_projection_tables(session: AsyncSession, schema: str) -> None:
    """Creates what `tables` declares and the generation's schema lacks: all of it for a new
    generation; for one made by an earlier release, the tables of projections added since
    (their consumers then fill them from the start of the log), before any of its consumers
    starts. Only missing tables get DDL: a CREATE INDEX, even one IF NOT EXISTS, would first
    lock an existing table against the writes of the generation's consumers in other processes.
    The caller holds `lock`, so two instances starting one generation do not both create."""
    existing = set(
        (
            await session.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"),
                {"schema": schema},
            )
        ).scalars()
    )
    missing = [table for table in tables.TABLES if table.name not in existing]
    for statement in tables.ddl(schema, missing):
        await session.execute(text(statement))


async def lock(session: AsyncSession) -> None:
    """Serialise generation changes across instances, until the transaction ends."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})


def _generation(row: Any) -> Generation:
    log_end = {
        topic: {int(p): (int(begin), int(end)) for p, (begin, end) in partitions.items()}
        for topic, partitions in (row.log_end or {}).items()
    }
    return Generation(
        number=row.generation,
        status=Status(row.status),
        token=row.group_token,
        log_end=log_end,
        started_at=row.started_at,
        live_since=row.live_since,
        retired_at=row.retired_at,
    )


async def all_generations(session: AsyncSession) -> list[Generation]:
    rows = await session.execute(select(generations).order_by(generations.c.generation))
    return [_generation(row) for row in rows]


async def live_schema(session: AsyncSession) -> str | None:
    number = await session.scalar(
        select(generations.c.generation).where(generations.c.status == Status.LIVE.value)
    )
    return None if number is None else schema_name(int(number))


async def create_generation(session: AsyncSession, status: Status, log_end: LogEnd) -> Generation:
    """A new generation with empty tables; the caller holds `lock`."""
    number = int(
        await session.scalar(select(func.coalesce(func.max(generations.c.generation), 0) + 1)) or 1
    )
    await create_projection_tables(session, schema_name(number))
    row = (
        await session.execute(
            insert(generations)
            .values(
                generation=number,
                status=status.value,
                group_token=secrets.token_hex(4),
                log_end=log_end,
                live_since=func.now() if status is Status.LIVE else None,
            )
            .returning(*generations.columns)
        )
    ).one()
    return _generation(row)


async def freeze(session: AsyncSession, schema: str) -> None:
    """Block writes to a generation's tables until the transaction ends; reads go on. Locked in
    the order the projectors write them, so a batch in flight finishes first."""
    names = ", ".join(f"{schema}.{table.name}" for table in tables.TABLES)
    await session.execute(text(f"LOCK TABLE {names} IN SHARE MODE"))


async def promote(session: AsyncSession, building: Generation, live: Generation | None) -> None:
    """Make `building` the live generation, in the caller's transaction."""
    if live is not None:
        await session.execute(
            update(generations)
            .where(generations.c.generation == live.number)
            .values(status=Status.RETIRED.value, retired_at=func.now())
        )
    await session.execute(
        update(generations)
        .where(generations.c.generation == building.number)
        .values(status=Status.LIVE.value, live_since=func.now())
    )


async def drop_generation(
    session: AsyncSession, generation: Generation, consumers: list[str]
) -> None:
    """Remove a retired generation: its tables, and its consumers' inbox and offsets."""
    await session.execute(text(f"DROP SCHEMA IF EXISTS {generation.schema} CASCADE"))
    await forget_consumers(session, consumers)
    await session.execute(delete(generations).where(generations.c.generation == generation.number))
