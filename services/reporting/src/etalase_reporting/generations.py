"""Generations of the projection tables: each lives in its own PostgreSQL schema.

One generation is `live` (queries read it), at most one is `building` (a rebuild replaying the log
beside it), and older ones are `retired`. Switching is one UPDATE of `projection_generations`, so a
query sees either the old tables or the new ones, never a mix. The projection tables are created
with their generation (not by Alembic): changing them means deploying and rebuilding.
"""

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_reporting import documents
from etalase_reporting.domain import MEASURES, STAGES
from etalase_reporting.timeline import COLUMNS

_LOCK = 0x0E7A_5E9  # pg_advisory_xact_lock key: one generation change at a time


TABLES = (
    "budget_allocations",
    "order_facts",
    "compliance_deltas",
    "vendors",
    "products",
    *documents.TABLES,
)
"""The tables of a generation, in the order the projectors write them."""


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


def projection_ddl(schema: str) -> list[str]:
    amounts = ", ".join(f"{name} bigint" for name in MEASURES[1:])
    stages = ", ".join(
        f"{stage}_event_id text, {stage}_sequence integer, {stage}_at timestamptz"
        for stage in STAGES
    )
    vector = ", ".join(f"{name} bigint NOT NULL DEFAULT 0" for name in COLUMNS)
    return [
        f"CREATE SCHEMA {schema}",
        f"""CREATE TABLE {schema}.budget_allocations (
            fiscal_year integer NOT NULL, opd_code text NOT NULL, event_id text NOT NULL,
            sequence integer NOT NULL, allocated_at timestamptz NOT NULL, opd_name text NOT NULL,
            region_code text NOT NULL, pagu_idr bigint NOT NULL,
            PRIMARY KEY (fiscal_year, opd_code, event_id))""",
        f"""CREATE INDEX ON {schema}.budget_allocations
            (fiscal_year, opd_code, allocated_at DESC, sequence DESC)""",
        f"""CREATE TABLE {schema}.order_facts (
            order_id text PRIMARY KEY, fiscal_year integer, opd_code text, region_code text,
            {amounts}, reserved_package_violation boolean,
            pdn_substitution_lines integer, flagged_lines jsonb, {stages},
            placed_day date, uncounted_day date, realized_day date)""",
        f"CREATE INDEX ON {schema}.order_facts (fiscal_year, opd_code, placed_day)",
        f"""CREATE TABLE {schema}.compliance_deltas (
            fiscal_year integer NOT NULL, opd_code text NOT NULL, day date NOT NULL,
            region_code text NOT NULL, {vector},
            PRIMARY KEY (fiscal_year, opd_code, day))""",
        f"""CREATE TABLE {schema}.vendors (
            vendor_id text PRIMARY KEY, region_code text, region_code_seq integer,
            scale text, scale_seq integer, legal_form text, legal_form_seq integer,
            channel text, channel_seq integer, status text, status_seq integer)""",
        f"CREATE INDEX ON {schema}.vendors (region_code)",
        f"""CREATE TABLE {schema}.products (
            product_id text PRIMARY KEY, vendor_id text, catalog text, catalog_region_code text,
            category text, domestic boolean, vendor_scale text, vendor_legal_form text,
            vendor_region_code text, listed_seq integer, tkdn_pct numeric(5, 2),
            bmp_pct numeric(5, 2), tkdn_seq integer, status text, status_seq integer)""",
        f"CREATE INDEX ON {schema}.products (vendor_id)",
        f"CREATE INDEX ON {schema}.products (vendor_region_code)",
        f"CREATE INDEX ON {schema}.products (catalog_region_code)",
        *documents.ddl(schema),
    ]


async def create_projection_tables(session: AsyncSession, schema: str) -> None:
    for statement in projection_ddl(schema):
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
    rows = await session.execute(
        text(
            "SELECT generation, status, group_token, log_end, started_at, live_since, retired_at"
            " FROM projection_generations ORDER BY generation"
        )
    )
    return [_generation(row) for row in rows]


async def live_schema(session: AsyncSession) -> str | None:
    number = await session.scalar(
        text("SELECT generation FROM projection_generations WHERE status = 'live'")
    )
    return None if number is None else schema_name(int(number))


async def create_generation(session: AsyncSession, status: Status, log_end: LogEnd) -> Generation:
    """A new generation with empty tables; the caller holds `lock`."""
    number = int(
        await session.scalar(
            text("SELECT coalesce(max(generation), 0) + 1 FROM projection_generations")
        )
        or 1
    )
    await create_projection_tables(session, schema_name(number))
    row = (
        await session.execute(
            text(
                "INSERT INTO projection_generations (generation, status, group_token, log_end,"
                " live_since) VALUES (:number, :status, :token, CAST(:log_end AS jsonb),"
                " CASE WHEN :status = 'live' THEN now() END) RETURNING generation, status,"
                " group_token, log_end, started_at, live_since, retired_at"
            ),
            {
                "number": number,
                "status": status.value,
                "token": secrets.token_hex(4),
                "log_end": json.dumps(log_end),
            },
        )
    ).one()
    return _generation(row)


async def freeze(session: AsyncSession, schema: str) -> None:
    """Block writes to a generation's tables until the transaction ends; reads go on. Locked in
    the order the projectors write them, so a batch in flight finishes first."""
    tables = ", ".join(f"{schema}.{table}" for table in TABLES)
    await session.execute(text(f"LOCK TABLE {tables} IN SHARE MODE"))


async def promote(session: AsyncSession, building: Generation, live: Generation | None) -> None:
    """Make `building` the live generation, in the caller's transaction."""
    if live is not None:
        await session.execute(
            text(
                "UPDATE projection_generations SET status = 'retired', retired_at = now()"
                " WHERE generation = :number"
            ),
            {"number": live.number},
        )
    await session.execute(
        text(
            "UPDATE projection_generations SET status = 'live', live_since = now()"
            " WHERE generation = :number"
        ),
        {"number": building.number},
    )


async def drop_generation(
    session: AsyncSession, generation: Generation, consumers: list[str]
) -> None:
    """Remove a retired generation: its tables, and its consumers' inbox and offsets."""
    await session.execute(text(f"DROP SCHEMA IF EXISTS {generation.schema} CASCADE"))
    for table in ("inbox", "consumer_offsets"):
        await session.execute(
            text(f"DELETE FROM {table} WHERE consumer = ANY(CAST(:names AS text[]))"),
            {"names": consumers},
        )
    await session.execute(
        text("DELETE FROM projection_generations WHERE generation = :number"),
        {"number": generation.number},
    )
