"""What the HTTP API reads and answers."""

from collections.abc import Sequence
from typing import Annotated

from etalase_events.compliance import MEASURES, classify, is_umkk, shares
from etalase_events.models import Catalog, LegalForm, OrderLine, OrderPlaced, Scale
from etalase_events.primitives import KabKotaCode
from etalase_platform.models import DecimalNumber, respond
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from etalase_purchasing.catalog_view import Alternative
from etalase_purchasing.db import BudgetBase, OrderBase
from etalase_purchasing.domain import fits_pagu

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


class BudgetPublic(BudgetBase):
    remaining_idr: int
    """`pagu_idr - committed_idr`; negative only when a new allocation cut below commitments."""


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


class OrderPublic(OrderBase):
    lines: list[OrderLine]


Percent = DecimalNumber


class AlternativePublic(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    product_id: str
    vendor_id: str
    name: str
    category: str
    catalog: Catalog
    price_idr: int
    tkdn_pct: Percent
    bmp_pct: Percent | None
    umkk: bool
    """The vendor is usaha mikro, kecil or a koperasi."""
    local: bool
    """The vendor is of the OPD's kab/kota."""


class Shares(BaseModel):
    """compliance.md's shares, in percent (null where the denominator is 0)."""

    umkk_of_pagu: Percent | None
    ecatalog_of_pagu: Percent | None
    pdn_of_spend: Percent | None
    local_of_spend: Percent | None


class SharesEffect(BaseModel):
    before: Shares
    """Over the OPD's placed, uncancelled orders of the year (komitmen)."""
    after: Shares
    """The same with this order."""


class OrderCheck(BaseModel):
    """What placing the order would mean; nothing is placed."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    opd_code: str
    fiscal_year: int
    vendor_id: str
    vendor_scale: Scale
    vendor_legal_form: LegalForm
    vendor_region_code: str
    vendor_umkk: bool
    total_idr: int
    pagu_idr: int
    committed_idr: int
    """Placed, uncancelled spend of the OPD and year before this order."""
    remaining_idr: int
    """`pagu_idr - committed_idr`: what is left before this order."""
    remaining_after_idr: int
    """What would be left after it; negative when it does not fit."""
    within_pagu: bool
    """False when `POST /orders` would refuse it (409 `pagu_exceeded`)."""
    lines: list[OrderLine]
    """As the order would record them: `pdn_alternative_available` marks a substitution line,
    `pdn_alternatives` the PDN-wajib products of its category (best first)."""
    alternatives: list[AlternativePublic]
    """The products named in the lines' `pdn_alternatives`, described."""
    pdn_substitution_lines: int
    reserved_package_violation: bool
    """Up to Rp15 billion and the vendor not UMK-K (Perpres 12/2021 Pasal 65 ayat 4)."""
    shares: SharesEffect

    @classmethod
    def of(
        cls,
        order: OrderPlaced,
        *,
        pagu_idr: int,
        committed_idr: int,
        committed: Sequence[OrderPlaced],
        alternatives: Sequence[Alternative],
    ) -> "OrderCheck":
        classes = classify(order)
        before = dict.fromkeys(MEASURES, 0)
        for placed in committed:
            for name, amount in classify(placed).measures().items():
                before[name] += amount
        after = {name: before[name] + amount for name, amount in classes.measures().items()}
        named = {product_id for line in order.lines for product_id in line.pdn_alternatives}
        return cls(
            opd_code=order.opd_code,
            fiscal_year=order.fiscal_year,
            vendor_id=order.vendor_id,
            vendor_scale=order.vendor_scale,
            vendor_legal_form=order.vendor_legal_form,
            vendor_region_code=order.vendor_region_code,
            vendor_umkk=is_umkk(order.vendor_scale, order.vendor_legal_form),
            total_idr=order.total_idr,
            pagu_idr=pagu_idr,
            committed_idr=committed_idr,
            remaining_idr=pagu_idr - committed_idr,
            remaining_after_idr=pagu_idr - committed_idr - order.total_idr,
            within_pagu=fits_pagu(
                pagu_idr=pagu_idr, committed_idr=committed_idr, order_total_idr=order.total_idr
            ),
            lines=list(order.lines),
            alternatives=[
                respond(AlternativePublic, a) for a in alternatives if a.product_id in named
            ],
            pdn_substitution_lines=classes.pdn_substitution_lines,
            reserved_package_violation=classes.reserved_package_violation,
            shares=SharesEffect(
                before=Shares(**shares(pagu_idr, before)),
                after=Shares(**shares(pagu_idr, after)),
            ),
        )
