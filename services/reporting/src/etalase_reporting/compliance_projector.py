"""The compliance projection: budgets and orders into budget history, order facts and deltas.

A batch costs a fixed number of statements whatever its size: one insert of the budget
allocations, one read of the facts of the orders it touches, one upsert of those facts and one
additive upsert of the per-day deltas. It is idempotent on its own (a budget allocation is keyed
by its event id; re-recording an order event leaves the fact, hence the deltas, unchanged), so the
inbox in front of it is a saving, not a necessity.
"""

from collections.abc import Sequence
from typing import Any

from etalase_events.models import (
    BudgetAllocated,
    OrderAccepted,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
)
from etalase_platform.consumer import Delivery, EventRejected
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_reporting.domain import MEASURES, OrderClasses
from etalase_reporting.sql import Column, insert_rows, unnest_insert
from etalase_reporting.timeline import (
    COLUMNS,
    Deltas,
    OrderEvent,
    OrderFact,
    Placement,
    Stamp,
)

MAX_BIGINT = 2**63 - 1
ORDER_EVENTS = (OrderPlaced, OrderAccepted, OrderCompleted, OrderCancelled)
STAGES = ("placed", "accepted", "completed", "cancelled")

BUDGET_COLUMNS: list[Column] = [
    ("fiscal_year", "integer"),
    ("opd_code", "text"),
    ("event_id", "text"),
    ("sequence", "integer"),
    ("allocated_at", "timestamptz"),
    ("opd_name", "text"),
    ("region_code", "text"),
    ("pagu_idr", "bigint"),
]
FACT_COLUMNS: list[Column] = [
    ("order_id", "text"),
    ("fiscal_year", "integer"),
    ("opd_code", "text"),
    ("region_code", "text"),
    *((name, "bigint") for name in MEASURES[1:]),
    ("reserved_package_violation", "boolean"),
    ("pdn_substitution_lines", "integer"),
    *(
        column
        for stage in STAGES
        for column in (
            (f"{stage}_event_id", "text"),
            (f"{stage}_sequence", "integer"),
            (f"{stage}_at", "timestamptz"),
        )
    ),
    ("placed_day", "date"),
    ("uncounted_day", "date"),
    ("realized_day", "date"),
]
DELTA_COLUMNS: list[Column] = [
    ("fiscal_year", "integer"),
    ("opd_code", "text"),
    ("day", "date"),
    ("region_code", "text"),
    *((name, "bigint") for name in COLUMNS),
]


class ComplianceProjector:
    """Projects BudgetAllocated and Order* events into the tables of one generation's schema;
    other events are ignored."""

    def __init__(self, schema: str) -> None:
        self._schema = schema
        self._insert_budgets = unnest_insert(
            f"{schema}.budget_allocations", BUDGET_COLUMNS, "ON CONFLICT DO NOTHING"
        )
        overwrite = ", ".join(f"{name} = excluded.{name}" for name, _ in FACT_COLUMNS[1:])
        self._upsert_facts = unnest_insert(
            f"{schema}.order_facts",
            FACT_COLUMNS,
            f"ON CONFLICT (order_id) DO UPDATE SET {overwrite}",
        )
        add = ", ".join(f"{name} = d.{name} + excluded.{name}" for name in COLUMNS)
        self._add_deltas = unnest_insert(
            f"{schema}.compliance_deltas AS d",
            DELTA_COLUMNS,
            f"ON CONFLICT (fiscal_year, opd_code, day) DO UPDATE SET {add}",
        )
        names = ", ".join(name for name, _ in FACT_COLUMNS)
        self._load_facts = text(
            f"SELECT {names} FROM {schema}.order_facts WHERE order_id = ANY(CAST(:ids AS text[]))"
        )

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        budgets: list[tuple[BudgetAllocated, Delivery]] = []
        orders: list[tuple[OrderEvent, Delivery]] = []
        for delivery in deliveries:
            event = delivery.event
            if isinstance(event, BudgetAllocated):
                budgets.append((event, delivery))
            elif isinstance(event, ORDER_EVENTS):
                orders.append((event, delivery))
        if budgets:
            await self._record_budgets(session, budgets)
        if orders:
            await self._record_orders(session, orders)

    async def _record_budgets(
        self, session: AsyncSession, budgets: list[tuple[BudgetAllocated, Delivery]]
    ) -> None:
        rows: dict[str, tuple[Any, ...]] = {}
        for event, delivery in budgets:
            _check_fits(event.pagu_idr, delivery)
            rows[delivery.event_id] = (
                event.fiscal_year,
                event.opd_code,
                delivery.event_id,
                delivery.sequence,
                event.allocated_at,
                event.opd_name,
                event.region_code,
                event.pagu_idr,
            )
        await insert_rows(
            session, self._insert_budgets, BUDGET_COLUMNS, list(rows.values()), key_width=3
        )

    async def _record_orders(
        self, session: AsyncSession, orders: list[tuple[OrderEvent, Delivery]]
    ) -> None:
        ids = sorted({event.order_id for event, _ in orders})
        old = {fact.order_id: fact for fact in await self._facts(session, ids)}
        new = dict(old)
        for event, delivery in orders:
            if isinstance(event, OrderPlaced):
                _check_fits(event.total_idr, delivery)
            fact = new.get(event.order_id) or OrderFact(event.order_id)
            new[event.order_id] = fact.record(event, delivery.event_id, delivery.sequence)
        changed = [fact for order_id, fact in new.items() if fact != old.get(order_id)]
        if not changed:
            return
        deltas = Deltas()
        for fact in changed:
            deltas.change(old.get(fact.order_id), fact)
        regions = {
            (p.fiscal_year, p.opd_code): p.region_code
            for fact in [*old.values(), *changed]
            if (p := fact.placed) is not None
        }
        await insert_rows(
            session, self._upsert_facts, FACT_COLUMNS, [_fact_row(f) for f in changed]
        )
        rows = deltas.nonzero()
        await insert_rows(
            session,
            self._add_deltas,
            DELTA_COLUMNS,
            [(fy, opd, day, regions[fy, opd], *v) for (fy, opd, day), v in rows.items()],
            key_width=3,
        )

    async def _facts(self, session: AsyncSession, ids: list[str]) -> list[OrderFact]:
        rows = await session.execute(self._load_facts, {"ids": ids})
        return [_fact(row._mapping) for row in rows]


def _check_fits(amount: int, delivery: Delivery) -> None:
    if amount > MAX_BIGINT:
        raise EventRejected(f"{delivery.event_id}: amount {amount} exceeds what can be summed")


def _stamp(row: Any, stage: str) -> Stamp | None:
    event_id = row[f"{stage}_event_id"]
    if event_id is None:
        return None
    return Stamp(event_id, row[f"{stage}_sequence"], row[f"{stage}_at"])


def _fact(row: Any) -> OrderFact:
    placed_stamp = _stamp(row, "placed")
    placement = None
    if placed_stamp is not None:
        classes = OrderClasses(
            amounts=tuple(row[name] for name in MEASURES[1:]),
            reserved_package_violation=row["reserved_package_violation"],
            pdn_substitution_lines=row["pdn_substitution_lines"],
        )
        placement = Placement(
            row["fiscal_year"], row["opd_code"], row["region_code"], classes, placed_stamp
        )
    return OrderFact(
        order_id=row["order_id"],
        placed=placement,
        accepted=_stamp(row, "accepted"),
        completed=_stamp(row, "completed"),
        cancelled=_stamp(row, "cancelled"),
    )


def _fact_row(fact: OrderFact) -> tuple[Any, ...]:
    placement = fact.placed
    if placement is None:
        head: tuple[Any, ...] = (None,) * (3 + len(MEASURES) - 1 + 2)
    else:
        classes = placement.classes
        head = (
            placement.fiscal_year,
            placement.opd_code,
            placement.region_code,
            *classes.amounts,
            classes.reserved_package_violation,
            classes.pdn_substitution_lines,
        )
    stamps: list[Any] = []
    for stamp in (
        placement.stamp if placement else None,
        fact.accepted,
        fact.completed,
        fact.cancelled,
    ):
        stamps += (
            [None, None, None] if stamp is None else [stamp.event_id, stamp.sequence, stamp.at]
        )
    return (
        fact.order_id,
        *head,
        *stamps,
        fact.placed_day,
        fact.uncounted_day,
        fact.realized_day,
    )
