"""The OPD's own tables and how each event changes them (SQLAlchemy Core, asyncpg).

Every event is applied in one transaction that also records its id in `opd_processed_events`,
so a redelivered event changes nothing. Within an order, `sequence` decides: the status is the
one of the newest event applied, whatever order events arrive in; each event also fills in its
own moment (`accepted_at`, ...), so a late older event completes the row without rolling it back.
`sequence - applied` is how many of an order's events have not arrived yet (a gap).
"""

import logging
from dataclasses import dataclass
from enum import StrEnum

from etalase_events.models import (
    BudgetAllocated,
    OrderAccepted,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
)
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("etalase_opd_consumer")

metadata = MetaData()

orders = Table(
    "opd_orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    # Null until the order's OrderPlaced arrived (a later event may come first): such a row
    # belongs to no OPD yet and counts nowhere.
    Column("opd_code", Text, index=True),
    Column("fiscal_year", Integer),
    Column("vendor_id", Text),
    Column("total_idr", BigInteger),
    Column("status", Text, nullable=False),
    Column("placed_at", DateTime(timezone=True)),
    Column("accepted_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("cancel_reason", Text),
    # the newest sequence applied: the status is that event's
    Column("sequence", Integer, nullable=False),
    # how many distinct events were applied; below `sequence` while some are missing
    Column("applied", Integer, nullable=False),
)

other_opd_orders = Table(
    "opd_other_orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    comment="Orders of other OPDs (or fiscal years): their later events are skipped.",
)

budgets = Table(
    "opd_budgets",
    metadata,
    Column("fiscal_year", Integer, nullable=False),
    Column("opd_code", Text, nullable=False),
    Column("opd_name", Text, nullable=False),
    Column("region_code", Text, nullable=False),
    Column("pagu_idr", BigInteger, nullable=False),
    Column("allocated_at", DateTime(timezone=True), nullable=False),
    Column("sequence", Integer, nullable=False),
    PrimaryKeyConstraint("fiscal_year", "opd_code"),
)

processed_events = Table(
    "opd_processed_events",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("event_type", Text, nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

BUDGET_STATUS_VIEW = "opd_budget_status"

# The rule purchasing applies (api.md, compliance.md): committed spend (komitmen) is the total of
# placed, uncancelled orders of the year; remaining = pagu - committed.
_CREATE_VIEW = text(f"""
CREATE OR REPLACE VIEW {BUDGET_STATUS_VIEW} AS
SELECT b.fiscal_year, b.opd_code, b.opd_name, b.region_code, b.pagu_idr,
       COALESCE(c.committed_idr, 0)::bigint AS committed_idr,
       (b.pagu_idr - COALESCE(c.committed_idr, 0))::bigint AS remaining_idr,
       b.sequence AS version, b.allocated_at
FROM opd_budgets b
LEFT JOIN (
    SELECT fiscal_year, opd_code, SUM(total_idr) AS committed_idr
    FROM opd_orders
    WHERE opd_code IS NOT NULL AND status IN ('placed', 'accepted', 'completed')
    GROUP BY fiscal_year, opd_code
) c ON c.fiscal_year = b.fiscal_year AND c.opd_code = b.opd_code
""")

budget_status = Table(
    BUDGET_STATUS_VIEW,
    MetaData(),  # a view: created by `_CREATE_VIEW`, not by `metadata.create_all`
    Column("fiscal_year", Integer),
    Column("opd_code", Text),
    Column("opd_name", Text),
    Column("region_code", Text),
    Column("pagu_idr", BigInteger),
    Column("committed_idr", BigInteger),
    Column("remaining_idr", BigInteger),
    Column("version", Integer),
    Column("allocated_at", DateTime(timezone=True)),
)
"""The OPD's budgets with committed spend and remaining pagu, as purchasing's `GET /budgets`."""


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    """The event id was applied before."""
    OTHER_OPD = "other_opd"
    """Someone else's order or budget."""


@dataclass(frozen=True)
class Scope:
    """Which events are this OPD's."""

    opd_code: str
    fiscal_year: int | None = None

    def covers(self, opd_code: str, fiscal_year: int) -> bool:
        return opd_code == self.opd_code and self.fiscal_year in (None, fiscal_year)


OrderEvent = OrderPlaced | OrderAccepted | OrderCompleted | OrderCancelled

_STATUS = {
    OrderPlaced: "placed",
    OrderAccepted: "accepted",
    OrderCompleted: "completed",
    OrderCancelled: "cancelled",
}


async def create_tables(engine: AsyncEngine) -> None:
    """Idempotent: safe on every start, and by several instances at once."""
    async with engine.begin() as connection:
        # serialises concurrent starts: CREATE ... IF NOT EXISTS races on the catalog otherwise
        await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('opd_consumer'))"))
        await connection.run_sync(metadata.create_all)
        await connection.execute(_CREATE_VIEW)


async def _first_time(connection: AsyncConnection, event_id: str, event_type: str) -> bool:
    inserted = await connection.execute(
        insert(processed_events)
        .values(event_id=event_id, event_type=event_type)
        .on_conflict_do_nothing()
        .returning(processed_events.c.event_id)
    )
    return inserted.first() is not None


async def apply_order_event(
    connection: AsyncConnection,
    scope: Scope,
    *,
    event_id: str,
    sequence: int,
    event: OrderEvent,
) -> Outcome:
    order_id = event.order_id
    if isinstance(event, OrderPlaced) and not scope.covers(event.opd_code, event.fiscal_year):
        await connection.execute(
            insert(other_opd_orders).values(order_id=order_id).on_conflict_do_nothing()
        )
        # later events of it that came first were kept in case it was ours
        await connection.execute(
            orders.delete().where(orders.c.order_id == order_id, orders.c.opd_code.is_(None))
        )
        return Outcome.OTHER_OPD
    if not isinstance(event, OrderPlaced):
        other = await connection.execute(
            select(other_opd_orders.c.order_id).where(other_opd_orders.c.order_id == order_id)
        )
        if other.first() is not None:
            return Outcome.OTHER_OPD
    if not await _first_time(connection, event_id, event.event_type):
        return Outcome.DUPLICATE

    facts = _facts(event)
    created = await connection.execute(
        insert(orders)
        .values(
            order_id=order_id, status=_STATUS[type(event)], sequence=sequence, applied=1, **facts
        )
        .on_conflict_do_nothing()
        .returning(orders.c.order_id)
    )
    if created.first() is not None:
        if sequence > 1:
            log.warning(
                "order %s: sequence %d arrived first (gap of %d)", order_id, sequence, sequence - 1
            )
        return Outcome.APPLIED

    row = (
        await connection.execute(
            select(orders.c.sequence, orders.c.applied)
            .where(orders.c.order_id == order_id)
            .with_for_update()
        )
    ).one()
    changes: dict[str, object] = {**facts, "applied": row.applied + 1}
    if sequence > row.sequence:
        if sequence > row.sequence + 1:
            log.warning(
                "order %s: sequence %d after %d (gap of %d)",
                order_id,
                sequence,
                row.sequence,
                sequence - row.sequence - 1,
            )
        changes |= {"status": _STATUS[type(event)], "sequence": sequence}
    else:
        log.info(
            "order %s: late sequence %d (newest %d) fills a gap", order_id, sequence, row.sequence
        )
    await connection.execute(orders.update().where(orders.c.order_id == order_id).values(changes))
    return Outcome.APPLIED


def _facts(event: OrderEvent) -> dict[str, object]:
    """What the event says, whatever its place in the order's history."""
    match event:
        case OrderPlaced():
            return {
                "opd_code": event.opd_code,
                "fiscal_year": event.fiscal_year,
                "vendor_id": event.vendor_id,
                "total_idr": event.total_idr,
                "placed_at": event.placed_at,
            }
        case OrderAccepted():
            return {"accepted_at": event.accepted_at}
        case OrderCompleted():
            return {"completed_at": event.completed_at}
        case OrderCancelled():
            return {"cancelled_at": event.cancelled_at, "cancel_reason": event.reason}


async def apply_budget_event(
    connection: AsyncConnection,
    scope: Scope,
    *,
    event_id: str,
    sequence: int,
    event: BudgetAllocated,
) -> Outcome:
    if not scope.covers(event.opd_code, event.fiscal_year):
        return Outcome.OTHER_OPD
    if not await _first_time(connection, event_id, event.event_type):
        return Outcome.DUPLICATE
    statement = insert(budgets).values(
        fiscal_year=event.fiscal_year,
        opd_code=event.opd_code,
        opd_name=event.opd_name,
        region_code=event.region_code,
        pagu_idr=event.pagu_idr,
        allocated_at=event.allocated_at,
        sequence=sequence,
    )
    # A later allocation replaces the earlier one: the newest sequence wins, in any arrival order.
    replaced = ("opd_name", "region_code", "pagu_idr", "allocated_at", "sequence")
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=[budgets.c.fiscal_year, budgets.c.opd_code],
            set_={name: statement.excluded[name] for name in replaced},
            where=statement.excluded.sequence > budgets.c.sequence,
        )
    )
    return Outcome.APPLIED
