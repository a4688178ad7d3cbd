"""Budget events on `etalase.purchasing.budgets` (keyed by `<fiscal_year>:<opd_code>`) and order
events on `etalase.purchasing.orders` (keyed by `order_id`)."""

from typing import Annotated, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from etalase_events.base import Event
from etalase_events.primitives import (
    Catalog,
    FiscalYear,
    Id,
    Idr,
    KabKotaCode,
    LegalForm,
    Percent,
    PositiveIdr,
    RegionCode,
    Scale,
    Text,
    UtcDatetime,
)
from etalase_events.topics import BUDGETS, ORDERS

MAX_PDN_ALTERNATIVES = 5
"""How many PDN-wajib alternatives a line records (and an order check suggests)."""


def _check_opd_in_region(opd_code: str, region_code: str) -> None:
    # OPD codes are only unique within a region; the prefix makes them unique everywhere.
    if not opd_code.startswith(region_code + "."):
        raise ValueError(f"opd_code {opd_code!r} must begin with region_code {region_code!r}.")


class BudgetAllocated(Event):
    """An OPD's goods/services budget (pagu) for a fiscal year. A later allocation for the same
    fiscal year and OPD replaces the earlier one."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = BUDGETS

    fiscal_year: FiscalYear
    opd_code: Text
    """Begins with `region_code` and a dot."""
    opd_name: Text
    region_code: RegionCode
    pagu_idr: Idr
    allocated_at: UtcDatetime

    @model_validator(mode="after")
    def _opd_in_region(self) -> Self:
        _check_opd_in_region(self.opd_code, self.region_code)
        return self


class OrderLine(BaseModel):
    """One product of an order, with the product facts as they were when ordering."""

    model_config = ConfigDict(extra="ignore", frozen=True, use_attribute_docstrings=True)

    line_no: Annotated[int, Field(ge=1)]
    product_id: Id
    name: Text
    category: Text
    catalog: Catalog
    quantity: Annotated[int, Field(ge=1)]
    unit_price_idr: PositiveIdr
    subtotal_idr: PositiveIdr
    """`quantity` x `unit_price_idr`."""
    domestic: bool
    """Produced in Indonesia (PDN)."""
    tkdn_pct: Percent | None = None
    bmp_pct: Percent | None = None
    pdn_alternative_available: bool
    """At the moment of ordering, the category held a listed product with TKDN >= 25 and
    TKDN + BMP >= 40, while this line's product does not meet both."""
    pdn_alternatives: Annotated[tuple[Id, ...], Field(max_length=MAX_PDN_ALTERNATIVES)] = ()
    """The PDN-wajib products of the category the buyer passed over (up to five, UMK-K and
    local first, as `POST /orders/check` suggested them); empty when the line is no
    substitution. Added to v1 later: older records decode with none."""

    @model_validator(mode="after")
    def _subtotal_adds_up(self) -> Self:
        if self.subtotal_idr != self.quantity * self.unit_price_idr:
            raise ValueError("subtotal_idr must equal quantity x unit_price_idr")
        if self.pdn_alternatives and not self.pdn_alternative_available:
            raise ValueError("pdn_alternatives are only recorded with pdn_alternative_available")
        return self


class OrderPlaced(Event):
    """An OPD placed an e-purchasing order. Vendor and product facts travel with it, so that
    compliance can be computed from the order stream alone."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = ORDERS

    order_id: Id
    opd_code: Text
    region_code: RegionCode
    fiscal_year: FiscalYear
    rup_code: Text | None = None
    """The procurement plan (RUP) entry the order realises."""
    vendor_id: Id
    vendor_scale: Scale
    vendor_legal_form: LegalForm
    vendor_region_code: KabKotaCode
    lines: Annotated[tuple[OrderLine, ...], Field(min_length=1)]
    total_idr: PositiveIdr
    """Sum of the lines' `subtotal_idr`."""
    placed_at: UtcDatetime

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _check_opd_in_region(self.opd_code, self.region_code)
        numbers = [line.line_no for line in self.lines]
        if len(set(numbers)) != len(numbers):
            raise ValueError("line_no must be unique within an order")
        if self.total_idr != sum(line.subtotal_idr for line in self.lines):
            raise ValueError("total_idr must equal the sum of the lines' subtotal_idr")
        return self


class OrderAccepted(Event):
    """The vendor accepted the order."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = ORDERS

    order_id: Id
    accepted_at: UtcDatetime


class OrderCompleted(Event):
    """The handover record (BAST) was signed: the spend is realised."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = ORDERS

    order_id: Id
    completed_at: UtcDatetime


class OrderCancelled(Event):
    """The order was cancelled; nothing of it is spent."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = ORDERS

    order_id: Id
    reason: Text
    cancelled_at: UtcDatetime
