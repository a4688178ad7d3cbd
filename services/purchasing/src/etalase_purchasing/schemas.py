"""What the HTTP API reads and answers."""

from datetime import datetime
from typing import Annotated

from etalase_events.models import LegalForm, OrderLine, Scale
from etalase_events.primitives import KabKotaCode
from pydantic import BaseModel, Field, StrictInt, StringConstraints

from etalase_purchasing.db import Budget, Order
from etalase_purchasing.domain import OrderStatus

MAX_PAGU_IDR = 10**15
"""Rp1 quadrillion, far above any OPD's budget; keeps every sum inside PostgreSQL's bigint."""
MAX_QUANTITY = 10**9

FiscalYear = Annotated[StrictInt, Field(ge=2000, le=2100)]

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
OPD_CODE = r"^[1-9][0-9]\.[0-9]{2}\.[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$"
"""The OPD's kab/kota, then the agency's own code (checked, with its message, by the domain)."""
OpdCode = Annotated[Code, Field(json_schema_extra={"pattern": OPD_CODE})]


class BudgetAllocation(BaseModel):
    opd_name: Name
    region_code: KabKotaCode
    """The OPD's kabupaten/kota, e.g. `33.75`."""
    pagu_idr: Annotated[StrictInt, Field(ge=0, le=MAX_PAGU_IDR)]


class BudgetPublic(BaseModel):
    fiscal_year: int
    opd_code: str
    opd_name: str
    region_code: str
    pagu_idr: int
    committed_idr: int
    """Total of the OPD's placed, uncancelled orders of the year (komitmen)."""
    remaining_idr: int
    """`pagu_idr - committed_idr`; negative only when a new allocation cut below commitments."""
    version: int
    """How many allocations the key has had."""
    allocated_at: datetime

    @classmethod
    def of(cls, budget: Budget, committed_idr: int) -> "BudgetPublic":
        return cls(
            fiscal_year=budget.fiscal_year,
            opd_code=budget.opd_code,
            opd_name=budget.opd_name,
            region_code=budget.region_code,
            pagu_idr=budget.pagu_idr,
            committed_idr=committed_idr,
            remaining_idr=budget.pagu_idr - committed_idr,
            version=budget.version,
            allocated_at=budget.allocated_at,
        )


class RequestedLineBody(BaseModel):
    product_id: Code
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]


class PlaceOrder(BaseModel):
    opd_code: OpdCode
    fiscal_year: FiscalYear
    rup_code: Code | None = None
    lines: Annotated[list[RequestedLineBody], Field(min_length=1, max_length=500)]


class CancelOrder(BaseModel):
    reason: Name


class OrderPublic(BaseModel):
    order_id: str
    opd_code: str
    region_code: str
    fiscal_year: int
    rup_code: str | None
    vendor_id: str
    vendor_scale: Scale
    vendor_legal_form: LegalForm
    vendor_region_code: str
    lines: list[OrderLine]
    total_idr: int
    status: OrderStatus
    version: int
    placed_at: datetime
    accepted_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None

    @classmethod
    def of(cls, order: Order) -> "OrderPublic":
        return cls(
            order_id=order.order_id,
            opd_code=order.opd_code,
            region_code=order.region_code,
            fiscal_year=order.fiscal_year,
            rup_code=order.rup_code,
            vendor_id=order.vendor_id,
            vendor_scale=Scale(order.vendor_scale),
            vendor_legal_form=LegalForm(order.vendor_legal_form),
            vendor_region_code=order.vendor_region_code,
            lines=[OrderLine.model_validate(line) for line in order.lines],
            total_idr=order.total_idr,
            status=OrderStatus(order.status),
            version=order.version,
            placed_at=order.placed_at,
            accepted_at=order.accepted_at,
            completed_at=order.completed_at,
            cancelled_at=order.cancelled_at,
            cancel_reason=order.cancel_reason,
        )
