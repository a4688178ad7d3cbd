"""Events of one OPD's orders and budgets as the records purchasing writes, and a reader of the
reference consumer's tables."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from etalase_events.codec import KafkaRecord, encode_event
from etalase_events.models import (
    BudgetAllocated,
    Catalog,
    Event,
    LegalForm,
    OrderAccepted,
    OrderCancelled,
    OrderCompleted,
    OrderLine,
    OrderPlaced,
    Scale,
)
from etalase_opd_consumer import store
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

REGION = "33.75"
YEAR = 2025
T0 = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)


def opd(suffix: str | None = None) -> str:
    return f"{REGION}.{suffix or uuid.uuid4().hex[:8]}"


@dataclass
class OrderHistory:
    """The records of one order, in the order purchasing writes them."""

    opd_code: str
    total_idr: int = 1_500_000
    fiscal_year: int = YEAR
    order_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    records: list[KafkaRecord] = field(default_factory=list)

    def _add(self, event: Event) -> KafkaRecord:
        record = encode_event(
            event,
            source="etalase/purchasing",
            subject=self.order_id,
            sequence=len(self.records) + 1,
        )
        self.records.append(record)
        return record

    def place(self) -> "OrderHistory":
        quantity = 3
        line = OrderLine(
            line_no=1,
            product_id=str(uuid.uuid4()),
            name="Kain batik cap",
            category="Tekstil",
            catalog=Catalog.LOKAL,
            quantity=quantity,
            unit_price_idr=self.total_idr // quantity,
            subtotal_idr=self.total_idr // quantity * quantity,
            domestic=True,
            pdn_alternative_available=False,
        )
        self.total_idr = line.subtotal_idr
        self._add(
            OrderPlaced(
                order_id=self.order_id,
                opd_code=self.opd_code,
                region_code=REGION,
                fiscal_year=self.fiscal_year,
                vendor_id="vendor-1",
                vendor_scale=Scale.MIKRO,
                vendor_legal_form=LegalForm.CV,
                vendor_region_code=REGION,
                lines=(line,),
                total_idr=self.total_idr,
                placed_at=T0,
            )
        )
        return self

    def accept(self) -> "OrderHistory":
        self._add(OrderAccepted(order_id=self.order_id, accepted_at=T0 + timedelta(hours=1)))
        return self

    def complete(self) -> "OrderHistory":
        self._add(OrderCompleted(order_id=self.order_id, completed_at=T0 + timedelta(hours=2)))
        return self

    def cancel(self) -> "OrderHistory":
        self._add(
            OrderCancelled(
                order_id=self.order_id,
                reason="anggaran direvisi",
                cancelled_at=T0 + timedelta(hours=3),
            )
        )
        return self


def budget(opd_code: str, pagu_idr: int, sequence: int, year: int = YEAR) -> KafkaRecord:
    return encode_event(
        BudgetAllocated(
            fiscal_year=year,
            opd_code=opd_code,
            opd_name=f"Dinas {opd_code}",
            region_code=REGION,
            pagu_idr=pagu_idr,
            allocated_at=T0 + timedelta(days=sequence),
        ),
        source="etalase/purchasing",
        subject=f"{year}:{opd_code}",
        sequence=sequence,
    )


async def orders_of(engine: AsyncEngine, opd_code: str | None = None) -> dict[str, dict[str, Any]]:
    """The consumer's rows by order id (every row when `opd_code` is None)."""
    statement = select(store.orders)
    if opd_code is not None:
        statement = statement.where(store.orders.c.opd_code == opd_code)
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).mappings().all()
    return {row["order_id"]: dict(row) for row in rows}


async def budget_status(engine: AsyncEngine, opd_code: str) -> list[dict[str, Any]]:
    statement = select(store.budget_status).where(store.budget_status.c.opd_code == opd_code)
    async with engine.connect() as connection:
        rows = (await connection.execute(statement.order_by("fiscal_year"))).mappings().all()
    return [dict(row) for row in rows]
