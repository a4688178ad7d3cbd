"""Tables of the purchasing database, and the queries on them.

`catalog_products` and `vendor_facts` are this service's own view of catalog and registration,
built from their events; `budgets` and `orders` are the aggregates it owns.
"""

import json
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from etalase_events.models import Catalog, LegalForm, OrderPlaced, Scale
from etalase_platform import idempotency, outbox
from etalase_platform.driver import DriverStatement
from etalase_platform.models import TextEnum
from etalase_platform.scope import covered_by
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Numeric,
    func,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import registry
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_purchasing.domain import COMMITTING_STATUSES, OrderStatus


def _utc_or_null() -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


def _pct() -> Any:
    return Field(default=None, sa_column=Column(Numeric(5, 2), nullable=True))


class Table(SQLModel, registry=registry()):
    """Base of purchasing's tables, on metadata of their own: several services' models may be
    imported into one process (tests), and their table names may coincide."""


def _enum(enum: type[StrEnum]) -> Any:
    return TextEnum(enum, varchar=True)


class BudgetBase(SQLModel):
    """A budget's fields, stored and shown (`schemas.BudgetPublic` adds what remains)."""

    fiscal_year: int = Field(primary_key=True)
    opd_code: str = Field(primary_key=True)
    opd_name: str
    region_code: str = Field(index=True)
    pagu_idr: int = Field(sa_type=BigInteger)
    committed_idr: int = Field(sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})
    """The total of the OPD's orders of the year that are not cancelled, kept on this row (which
    every order locks anyway) rather than summed over orders that grow all year."""
    version: int
    allocated_at: datetime = Field(sa_type=DateTime(timezone=True))


class Budget(BudgetBase, Table, table=True):
    __tablename__ = "budgets"


class OrderBase(SQLModel):
    """An order's fields, stored and shown; its lines are JSON in the row and `OrderLine`s in
    `schemas.OrderPublic`."""

    order_id: str = Field(primary_key=True)
    opd_code: str
    region_code: str
    fiscal_year: int
    rup_code: str | None
    vendor_id: str = Field(index=True)
    vendor_scale: Scale = Field(sa_type=_enum(Scale))
    vendor_legal_form: LegalForm = Field(sa_type=_enum(LegalForm))
    vendor_region_code: str
    total_idr: int = Field(sa_type=BigInteger)
    status: OrderStatus = Field(sa_type=_enum(OrderStatus))
    version: int
    placed_at: datetime = Field(sa_type=DateTime(timezone=True))
    accepted_at: datetime | None = Field(sa_type=DateTime(timezone=True))
    completed_at: datetime | None = Field(sa_type=DateTime(timezone=True))
    cancelled_at: datetime | None = Field(sa_type=DateTime(timezone=True))
    cancel_reason: str | None


class Order(OrderBase, Table, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        # the committed-spend sum of one budget, and the listings per OPD or region
        Index("orders_by_budget", "opd_code", "fiscal_year", "status"),
        Index("orders_by_region", "region_code", "placed_at"),
    )

    lines: list[dict[str, Any]] = Field(sa_type=JSONB)


class CatalogProduct(Table, table=True):
    """A product as the catalog's events described it; `sequence` is the last one applied."""

    __tablename__ = "catalog_products"
    __table_args__ = (
        Index(
            "catalog_products_pdn_wajib_tayang",
            "category",
            postgresql_where=text("tayang AND pdn_wajib"),
        ),
    )

    product_id: str = Field(primary_key=True)
    vendor_id: str
    catalog: Catalog = Field(sa_type=_enum(Catalog))
    catalog_region_code: str | None = None
    category: str
    name: str
    unit: str
    price_idr: int = Field(sa_type=BigInteger)
    domestic: bool
    tkdn_pct: Decimal | None = _pct()
    bmp_pct: Decimal | None = _pct()
    pdn_wajib: bool
    """Meets TKDN >= 25 and TKDN + BMP >= 40: kept so that alternatives are one indexed query."""
    tayang: bool
    sequence: int


class VendorFactsRow(Table, table=True):
    """A vendor's scale, legal form and region from two sources: registration's own events
    (applied by `sequence`) and the snapshot in the newest ProductListed (by `listed_at`)."""

    __tablename__ = "vendor_facts"

    vendor_id: str = Field(primary_key=True)
    scale: str | None = None
    legal_form: str | None = None
    region_code: str | None = None
    sequence: int = 0
    listing_scale: str | None = None
    listing_legal_form: str | None = None
    listing_region_code: str | None = None
    listing_at: datetime | None = _utc_or_null()


# --- budgets -----------------------------------------------------------------------------------


async def upsert_budget(
    session: AsyncSession,
    *,
    fiscal_year: int,
    opd_code: str,
    opd_name: str,
    region_code: str,
    pagu_idr: int,
    allocated_at: datetime,
) -> Budget:
    """Replace the allocation; the version counts allocations of the key (the event sequence)."""
    values = {
        "opd_name": opd_name,
        "region_code": region_code,
        "pagu_idr": pagu_idr,
        "allocated_at": allocated_at,
    }
    statement = (
        pg_insert(Budget)
        .values(fiscal_year=fiscal_year, opd_code=opd_code, version=1, **values)
        .on_conflict_do_update(
            index_elements=["fiscal_year", "opd_code"],
            set_={**values, "version": col(Budget.version) + 1},
        )
        .returning(Budget)
    )
    result = await session.execute(statement.execution_options(populate_existing=True))
    budget: Budget = result.scalar_one()
    return budget


# Statements of the order write path, built once (building a statement per call cost more CPU
# than running it) and run on the driver: SQLAlchemy's execution of a statement costs twice the
# driver's (etalase_platform.driver).
_BUDGET_COLUMNS = tuple(BudgetBase.model_fields)
BUDGET_OF_ORDER_SQL = (
    f"SELECT {', '.join(f'{column} AS budget_{column}' for column in _BUDGET_COLUMNS)}"
    " FROM budgets WHERE fiscal_year = :fiscal_year AND opd_code = :opd_code"
)
"""The budget an order is placed against, its columns prefixed `budget_`: read in the round trip
of the order's other facts (`catalog_view.order_facts`), `FOR UPDATE` when placing."""


def budget_of_row(row: Any) -> BudgetBase | None:
    """The budget in a row of `BUDGET_OF_ORDER_SQL`'s columns (a read, not an entity of the
    session: no ORM instance to build)."""
    if row["budget_opd_code"] is None:
        return None
    values = {column: row[f"budget_{column}"] for column in _BUDGET_COLUMNS}
    return BudgetBase.model_construct(**values)


JUST_PLACED: dict[str, Any] = {
    "status": OrderStatus.PLACED,
    "version": 1,
    "accepted_at": None,
    "completed_at": None,
    "cancelled_at": None,
    "cancel_reason": None,
}
"""An order's columns that its OrderPlaced does not carry, as placing sets them."""
_PLACED = (
    "order_id",
    "opd_code",
    "region_code",
    "fiscal_year",
    "rup_code",
    "vendor_id",
    "vendor_scale",
    "vendor_legal_form",
    "vendor_region_code",
    "lines",
    "total_idr",
    "status",
    "version",
    "placed_at",
)
"""The columns a placed order sets (the others are its later changes, NULL)."""
_PLACE_ORDER = DriverStatement(
    text(
        "WITH spent AS (UPDATE budgets SET committed_idr = committed_idr + :total_idr"
        " WHERE fiscal_year = :fiscal_year AND opd_code = :opd_code),"
        f" queued AS ({outbox.ENQUEUE_SQL}), answered AS ({idempotency.ANSWER_SQL})"
        f" INSERT INTO orders ({', '.join(_PLACED)}) VALUES ({', '.join(':' + c for c in _PLACED)})"
    )
)


async def committing_orders(session: AsyncSession, fiscal_year: int, opd_code: str) -> list[Order]:
    """The OPD's placed, uncancelled orders of the year (komitmen)."""
    statement = select(Order).where(
        Order.fiscal_year == fiscal_year,
        Order.opd_code == opd_code,
        col(Order.status).in_([status.value for status in COMMITTING_STATUSES]),
    )
    return list((await session.exec(statement)).all())


async def release_committed(session: AsyncSession, order: Order) -> None:
    """A cancelled order's total no longer counts against its budget."""
    await session.execute(
        update(Budget)
        .where(col(Budget.fiscal_year) == order.fiscal_year, col(Budget.opd_code) == order.opd_code)
        .values(committed_idr=col(Budget.committed_idr) - order.total_idr)
    )


async def list_budgets(
    session: AsyncSession,
    *,
    fiscal_year: int | None,
    region: str | None,
    opd_code: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Budget], int]:
    conditions: list[ColumnElement[bool]] = [covered_by(Budget.region_code, region)]
    if fiscal_year is not None:
        conditions.append(col(Budget.fiscal_year) == fiscal_year)
    if opd_code is not None:
        conditions.append(col(Budget.opd_code) == opd_code)
    total = (await session.exec(select(func.count()).select_from(Budget).where(*conditions))).one()
    page = (
        select(Budget)
        .where(*conditions)
        .order_by(col(Budget.fiscal_year).desc(), col(Budget.opd_code))
    )
    items = (await session.exec(page.limit(limit).offset(offset))).all()
    return list(items), int(total)


# --- orders ------------------------------------------------------------------------------------


async def get_order(session: AsyncSession, order_id: str, *, lock: bool = False) -> Order | None:
    statement = select(Order).where(Order.order_id == order_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.exec(statement)).first()


def placing(
    event: OrderPlaced, answer: dict[str, object]
) -> tuple[DriverStatement, dict[str, Any]]:
    """The statement writing the placed order's row, adding its total to its budget's committed
    spend, writing its event's outbox row (for `enqueue(..., along=)`) and storing the call's
    response (`answer`: `idempotency.Answer.parameters`), in one round trip; the caller holds the
    budget row's lock. The row is the event's fields and `JUST_PLACED`."""
    values = {column: getattr(event, column) for column in _PLACED if column not in JUST_PLACED}
    lines = [line.model_dump(mode="json") for line in event.lines]
    return _PLACE_ORDER, {**values, **JUST_PLACED, "lines": json.dumps(lines), **answer}


async def list_orders(
    session: AsyncSession,
    *,
    region: str | None,
    opd_code: str | None,
    vendor_id: str | None,
    fiscal_year: int | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Order], int]:
    conditions: list[ColumnElement[bool]] = [covered_by(Order.region_code, region)]
    for column, value in (
        (Order.opd_code, opd_code),
        (Order.vendor_id, vendor_id),
        (Order.fiscal_year, fiscal_year),
        (Order.status, status),
    ):
        if value is not None:
            conditions.append(col(column) == value)
    total = (await session.exec(select(func.count()).select_from(Order).where(*conditions))).one()
    page = (
        select(Order).where(*conditions).order_by(col(Order.placed_at).desc(), col(Order.order_id))
    )
    items = (await session.exec(page.limit(limit).offset(offset))).all()
    return list(items), int(total)
