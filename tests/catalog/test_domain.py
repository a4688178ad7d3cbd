"""The catalog's rules without I/O: the vendor view, listing rules, the product state machine."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from etalase_catalog.domain import (
    Actor,
    Product,
    ProductDraft,
    ProductStatus,
    VendorView,
    certify_tkdn,
    change_price,
    delist,
    follow_vendor_status,
    list_product,
    relist,
    require_may_list,
    vendor_facts,
)
from etalase_events.models import (
    Catalog,
    Channel,
    DelistReason,
    Event,
    LegalForm,
    ProductDelisted,
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
from hypothesis import given
from hypothesis import strategies as st

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
VENDOR_ID = "v-1"


def registered(region: str = "33.75", scale: Scale = Scale.KECIL) -> VendorRegistered:
    return VendorRegistered(
        vendor_id=VENDOR_ID,
        nib="1234567890123",
        name="CV Batik Pesisir",
        legal_form=LegalForm.CV,
        scale=scale,
        region_code=region,
        kbli=("13134",),
        channel=Channel.MPP_DESK,
        registered_at=NOW,
    )


def hear(*events: tuple[int, Event]) -> VendorView:
    view = VendorView(VENDOR_ID)
    for sequence, event in events:
        view = view.heard(sequence, vendor_facts(event))
    return view


VERIFIED = hear((1, registered()), (2, VendorVerified(vendor_id=VENDOR_ID, verified_at=NOW)))
SUSPENDED = replace(VERIFIED, status=VendorStatus.SUSPENDED)


def draft(**changes: Any) -> ProductDraft:
    fields: dict[str, Any] = {
        "vendor_id": VENDOR_ID,
        "catalog": Catalog.LOKAL,
        "catalog_region_code": "33.75",
        "category": "Batik",
        "name": "Batik tulis Pekalongan",
        "brand": "Pesisir",
        "unit": "lembar",
        "price_idr": 450_000,
        "domestic": True,
        "tkdn_pct": Decimal("45.50"),
        "bmp_pct": Decimal("10"),
        "tkdn_certificate_no": "TKDN-2024-001",
    }
    fields.update(changes)
    return ProductDraft(**fields)


def listed(**changes: Any) -> Product:
    product, _ = list_product(draft(**changes), VERIFIED, product_id="p-1", now=NOW)
    return product


# --- the vendor view ------------------------------------------------------------------------


def test_a_registered_then_verified_vendor_may_list() -> None:
    assert VERIFIED.status is VendorStatus.VERIFIED
    assert (VERIFIED.scale, VERIFIED.legal_form, VERIFIED.region_code) == (
        Scale.KECIL,
        LegalForm.CV,
        "33.75",
    )
    assert VERIFIED.version == 2
    assert require_may_list(VERIFIED, VENDOR_ID) is VERIFIED


def test_an_event_already_heard_or_older_changes_nothing() -> None:
    suspended = VendorSuspended(vendor_id=VENDOR_ID, reason="x", suspended_at=NOW)
    view = VERIFIED.heard(3, vendor_facts(suspended))
    assert view.status is VendorStatus.SUSPENDED
    assert view.heard(3, vendor_facts(suspended)) is view  # redelivered
    verified = VendorVerified(vendor_id=VENDOR_ID, verified_at=NOW)
    assert view.heard(2, vendor_facts(verified)) is view  # stale


def test_a_verification_heard_before_the_registration_is_kept_and_the_profile_filled_in() -> None:
    early = hear((2, VendorVerified(vendor_id=VENDOR_ID, verified_at=NOW)))
    assert early.status is VendorStatus.VERIFIED and not early.profile_known
    with pytest.raises(RuleBroken) as refused:
        require_may_list(early, VENDOR_ID)
    assert refused.value.details == {"vendor_status": "verified"}

    complete = early.heard(1, vendor_facts(registered()))
    assert complete.status is VendorStatus.VERIFIED  # the older event cannot undo it
    assert complete.profile_known
    require_may_list(complete, VENDOR_ID)


def test_a_profile_update_changes_only_the_fields_it_carries() -> None:
    update = VendorProfileUpdated(vendor_id=VENDOR_ID, updated_at=NOW, scale=Scale.MENENGAH)
    view = VERIFIED.heard(3, vendor_facts(update))
    assert (view.scale, view.legal_form, view.region_code) == (
        Scale.MENENGAH,
        LegalForm.CV,
        "33.75",
    )
    older = VendorProfileUpdated(vendor_id=VENDOR_ID, updated_at=NOW, scale=Scale.MIKRO)
    assert view.heard(3, vendor_facts(older)).scale is Scale.MENENGAH


HISTORY: list[tuple[int, Event]] = [
    (1, registered()),
    (2, VendorVerified(vendor_id=VENDOR_ID, verified_at=NOW)),
    (3, VendorProfileUpdated(vendor_id=VENDOR_ID, updated_at=NOW, scale=Scale.MENENGAH)),
    (4, VendorSuspended(vendor_id=VENDOR_ID, reason="x", suspended_at=NOW)),
    (5, VendorProfileUpdated(vendor_id=VENDOR_ID, updated_at=NOW, region_code="33.26")),
    (6, VendorReinstated(vendor_id=VENDOR_ID, reinstated_at=NOW)),
    (7, VendorSuspended(vendor_id=VENDOR_ID, reason="y", suspended_at=NOW)),
]


@given(st.permutations(HISTORY), st.lists(st.sampled_from(HISTORY), max_size=5))
def test_any_arrival_order_with_any_redelivery_ends_in_the_newest_facts(
    order: list[tuple[int, Event]], redelivered: list[tuple[int, Event]]
) -> None:
    in_order = hear(*HISTORY)
    assert hear(*order, *redelivered) == in_order
    assert (in_order.status, in_order.scale, in_order.region_code) == (
        VendorStatus.SUSPENDED,
        Scale.MENENGAH,
        "33.26",
    )


@pytest.mark.parametrize(
    ("view", "status"),
    [
        (None, "unknown"),
        (VendorView(VENDOR_ID), "unknown"),
        (hear((1, registered())), "registered"),
        (SUSPENDED, "suspended"),
    ],
)
def test_only_a_verified_unsuspended_vendor_may_list(view: VendorView | None, status: str) -> None:
    with pytest.raises(RuleBroken) as refused:
        list_product(draft(), view, product_id="p-1", now=NOW)
    assert refused.value.details["vendor_status"] == status


# --- listing ----------------------------------------------------------------------------------


def test_listing_displays_the_product_and_snapshots_the_vendor_in_its_event() -> None:
    product, event = list_product(draft(), VERIFIED, product_id="p-1", now=NOW)
    assert product.status is ProductStatus.TAYANG and product.version == 1
    assert product.delist_reason is None
    assert event.model_dump() == {
        "product_id": "p-1",
        "vendor_id": VENDOR_ID,
        "catalog": Catalog.LOKAL,
        "catalog_region_code": "33.75",
        "category": "Batik",
        "name": "Batik tulis Pekalongan",
        "brand": "Pesisir",
        "unit": "lembar",
        "price_idr": 450_000,
        "domestic": True,
        "tkdn_pct": Decimal("45.50"),
        "bmp_pct": Decimal("10"),
        "tkdn_certificate_no": "TKDN-2024-001",
        "vendor_scale": Scale.KECIL,
        "vendor_legal_form": LegalForm.CV,
        "vendor_region_code": "33.75",
        "listed_at": NOW,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"catalog_region_code": None}, "catalog_region_code"),
        ({"catalog": Catalog.NASIONAL}, "catalog_region_code"),
        ({"price_idr": 0}, "price_idr"),
        ({"price_idr": -5}, "price_idr"),
        ({"tkdn_pct": Decimal("100.01")}, "tkdn_pct"),
        ({"tkdn_pct": Decimal("-1")}, "tkdn_pct"),
        ({"tkdn_pct": Decimal("40.123")}, "tkdn_pct"),
        ({"bmp_pct": Decimal("15.01")}, "bmp_pct"),
        ({"tkdn_certificate_no": None}, "tkdn_certificate_no"),
        ({"tkdn_pct": None, "bmp_pct": None}, "tkdn_pct"),  # a certificate with no TKDN value
    ],
)
def test_invalid_listings_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as invalid:
        list_product(draft(**changes), VERIFIED, product_id="p-1", now=NOW)
    assert invalid.value.field == field


def test_limits_are_inclusive_and_tkdn_is_optional() -> None:
    assert listed(tkdn_pct=Decimal(100), bmp_pct=Decimal(15)).tkdn_pct == Decimal(100)
    assert listed(tkdn_pct=Decimal(0), bmp_pct=Decimal(0)).bmp_pct == Decimal(0)
    bare = listed(tkdn_pct=None, bmp_pct=None, tkdn_certificate_no=None)
    assert bare.tkdn_pct is None


def test_a_lokal_product_goes_in_its_vendors_own_region_or_province() -> None:
    assert listed(catalog_region_code="33").catalog_region_code == "33"
    for elsewhere in ("33.26", "34", "33.7"):
        with pytest.raises(RuleBroken):
            listed(catalog_region_code=elsewhere)
    assert listed(catalog=Catalog.TOKO_DARING, catalog_region_code=None).catalog_region_code is None


# --- the product state machine ----------------------------------------------------------------


def test_a_price_change_records_the_previous_price_and_bumps_the_version() -> None:
    product = listed()
    changed = change_price(product, 475_000, VERIFIED, LATER)
    assert changed is not None
    updated, event = changed
    assert (updated.price_idr, updated.version, updated.updated_at) == (475_000, 2, LATER)
    assert event == ProductPriceChanged(
        product_id="p-1", price_idr=475_000, previous_price_idr=450_000, changed_at=LATER
    )
    assert change_price(updated, 475_000, VERIFIED, LATER) is None  # nothing changes
    with pytest.raises(InvalidField):
        change_price(product, 0, VERIFIED, LATER)
    with pytest.raises(RuleBroken):
        change_price(product, 500_000, SUSPENDED, LATER)


def test_a_tkdn_certificate_replaces_the_values_unless_it_expired() -> None:
    product = listed(tkdn_pct=None, bmp_pct=None, tkdn_certificate_no=None)
    valid_until = date(2027, 1, 1)
    certify: dict[str, Any] = {
        "tkdn_pct": Decimal("42.5"),
        "bmp_pct": Decimal("7.25"),
        "certificate_no": "TKDN-2025-777",
        "valid_until": valid_until,
        "vendor": VERIFIED,
        "now": LATER,
        "today": date(2025, 3, 4),
    }
    changed = certify_tkdn(product, **certify)
    assert changed is not None
    updated, event = changed
    assert (updated.tkdn_pct, updated.bmp_pct, updated.version) == (
        Decimal("42.5"),
        Decimal("7.25"),
        2,
    )
    assert updated.tkdn_certificate_no == "TKDN-2025-777"
    assert updated.tkdn_valid_until == valid_until
    assert event == ProductTkdnCertified(
        product_id="p-1",
        tkdn_pct=Decimal("42.5"),
        bmp_pct=Decimal("7.25"),
        certificate_no="TKDN-2025-777",
        valid_until=valid_until,
        certified_at=LATER,
    )
    assert certify_tkdn(updated, **certify) is None  # the same certificate again
    with pytest.raises(InvalidField) as expired:
        certify_tkdn(product, **{**certify, "today": date(2027, 1, 2)})
    assert expired.value.field == "valid_until"
    with pytest.raises(InvalidField) as too_much:
        certify_tkdn(product, **{**certify, "bmp_pct": Decimal(16)})
    assert too_much.value.field == "bmp_pct"
    with pytest.raises(RuleBroken):
        certify_tkdn(product, **{**certify, "vendor": SUSPENDED})


@pytest.mark.parametrize(
    ("actor", "reason"),
    [(Actor.VENDOR, DelistReason.VENDOR_REQUEST), (Actor.ADMIN, DelistReason.ADMIN)],
)
def test_the_delist_reason_follows_from_who_delists(actor: Actor, reason: DelistReason) -> None:
    product, event = delist(listed(), actor, VERIFIED, LATER)
    assert (product.status, product.delist_reason, product.version) == (
        ProductStatus.DELISTED,
        reason,
        2,
    )
    assert event == ProductDelisted(product_id="p-1", reason=reason, delisted_at=LATER)
    with pytest.raises(RuleBroken):
        delist(product, actor, VERIFIED, LATER)  # already delisted
    relisted, event = relist(product, actor, VERIFIED, LATER)
    assert (relisted.status, relisted.delist_reason, relisted.version) == (
        ProductStatus.TAYANG,
        None,
        3,
    )
    assert event == ProductRelisted(product_id="p-1", relisted_at=LATER)


def test_a_requested_reason_must_agree_with_the_caller() -> None:
    for actor, wrong in [
        (Actor.VENDOR, DelistReason.ADMIN),
        (Actor.VENDOR, DelistReason.VENDOR_SUSPENDED),
        (Actor.ADMIN, DelistReason.VENDOR_REQUEST),
    ]:
        with pytest.raises(InvalidField) as invalid:
            delist(listed(), actor, VERIFIED, LATER, requested=wrong)
        assert invalid.value.field == "reason"
    product, _ = delist(
        listed(), Actor.VENDOR, VERIFIED, LATER, requested=DelistReason.VENDOR_REQUEST
    )
    assert product.delist_reason is DelistReason.VENDOR_REQUEST


def test_invalid_transitions_are_refused() -> None:
    with pytest.raises(RuleBroken, match="already displayed"):
        relist(listed(), Actor.VENDOR, VERIFIED, LATER)
    by_admin, _ = delist(listed(), Actor.ADMIN, VERIFIED, LATER)
    with pytest.raises(RuleBroken, match="only the regional admin"):
        relist(by_admin, Actor.VENDOR, VERIFIED, LATER)
    by_vendor, _ = delist(listed(), Actor.VENDOR, VERIFIED, LATER)
    with pytest.raises(RuleBroken, match="only the vendor"):
        relist(by_vendor, Actor.ADMIN, VERIFIED, LATER)
    with pytest.raises(RuleBroken, match="suspended"):
        delist(listed(), Actor.ADMIN, SUSPENDED, LATER)
    with pytest.raises(RuleBroken, match="suspended"):
        relist(by_vendor, Actor.VENDOR, SUSPENDED, LATER)


def test_suspension_delists_the_displayed_products_and_reinstatement_relists_exactly_those() -> (
    None
):
    shown = listed()
    withdrawn, _ = delist(listed(), Actor.VENDOR, VERIFIED, NOW)
    taken_down, _ = delist(listed(), Actor.ADMIN, VERIFIED, NOW)

    delisted = follow_vendor_status(VendorStatus.SUSPENDED, [shown, withdrawn, taken_down], LATER)
    assert len(delisted) == 1
    suspended_product, event = delisted[0]
    assert suspended_product.delist_reason is DelistReason.VENDOR_SUSPENDED
    assert suspended_product.version == 2
    assert event == ProductDelisted(
        product_id="p-1", reason=DelistReason.VENDOR_SUSPENDED, delisted_at=LATER
    )
    with pytest.raises(RuleBroken, match="suspended"):  # not while the vendor is suspended
        relist(suspended_product, Actor.VENDOR, SUSPENDED, LATER)

    products = [suspended_product, withdrawn, taken_down]
    relisted = follow_vendor_status(VendorStatus.VERIFIED, products, LATER)
    assert [(p.status, p.version) for p, _ in relisted] == [(ProductStatus.TAYANG, 3)]
    assert relisted[0][1] == ProductRelisted(product_id="p-1", relisted_at=LATER)
    assert follow_vendor_status(VendorStatus.REGISTERED, products, LATER) == []
    # applied twice, the second application finds nothing left to do
    again = [p for p, _ in relisted]
    assert follow_vendor_status(VendorStatus.VERIFIED, again, LATER) == []
