"""Reads of the live generation: every answer comes from the projection tables, never the log.

Each request reads in one REPEATABLE READ snapshot, so the generation pointer and the figures it
points at come from the same moment.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from etalase_platform.db import SessionFactory
from etalase_platform.problems import Problem
from etalase_platform.scope import covered_by_sql
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_reporting.domain import DAY_RULES, MEASURES, STAGES, counted, day_rule
from etalase_reporting.rebuild.generations import live_schema
from etalase_reporting.timeline import COLUMNS, end_of_day, wib_day


class NotReady(Problem):
    status = 503
    title = "Projections not ready"


@dataclass(frozen=True)
class View:
    session: AsyncSession
    schema: str


@asynccontextmanager
async def live_view(sessions: SessionFactory) -> AsyncIterator[View]:
    async with sessions() as session:
        await session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
        schema = await live_schema(session)
        if schema is None:
            raise NotReady("no projection generation is live yet")
        yield View(session, schema)


@dataclass(frozen=True)
class Filter:
    """Which rows a caller may see and asked for: a region (itself and, for a province, its
    kab/kota) and an OPD."""

    region: str | None = None
    opd: str | None = None


REGION_MATCH = covered_by_sql("{column}")


@dataclass(frozen=True)
class OpdRow:
    opd_code: str
    opd_name: str | None
    region_code: str
    pagu_idr: int
    sums: dict[str, int]
    """The summed delta columns (`timeline.COLUMNS`)."""


def _opd_sql(schema: str) -> str:
    in_region = REGION_MATCH.format(column="region_code")
    sums = ", ".join(f"sum({name})::bigint AS {name}" for name in COLUMNS)
    values = ", ".join(f"coalesce(s.{name}, 0) AS {name}" for name in COLUMNS)
    latest = "ORDER BY opd_code, allocated_at DESC, sequence DESC, event_id DESC"
    return f"""
    WITH known AS (
        SELECT DISTINCT ON (opd_code) opd_code, opd_name, region_code
        FROM {schema}.budget_allocations
        WHERE fiscal_year = :fy AND {in_region} {latest}
    ), budgets AS (
        SELECT DISTINCT ON (opd_code) opd_code, pagu_idr
        FROM {schema}.budget_allocations
        WHERE fiscal_year = :fy AND {in_region}
          AND (CAST(:cutoff AS timestamptz) IS NULL OR allocated_at < :cutoff) {latest}
    ), s AS (
        SELECT opd_code, min(region_code) AS region_code, {sums}
        FROM {schema}.compliance_deltas
        WHERE fiscal_year = :fy AND {in_region}
          AND (CAST(:day AS date) IS NULL OR day <= :day)
        GROUP BY opd_code
    )
    SELECT o.opd_code, k.opd_name, coalesce(k.region_code, s.region_code) AS region_code,
           coalesce(b.pagu_idr, 0) AS pagu_idr, {values}
    FROM (SELECT opd_code FROM budgets UNION SELECT opd_code FROM s WHERE activity > 0) AS o
    LEFT JOIN budgets AS b USING (opd_code)
    LEFT JOIN known AS k USING (opd_code)
    LEFT JOIN s USING (opd_code)
    WHERE CAST(:opd AS text) IS NULL OR o.opd_code = :opd
    ORDER BY o.opd_code"""


async def opd_rows(view: View, fiscal_year: int, as_of: date | None, scope: Filter) -> list[OpdRow]:
    """One row per OPD with a budget or an order event by the end of `as_of` (now if None)."""
    rows = await view.session.execute(
        text(_opd_sql(view.schema)),
        {
            "fy": fiscal_year,
            "region": scope.region,
            "opd": scope.opd,
            "day": as_of,
            "cutoff": end_of_day(as_of) if as_of else None,
        },
    )
    return [
        OpdRow(
            opd_code=row.opd_code,
            opd_name=row.opd_name,
            region_code=row.region_code,
            pagu_idr=row.pagu_idr,
            sums=dict(zip(COLUMNS, row[-len(COLUMNS) :], strict=True)),  # the last, as bigint
        )
        for row in rows
    ]


async def opd_region(view: View, fiscal_year: int, opd_code: str) -> str | None:
    """The region of an OPD known for the year, from its budget or its orders."""
    found = await view.session.scalar(
        text(
            f"SELECT region_code FROM {view.schema}.budget_allocations"
            " WHERE fiscal_year = :fy AND opd_code = :opd"
            f" UNION ALL SELECT region_code FROM {view.schema}.order_facts"
            " WHERE fiscal_year = :fy AND opd_code = :opd LIMIT 1"
        ),
        {"fy": fiscal_year, "opd": opd_code},
    )
    return None if found is None else str(found)


@dataclass(frozen=True)
class OrderRow:
    order_id: str
    amounts: dict[str, int]
    events: dict[str, tuple[str, datetime] | None]
    """stage → (event id, time) for placed, accepted, completed, cancelled."""
    counted_as_placed: bool
    counted_as_realized: bool
    flagged_lines: list[dict[str, Any]] | None
    """The substitution lines with the alternatives they passed over; None for a fact projected
    before they were kept (a rebuild fills it in)."""


_DAYS = ", ".join(rule.column for rule in DAY_RULES)
_COUNTED_BY = " OR ".join(
    f"{rule.column} <= :day" for rule in DAY_RULES if rule.placed > 0 or rule.realized > 0
)
"""An order is behind an OPD's figures as of a day once one of its days adding to them came."""


async def order_rows(
    view: View, fiscal_year: int, opd_code: str, as_of: date | None, limit: int, offset: int
) -> tuple[list[OrderRow], int]:
    """The orders behind an OPD's figures as of a day, with the events that counted them."""
    stages = ", ".join(f"{stage}_event_id, {stage}_at" for stage in STAGES)
    amounts = ", ".join(MEASURES[1:])
    rows = list(
        await view.session.execute(
            text(
                f"SELECT order_id, {amounts}, {stages}, {_DAYS}, flagged_lines,"
                f" count(*) OVER () AS total FROM {view.schema}.order_facts"
                " WHERE fiscal_year = :fy AND opd_code = :opd AND (CAST(:day AS date) IS NULL"
                f" OR {_COUNTED_BY})"
                " ORDER BY placed_at, order_id LIMIT :limit OFFSET :offset"
            ),
            {"fy": fiscal_year, "opd": opd_code, "day": as_of, "limit": limit, "offset": offset},
        )
    )
    total = rows[0].total if rows else await _count_orders(view, fiscal_year, opd_code, as_of)
    return [_order_row(row._mapping, as_of) for row in rows], total


async def _count_orders(view: View, fiscal_year: int, opd_code: str, as_of: date | None) -> int:
    count = await view.session.scalar(
        text(
            f"SELECT count(*) FROM {view.schema}.order_facts WHERE fiscal_year = :fy"
            f" AND opd_code = :opd AND (CAST(:day AS date) IS NULL OR {_COUNTED_BY})"
        ),
        {"fy": fiscal_year, "opd": opd_code, "day": as_of},
    )
    return int(count or 0)


def _order_row(row: Any, as_of: date | None) -> OrderRow:
    days = {rule.column: row[rule.column] for rule in DAY_RULES}

    def event(stage: str) -> tuple[str, datetime] | None:
        """The stage's event, once the day it counts on (its own day if none) has come."""
        event_id, at = row[f"{stage}_event_id"], row[f"{stage}_at"]
        if event_id is None:
            return None
        rule = day_rule(stage)
        day = days[rule.column] if rule is not None else wib_day(at)
        return (event_id, at) if day is not None and (as_of is None or day <= as_of) else None

    placed, realized = counted(days, as_of)
    return OrderRow(
        order_id=row["order_id"],
        amounts={name: row[name] for name in MEASURES[1:]},
        events={stage: event(stage) for stage in STAGES},
        counted_as_placed=placed,
        counted_as_realized=realized,
        flagged_lines=_json(row["flagged_lines"]),
    )


def _json(value: Any) -> Any:
    # asyncpg hands jsonb over as text unless a codec is set
    return json.loads(value) if isinstance(value, str) else value
