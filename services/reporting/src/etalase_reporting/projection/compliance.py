"""The compliance projection: budgets and orders into budget history, order facts and deltas.

A batch costs a fixed number of statements whatever its size: one insert of the budget
allocations, and for the orders a COPY of the batch's merged order events and the one statement of
`order_merge` that folds them into the facts and the per-day deltas. It is idempotent on its own (a
budget allocation is keyed by its event id; each stage of an order keeps the event with the lowest
(sequence, event id), so re-recording an event changes no fact, hence no delta), so its
consumer runs without an inbox (`registry.PROJECTIONS`).
"""

import json
from collections.abc import Sequence
from typing import Any

import asyncpg
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

from etalase_reporting import tables
from etalase_reporting.domain import STAGES, classify
from etalase_reporting.projection.order_merge import (
    CHANGE_COLUMNS,
    PLACEMENT,
    create_changes_table,
    merge_statement,
)
from etalase_reporting.projection.unnest import Column, insert_rows, unnest_insert
from etalase_reporting.tables import typed

MAX_BIGINT = 2**63 - 1
OrderEvent = OrderPlaced | OrderAccepted | OrderCompleted | OrderCancelled
_STAGE_OF: dict[type[OrderEvent], tuple[str, str]] = {
    OrderPlaced: ("placed", "placed_at"),
    OrderAccepted: ("accepted", "accepted_at"),
    OrderCompleted: ("completed", "completed_at"),
    OrderCancelled: ("cancelled", "cancelled_at"),
}
"""The stage each order event sets, and the field of its moment."""
ORDER_EVENTS = tuple(_STAGE_OF)
_STAMP_AT = {stage: CHANGE_COLUMNS.index(f"{stage}_event_id") for stage in STAGES}
"""Where a stage's (event_id, sequence, at) begin in a row of `order_changes`."""
_PLACEMENT_AT = slice(1, 1 + len(PLACEMENT))

BUDGET_COLUMNS: list[Column] = typed(
    tables.budget_allocations, [column.name for column in tables.budget_allocations.columns]
)


class ComplianceProjector:
    """Projects BudgetAllocated and Order* events into the tables of one generation's schema;
    other events are ignored."""

    def __init__(self, schema: str) -> None:
        self._schema = schema
        self._insert_budgets = unnest_insert(
            f"{schema}.budget_allocations", BUDGET_COLUMNS, "ON CONFLICT DO NOTHING"
        )
        self._create_changes = text(create_changes_table(schema))
        self._merge = text(merge_statement(schema))

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
        changes = _order_changes(orders)
        await session.execute(self._create_changes)
        # COPY: binary rows, far cheaper to encode and to insert than a statement's arrays
        pooled = await (await session.connection()).get_raw_connection()
        driver: asyncpg.Connection = pooled.driver_connection
        await driver.copy_records_to_table("order_changes", records=changes, columns=CHANGE_COLUMNS)
        await session.execute(self._merge)


def _order_changes(orders: list[tuple[OrderEvent, Delivery]]) -> list[list[Any]]:
    """One row of `order_changes` per order: per stage the event with the lowest (sequence,
    event id) of the batch, and with the placed stage what its OrderPlaced says."""
    rows: dict[str, list[Any]] = {}
    for event, delivery in orders:
        stage, moment = _STAGE_OF[type(event)]
        if isinstance(event, OrderPlaced):
            _check_fits(event.total_idr, delivery)
        row = rows.get(event.order_id)
        if row is None:
            row = rows[event.order_id] = [event.order_id, *(None,) * (len(CHANGE_COLUMNS) - 1)]
        at = _STAMP_AT[stage]
        if row[at] is not None and (row[at + 1], row[at]) <= (delivery.sequence, delivery.event_id):
            continue
        row[at : at + 3] = (delivery.event_id, delivery.sequence, getattr(event, moment))
        if isinstance(event, OrderPlaced):
            classes = classify(event)
            row[_PLACEMENT_AT] = (
                event.fiscal_year,
                event.opd_code,
                event.region_code,
                *classes.amounts,
                classes.reserved_package_violation,
                classes.pdn_substitution_lines,
                _flagged_lines(event),
            )
    return list(rows.values())


def _flagged_lines(order: OrderPlaced) -> str:
    """The order's substitution lines and what each passed over, as the JSON the facts keep."""
    return json.dumps(
        [
            {
                "line_no": line.line_no,
                "product_id": line.product_id,
                "name": line.name,
                "category": line.category,
                "subtotal_idr": line.subtotal_idr,
                "pdn_alternatives": list(line.pdn_alternatives),
            }
            for line in order.lines
            if line.pdn_alternative_available
        ]
    )


def _check_fits(amount: int, delivery: Delivery) -> None:
    if amount > MAX_BIGINT:
        raise EventRejected(f"{delivery.event_id}: amount {amount} exceeds what can be summed")
