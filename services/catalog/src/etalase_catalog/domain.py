"""The catalog's rules, free of I/O: the vendor view built from registration events, the product
state machine, and what a listing must satisfy.

Every product change returns the new state and the event that records it; the service layer
stores both in one transaction. Refusals are the platform's domain errors: `InvalidField` (422)
for a value the client sent, `RuleBroken` (409, with its `rule`) when the state or the vendor as
last heard forbids it.
"""

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from etalase_events.models import (
    STATUS_AFTER,
    Catalog,
    DelistReason,
    Event,
    LegalForm,
    ProductDelisted,
    ProductListed,
    ProductPriceChanged,
    ProductRelisted,
    ProductTkdnCertified,
    Scale,
    VendorProfileUpdated,
    VendorRegistered,
    VendorReinstated,
    VendorStatus,
    VendorSuspended,
    VendorVerified,
)
from etalase_platform.domain_errors import InvalidField, RuleBroken
from etalase_platform.scope import covers

TKDN_MAX = Decimal(100)
BMP_MAX = Decimal(15)


class ProductStatus(StrEnum):
    TAYANG = "tayang"
    """Displayed in the catalogue."""
    DELISTED = "delisted"
    """Taken down (turun tayang)."""


class Actor(StrEnum):
    """Who changes a product: its vendor, or the admin of the region whose local catalogue it is
    in. Authorisation decides which one a caller is; the rules below decide what each may do."""

    VENDOR = "vendor"
    ADMIN = "admin"


# --- the vendor as catalog last heard of it -------------------------------------------------

VENDOR_FACTS = ("status", "legal_form", "scale", "region_code")


@dataclass(frozen=True)
class VendorView:
    """What catalog knows of a vendor, from registration events only.

    Each fact remembers the sequence of the event that set it, and an event changes a fact only
    when it is newer than that. So redelivered or stale events are no-ops, and events arriving
    out of order (a VendorVerified before its VendorRegistered) still converge on the facts of
    the newest events: the late VendorRegistered fills in the profile but cannot undo the
    verification.
    """

    vendor_id: str
    status: VendorStatus | None = None
    legal_form: LegalForm | None = None
    scale: Scale | None = None
    region_code: str | None = None
    fact_versions: Mapping[str, int] = field(default_factory=dict)

    @property
    def version(self) -> int:
        """The newest sequence applied to any fact."""
        return max(self.fact_versions.values(), default=0)

    @property
    def profile_known(self) -> bool:
        return None not in (self.legal_form, self.scale, self.region_code)

    def heard(self, sequence: int, facts: Mapping[str, Any]) -> "VendorView":
        """The view after an event with `sequence` stating `facts`; `self` when nothing is new."""
        newer = {
            name: value
            for name, value in facts.items()
            if value is not None and sequence > self.fact_versions.get(name, 0)
        }
        if not newer:
            return self
        versions = {**self.fact_versions, **dict.fromkeys(newer, sequence)}
        return replace(self, **newer, fact_versions=versions)


def vendor_facts(event: Event) -> dict[str, Any]:
    """The facts a registration event states about its vendor (none for other events)."""
    match event:
        case VendorRegistered():
            return {
                "status": STATUS_AFTER[VendorRegistered],
                "legal_form": event.legal_form,
                "scale": event.scale,
                "region_code": event.region_code,
            }
        case VendorVerified() | VendorReinstated() | VendorSuspended():
            return {"status": STATUS_AFTER[type(event)]}
        case VendorProfileUpdated():
            return {
                "legal_form": event.legal_form,
                "scale": event.scale,
                "region_code": event.region_code,
            }
    return {}


VendorEvent = (
    VendorRegistered | VendorVerified | VendorProfileUpdated | VendorSuspended | VendorReinstated
)
"""The registration events that state facts about their vendor."""


def hear(
    view: VendorView, sequence: int, event: VendorEvent
) -> tuple[VendorView, VendorStatus | None]:
    """The view after `event`, and the status it newly gives the vendor (None when it sets no
    newer status): the one its products then follow (`follow_vendor_status`)."""
    after = view.heard(sequence, vendor_facts(event))
    if after.fact_versions.get("status") == view.fact_versions.get("status"):
        return after, None
    return after, after.status


def require_may_list(vendor: VendorView | None, vendor_id: str) -> VendorView:
    """The vendor must be verified and not suspended, as last heard from registration."""
    retry = "retry once registration's events have reached the catalog"
    if vendor is None or vendor.status is None:
        raise RuleBroken(
            "vendor_unknown",
            f"vendor {vendor_id} is not known to the catalog yet; {retry}",
            vendor_status="unknown",
        )
    if vendor.status is VendorStatus.REGISTERED:
        raise RuleBroken(
            "vendor_not_verified",
            f"vendor {vendor_id} is not verified (as last heard from registration); {retry}",
            vendor_status=vendor.status.value,
        )
    if vendor.status is VendorStatus.SUSPENDED:
        raise RuleBroken(
            "vendor_suspended",
            f"vendor {vendor_id} is suspended",
            vendor_status=vendor.status.value,
        )
    if not vendor.profile_known:
        raise RuleBroken(
            "vendor_unknown",
            f"vendor {vendor_id}'s registration has not reached the catalog yet; {retry}",
            vendor_status=vendor.status.value,
        )
    return vendor


def _require_not_suspended(vendor: VendorView) -> None:
    if vendor.status is VendorStatus.SUSPENDED:
        raise RuleBroken(
            "vendor_suspended",
            f"vendor {vendor.vendor_id} is suspended: its products cannot change",
            vendor_status=vendor.status.value,
        )


# --- products -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ProductDraft:
    """What a vendor asks to list: the fields it gives, each declared once here. The product,
    the ProductListed event and the create schema take them by these names."""

    vendor_id: str
    catalog: Catalog
    catalog_region_code: str | None
    category: str
    name: str
    brand: str | None
    unit: str
    price_idr: int
    domestic: bool
    tkdn_pct: Decimal | None = None
    bmp_pct: Decimal | None = None
    tkdn_certificate_no: str | None = None


@dataclass(frozen=True, kw_only=True)
class Product(ProductDraft):
    """A listed product: the draft it was listed from, as since changed, and its state."""

    product_id: str
    tkdn_valid_until: date | None
    status: ProductStatus
    delist_reason: DelistReason | None
    version: int
    """The sequence of the product's last event."""
    listed_at: datetime
    updated_at: datetime


Change = tuple[Product, Event]
"""A product's new state and the event recording it (its sequence is the new version)."""


def check_price(price_idr: int, field: str = "price_idr") -> None:
    if price_idr <= 0:
        raise InvalidField(field, "must be more than 0 rupiah")


def check_percent(field: str, value: Decimal, maximum: Decimal) -> None:
    if not Decimal(0) <= value <= maximum:
        raise InvalidField(field, f"must be between 0 and {maximum}")
    if value != value.quantize(Decimal("0.01")):
        raise InvalidField(field, "at most two decimals")


def check_catalog_region(catalog: Catalog, catalog_region_code: str | None) -> None:
    if catalog is Catalog.LOKAL and catalog_region_code is None:
        raise InvalidField("catalog_region_code", "required for the lokal catalog")
    if catalog is not Catalog.LOKAL and catalog_region_code is not None:
        raise InvalidField("catalog_region_code", "only the lokal catalog belongs to a region")


def check_draft(draft: ProductDraft) -> None:
    """Rules on the listing request alone (422 when broken)."""
    check_catalog_region(draft.catalog, draft.catalog_region_code)
    check_price(draft.price_idr)
    if draft.tkdn_pct is not None:
        check_percent("tkdn_pct", draft.tkdn_pct, TKDN_MAX)
        if draft.tkdn_certificate_no is None:
            raise InvalidField("tkdn_certificate_no", "required when tkdn_pct is given")
    elif draft.tkdn_certificate_no is not None:
        raise InvalidField("tkdn_pct", "required when tkdn_certificate_no is given")
    if draft.bmp_pct is not None:
        check_percent("bmp_pct", draft.bmp_pct, BMP_MAX)


def list_product(
    draft: ProductDraft, vendor: VendorView | None, *, product_id: str, now: datetime
) -> tuple[Product, ProductListed]:
    """A new displayed product, if the draft is valid and the vendor may list it."""
    check_draft(draft)
    seller = require_may_list(vendor, draft.vendor_id)
    assert seller.legal_form and seller.scale and seller.region_code  # profile_known
    if draft.catalog_region_code is not None and not covers(
        draft.catalog_region_code, seller.region_code
    ):
        raise RuleBroken(
            "lokal_outside_vendor_region",
            f"a lokal product goes in its vendor's own region: vendor {seller.vendor_id} is in"
            f" {seller.region_code}, not {draft.catalog_region_code}",
            vendor_region_code=seller.region_code,
        )
    given = asdict(draft)
    product = Product(
        **given,
        product_id=product_id,
        tkdn_valid_until=None,
        status=ProductStatus.TAYANG,
        delist_reason=None,
        version=1,
        listed_at=now,
        updated_at=now,
    )
    event = ProductListed(
        **given,
        product_id=product_id,
        vendor_scale=seller.scale,
        vendor_legal_form=seller.legal_form,
        vendor_region_code=seller.region_code,
        listed_at=now,
    )
    return product, event


def _next(product: Product, now: datetime, **changes: Any) -> Product:
    return replace(product, version=product.version + 1, updated_at=now, **changes)


def change_price(
    product: Product, price_idr: int, vendor: VendorView, now: datetime
) -> Change | None:
    """None when the price is already that (nothing changes, no event)."""
    check_price(price_idr)
    _require_not_suspended(vendor)
    if price_idr == product.price_idr:
        return None
    event = ProductPriceChanged(
        product_id=product.product_id,
        price_idr=price_idr,
        previous_price_idr=product.price_idr,
        changed_at=now,
    )
    return _next(product, now, price_idr=price_idr), event


def certify_tkdn(
    product: Product,
    *,
    tkdn_pct: Decimal,
    bmp_pct: Decimal,
    certificate_no: str,
    valid_until: date,
    vendor: VendorView,
    now: datetime,
    today: date,
) -> Change | None:
    """None when the product already holds exactly this certificate."""
    check_percent("tkdn_pct", tkdn_pct, TKDN_MAX)
    check_percent("bmp_pct", bmp_pct, BMP_MAX)
    if valid_until < today:
        raise InvalidField("valid_until", "the certificate has already expired")
    _require_not_suspended(vendor)
    certificate = (tkdn_pct, bmp_pct, certificate_no, valid_until)
    held = (
        product.tkdn_pct,
        product.bmp_pct,
        product.tkdn_certificate_no,
        product.tkdn_valid_until,
    )
    if certificate == held:
        return None
    event = ProductTkdnCertified(
        product_id=product.product_id,
        tkdn_pct=tkdn_pct,
        bmp_pct=bmp_pct,
        certificate_no=certificate_no,
        valid_until=valid_until,
        certified_at=now,
    )
    updated = _next(
        product,
        now,
        tkdn_pct=tkdn_pct,
        bmp_pct=bmp_pct,
        tkdn_certificate_no=certificate_no,
        tkdn_valid_until=valid_until,
    )
    return updated, event


DELIST_REASON_OF = {Actor.VENDOR: DelistReason.VENDOR_REQUEST, Actor.ADMIN: DelistReason.ADMIN}
RELISTABLE_BY = {
    Actor.VENDOR: {DelistReason.VENDOR_REQUEST, DelistReason.VENDOR_SUSPENDED},
    Actor.ADMIN: {DelistReason.ADMIN},
}


def delist(
    product: Product,
    actor: Actor,
    vendor: VendorView,
    now: datetime,
    *,
    requested: DelistReason | None = None,
) -> Change:
    """The reason follows from who delists; a requested reason must agree with it."""
    reason = DELIST_REASON_OF[actor]
    if requested is not None and requested is not reason:
        raise InvalidField("reason", f"a {actor.value} delists with reason '{reason.value}'")
    _require_not_suspended(vendor)
    if product.status is ProductStatus.DELISTED:
        raise RuleBroken(
            "transition_forbidden",
            f"product {product.product_id} is already delisted ({product.delist_reason})",
            product_status=product.status.value,
        )
    return _delisted(product, reason, now)


def relist(product: Product, actor: Actor, vendor: VendorView, now: datetime) -> Change:
    if product.status is ProductStatus.TAYANG:
        raise RuleBroken(
            "transition_forbidden",
            f"product {product.product_id} is already displayed (tayang)",
            product_status=product.status.value,
        )
    _require_not_suspended(vendor)
    # Whoever took a product down decides when it returns: a vendor cannot undo an admin's
    # takedown, nor an admin a vendor's own. A suspension's takedown is the vendor's to undo
    # (reinstatement normally does it).
    if product.delist_reason not in RELISTABLE_BY[actor]:
        owner = "the regional admin" if actor is Actor.VENDOR else "the vendor"
        raise RuleBroken(
            "relist_by_delister_only",
            f"product {product.product_id} was delisted ({product.delist_reason});"
            f" only {owner} may relist it",
            delist_reason=product.delist_reason,
        )
    return _relisted(product, now)


def _delisted(product: Product, reason: DelistReason, now: datetime) -> Change:
    event = ProductDelisted(product_id=product.product_id, reason=reason, delisted_at=now)
    return _next(product, now, status=ProductStatus.DELISTED, delist_reason=reason), event


def _relisted(product: Product, now: datetime) -> Change:
    event = ProductRelisted(product_id=product.product_id, relisted_at=now)
    return _next(product, now, status=ProductStatus.TAYANG, delist_reason=None), event


def follow_vendor_status(
    status: VendorStatus, products: Iterable[Product], at: datetime
) -> list[Change]:
    """What a vendor's new status does to its products: suspension delists every displayed one
    (`vendor_suspended`); verification (reinstatement) relists exactly those, not the ones the
    vendor or an admin took down."""
    if status is VendorStatus.SUSPENDED:
        return [
            _delisted(p, DelistReason.VENDOR_SUSPENDED, at)
            for p in products
            if p.status is ProductStatus.TAYANG
        ]
    if status is VendorStatus.VERIFIED:
        return [
            _relisted(p, at)
            for p in products
            if p.status is ProductStatus.DELISTED
            and p.delist_reason is DelistReason.VENDOR_SUSPENDED
        ]
    return []


def status_change_time(event: Event) -> datetime | None:
    """When a vendor event's status change took effect: the time its product changes carry."""
    match event:
        case VendorSuspended():
            return event.suspended_at
        case VendorReinstated():
            return event.reinstated_at
        case VendorVerified():
            return event.verified_at
    return None
