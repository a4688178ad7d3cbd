"""Purchasing rules: budgets, order drafting and the order lifecycle. Pure: no I/O, no framework.

Rules break by raising the platform's `InvalidField` (the client composed something impossible:
422) or `RuleBroken` (the request is well formed but the state of the data forbids it: 409).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from etalase_events.compliance import MAX_PDN_ALTERNATIVES, meets_pdn_wajib
from etalase_events.models import Catalog, LegalForm, OrderLine, Scale
from etalase_platform.domain_errors import InvalidField, RuleBroken

# The agency's own code after the region prefix: dot-separated segments (`1.02.01`).
_AGENCY_CODE = re.compile(r"^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$")


# --- budgets -----------------------------------------------------------------------------------


def budget_subject(fiscal_year: int, opd_code: str) -> str:
    """The budget aggregate's id: its Kafka key and CloudEvents subject."""
    return f"{fiscal_year}:{opd_code}"


def check_opd_code(opd_code: str, region_code: str) -> None:
    """An OPD code is its kab/kota code, a dot, then the agency's own code."""
    prefix = region_code + "."
    if not opd_code.startswith(prefix):
        raise InvalidField("opd_code", f"must begin with the region code '{prefix}'")
    if not _AGENCY_CODE.match(opd_code[len(prefix) :]):
        raise InvalidField(
            "opd_code", f"must continue after '{prefix}' with the agency's own code, e.g. 1.02.01"
        )


def region_of_opd(opd_code: str) -> str:
    """The kab/kota an OPD code begins with (`33.75.1.02` → `33.75`)."""
    return ".".join(opd_code.split(".")[:2])


def fits_pagu(*, pagu_idr: int, committed_idr: int, order_total_idr: int) -> bool:
    return order_total_idr <= pagu_idr - committed_idr


def check_fits_pagu(*, pagu_idr: int, committed_idr: int, order_total_idr: int) -> None:
    """Placed, uncancelled spend may never exceed the pagu."""
    remaining = pagu_idr - committed_idr
    if not fits_pagu(
        pagu_idr=pagu_idr, committed_idr=committed_idr, order_total_idr=order_total_idr
    ):
        raise RuleBroken(
            "pagu_exceeded",
            f"the order total Rp{order_total_idr} exceeds the remaining budget"
            f" Rp{max(remaining, 0)} (pagu Rp{pagu_idr}, committed Rp{committed_idr})",
            order_total_idr=order_total_idr,
            pagu_idr=pagu_idr,
            committed_idr=committed_idr,
            remaining_idr=max(remaining, 0),
        )


# --- products and vendors as this service knows them -------------------------------------------


@dataclass(frozen=True)
class KnownProduct:
    product_id: str
    vendor_id: str
    name: str
    category: str
    catalog: Catalog
    price_idr: int
    domestic: bool
    tkdn_pct: Decimal | None
    bmp_pct: Decimal | None
    tayang: bool


@dataclass(frozen=True)
class VendorFacts:
    """Scale, legal form and region of a vendor; any may be unknown."""

    scale: Scale | None = None
    legal_form: LegalForm | None = None
    region_code: str | None = None


@dataclass(frozen=True)
class ResolvedVendor:
    scale: Scale
    legal_form: LegalForm
    region_code: str


def resolve_vendor(from_registry: VendorFacts, from_listing: VendorFacts) -> ResolvedVendor | None:
    """What registration's own events said wins over catalog's listing snapshot, field by field.

    Registration events are applied in sequence, so they end up at the vendor's latest state;
    a listing snapshot is only as fresh as catalog's view was when listing, and snapshots of
    different products cannot be ordered against registration's sequence.
    """
    scale = from_registry.scale or from_listing.scale
    legal_form = from_registry.legal_form or from_listing.legal_form
    region_code = from_registry.region_code or from_listing.region_code
    if scale is None or legal_form is None or region_code is None:
        return None
    return ResolvedVendor(scale, legal_form, region_code)


# --- orders ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestedLine:
    product_id: str
    quantity: int


@dataclass(frozen=True)
class OrderDraft:
    vendor_id: str
    lines: tuple[OrderLine, ...]

    @property
    def total_idr(self) -> int:
        return order_total(self.lines)


def order_total(lines: Sequence[OrderLine]) -> int:
    return sum(line.subtotal_idr for line in lines)


def pdn_alternatives(product: KnownProduct, ranked: Sequence[str]) -> tuple[str, ...]:
    """The PDN-wajib products (best first) a line of `product` passes over: none when the
    product itself meets TKDN >= 25 and TKDN + BMP >= 40, else those the category holds
    (Inpres 2/2022). A line is a substitution line exactly when this is not empty."""
    if meets_pdn_wajib(product.tkdn_pct, product.bmp_pct):
        return ()
    return tuple(ranked[:MAX_PDN_ALTERNATIVES])


def check_distinct_products(requested: Sequence[RequestedLine]) -> None:
    """A product appears on one line only: two lines of it would be one line with the sum, and
    a client sending them is more likely confused than intending that."""
    seen: set[str] = set()
    for index, line in enumerate(requested):
        if line.product_id in seen:
            raise InvalidField(
                f"lines.{index}.product_id", f"product {line.product_id} is already on a line"
            )
        seen.add(line.product_id)


def draft_order(
    requested: Sequence[RequestedLine],
    known: Mapping[str, KnownProduct],
    pdn_wajib_by_category: Mapping[str, Sequence[str]],
) -> OrderDraft:
    """The order's lines, priced and snapshotted from the products as known now.
    `pdn_wajib_by_category`: per category its displayed PDN-wajib products, best first (the
    P3DN ranking); a category without any may be left out."""
    check_distinct_products(requested)
    unknown = [line.product_id for line in requested if line.product_id not in known]
    if unknown:
        raise RuleBroken(
            "product_unknown",
            f"product {unknown[0]} is not known to purchasing (yet): the catalog may not have"
            " announced it; retry later",
            product_ids=unknown,
        )
    products = [known[line.product_id] for line in requested]
    vendors = sorted({product.vendor_id for product in products})
    if len(vendors) > 1:
        raise InvalidField("lines", f"all products must be from one vendor, got {len(vendors)}")
    hidden = [product.product_id for product in products if not product.tayang]
    if hidden:
        raise RuleBroken(
            "product_not_displayed",
            f"product {hidden[0]} is not displayed (tayang) in the catalogue",
            product_ids=hidden,
        )
    lines: list[OrderLine] = []
    for number, (line, product) in enumerate(zip(requested, products, strict=True), start=1):
        passed_over = pdn_alternatives(product, pdn_wajib_by_category.get(product.category, ()))
        lines.append(
            OrderLine(
                line_no=number,
                product_id=product.product_id,
                name=product.name,
                category=product.category,
                catalog=product.catalog,
                quantity=line.quantity,
                unit_price_idr=product.price_idr,
                subtotal_idr=line.quantity * product.price_idr,
                domestic=product.domestic,
                tkdn_pct=product.tkdn_pct,
                bmp_pct=product.bmp_pct,
                pdn_alternative_available=bool(passed_over),
                pdn_alternatives=passed_over,
            )
        )
    return OrderDraft(vendor_id=vendors[0], lines=tuple(lines))


class OrderStatus(StrEnum):
    PLACED = "placed"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


COMMITTING_STATUSES = (OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.COMPLETED)
"""Orders whose total counts against the pagu: everything placed and not cancelled."""


class OrderAction(StrEnum):
    ACCEPT = "accept"
    COMPLETE = "complete"
    CANCEL = "cancel"


_TRANSITIONS: dict[OrderAction, tuple[frozenset[OrderStatus], OrderStatus]] = {
    OrderAction.ACCEPT: (frozenset({OrderStatus.PLACED}), OrderStatus.ACCEPTED),
    OrderAction.COMPLETE: (frozenset({OrderStatus.ACCEPTED}), OrderStatus.COMPLETED),
    OrderAction.CANCEL: (
        frozenset({OrderStatus.PLACED, OrderStatus.ACCEPTED}),
        OrderStatus.CANCELLED,
    ),
}


def transition(current: OrderStatus, action: OrderAction) -> OrderStatus:
    """The status after `action`, or RuleBroken when the current status forbids it."""
    allowed_from, target = _TRANSITIONS[action]
    if current not in allowed_from:
        raise RuleBroken(
            "transition_forbidden",
            f"cannot {action.value} an order that is {current.value}",
            order_status=current.value,
        )
    return target
