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
from etalase_platform.consumer import Delivery, EventRejected, of_type
from etalase_platform.driver import DriverStatement
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
_STAMP_AT = {stage: CHANGE_COLUMNS.index(f"{stage}_event_id") for stage in STAGES}
"""Where a stage's (event_id, sequence, at) begin in a row of `order_changes`."""
_PLACEMENT_AT = slice(1, 1 + len(PLACEMENT))
_UNSET = (None,) * (len(CHANGE_COLUMNS) - 1)
_NO_FLAGGED_LINES = "[]"
PLANNED_FROM_ORDERS = 200
"""From how many orders a batch's merge is planned for that batch rather than run as the plan
prepared once per connection. A prepared plan is kept until the tables' statistics change, and one
made on a new generation's empty tables read every fact for every batch of a catch-up until
autovacuum's first ANALYZE (340 ms a batch at batch 50 against 25 ms). Planning costs 1.6 ms: a
few per cent of a catch-up's batch, but it made the batches of a few events of live traffic (and
bench's naive figure) 60 % dearer, and their tables grow slowly enough for autovacuum to keep up."""

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
        merge = text(merge_statement(schema))
        self._prepared_merge = merge
        # without parameters, the driver sends it as a simple query: planned for its batch
        self._planned_merge = DriverStatement(merge)

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        budgets = of_type(deliveries, BudgetAllocated)
        if budgets:
            await self._record_budgets(session, budgets)
        changes = _order_changes(deliveries)
        if changes:
            await self._record_orders(session, changes)

    async def _record_budgets(
        self, session: AsyncSession, budgets: list[Delivery[BudgetAllocated]]
    ) -> None:
        rows: dict[str, tuple[Any, ...]] = {}
        for delivery in budgets:
            event = delivery.event
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

    async def _record_orders(self, session: AsyncSession, changes: list[list[Any]]) -> None:
        await session.execute(self._create_changes)
        # COPY: binary rows, cheaper to encode than a statement's arrays (1.0-1.5 µs less of the
        # consumer's CPU per event than unnest, whose three fewer round trips per batch did not
        # show in the rate)
        pooled = await (await session.connection()).get_raw_connection()
        driver: asyncpg.Connection = pooled.driver_connection
        await driver.copy_records_to_table("order_changes", records=changes, columns=CHANGE_COLUMNS)
        if len(changes) < PLANNED_FROM_ORDERS:
            await session.execute(self._prepared_merge)
        else:
            await self._planned_merge.execute(session, {})


def _order_changes(deliveries: Sequence[Delivery]) -> list[list[Any]]:
    """One row of `order_changes` per order of the batch: per stage the event with the lowest
    (sequence, event id), and with the placed stage what its OrderPlaced says. One pass over the
    batch: it runs for every event of a catch-up."""
    rows: dict[str, list[Any]] = {}
    for delivery in deliveries:
        event: Any = delivery.event  # an OrderEvent once its type has a stage
        stage = _STAGE_OF.get(type(event))
        if stage is None:
            continue
        placed = event if isinstance(event, OrderPlaced) else None
        if placed is not None:
            _check_fits(placed.total_idr, delivery)
        order_id = event.order_id
        row = rows.get(order_id)
        if row is None:
            row = rows[order_id] = [order_id, *_UNSET]
        at = _STAMP_AT[stage[0]]
        sequence, event_id = delivery.sequence, delivery.event_id
        if row[at] is not None and (row[at + 1], row[at]) <= (sequence, event_id):
            continue
        row[at : at + 3] = (event_id, sequence, getattr(event, stage[1]))
        if placed is not None:
            row[_PLACEMENT_AT] = _placement(placed)
    return list(rows.values())


def _placement(order: OrderPlaced) -> tuple[Any, ...]:
    classes = classify(order)
    return (
        order.fiscal_year,
        order.opd_code,
        order.region_code,
        *classes.amounts,
        classes.reserved_package_violation,
        classes.pdn_substitution_lines,
        # most orders flag no line (the count is of the lines `_flagged_lines` keeps): their
        # JSON is a constant rather than a dumps
        _flagged_lines(order) if classes.pdn_substitution_lines else _NO_FLAGGED_LINES,
    )


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
