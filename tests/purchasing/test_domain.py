"""The purchasing rules, without I/O."""

from decimal import Decimal

import pytest
from etalase_events.compliance import meets_pdn_wajib
from etalase_events.models import Catalog, LegalForm, Scale
from etalase_platform.domain_errors import InvalidField, RuleBroken
from etalase_purchasing import domain
from etalase_purchasing.domain import (
    KnownProduct,
    OrderAction,
    OrderStatus,
    RequestedLine,
    VendorFacts,
)


def product(
    product_id: str = "p1",
    *,
    vendor_id: str = "v1",
    category: str = "kertas",
    price: int = 10_000,
    tkdn: str | None = None,
    bmp: str | None = None,
    tayang: bool = True,
) -> KnownProduct:
    return KnownProduct(
        product_id=product_id,
        vendor_id=vendor_id,
        name=f"Produk {product_id}",
        category=category,
        catalog=Catalog.LOKAL,
        price_idr=price,
        domestic=True,
        tkdn_pct=Decimal(tkdn) if tkdn is not None else None,
        bmp_pct=Decimal(bmp) if bmp is not None else None,
        tayang=tayang,
    )


def known(*products: KnownProduct) -> dict[str, KnownProduct]:
    return {p.product_id: p for p in products}


# --- money -------------------------------------------------------------------------------------


def test_lines_are_priced_quantity_times_price_and_the_total_is_their_sum() -> None:
    draft = domain.draft_order(
        [RequestedLine("p1", 3), RequestedLine("p2", 7)],
        known(product("p1", price=149_999), product("p2", price=1_000_000_001)),
        {},
    )
    assert [(line.line_no, line.subtotal_idr) for line in draft.lines] == [
        (1, 449_997),
        (2, 7_000_000_007),
    ]
    assert draft.total_idr == 7_000_450_004
    assert all(isinstance(line.subtotal_idr, int) for line in draft.lines)


def test_an_order_may_use_the_pagu_to_the_last_rupiah() -> None:
    domain.check_fits_pagu(pagu_idr=1_000_000, committed_idr=600_000, order_total_idr=400_000)


def test_an_order_one_rupiah_over_the_remaining_pagu_is_refused_with_the_figures() -> None:
    with pytest.raises(RuleBroken) as refused:
        domain.check_fits_pagu(pagu_idr=1_000_000, committed_idr=600_000, order_total_idr=400_001)
    assert refused.value.rule == "pagu_exceeded"
    assert refused.value.details == {
        "order_total_idr": 400_001,
        "pagu_idr": 1_000_000,
        "committed_idr": 600_000,
        "remaining_idr": 400_000,
    }


def test_after_a_pagu_cut_below_commitments_nothing_more_fits() -> None:
    with pytest.raises(RuleBroken) as refused:
        domain.check_fits_pagu(pagu_idr=100, committed_idr=500, order_total_idr=1)
    assert refused.value.details["remaining_idr"] == 0


# --- pdn_alternative_available ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tkdn", "bmp", "meets"),
    [
        ("25", "15", True),
        ("40", None, True),
        ("24.99", "15", False),  # TKDN below 25, whatever the BMP
        ("25", "14.99", False),  # TKDN + BMP just below 40
        ("25.01", "14.99", True),  # exactly 40, in decimals that floats would round
        (None, None, False),
        (None, "15", False),
    ],
)
def test_pdn_wajib_needs_tkdn_25_and_tkdn_plus_bmp_40(
    tkdn: str | None, bmp: str | None, meets: bool
) -> None:
    assert meets_pdn_wajib(Decimal(tkdn) if tkdn else None, Decimal(bmp) if bmp else None) is meets


def test_a_line_has_a_pdn_alternative_when_its_category_holds_one_and_it_is_not_one() -> None:
    lines = domain.draft_order(
        [RequestedLine("low", 1), RequestedLine("none", 1), RequestedLine("ok", 1)],
        known(
            product("low", tkdn="30", bmp="5"),
            product("none"),
            product("ok", tkdn="30", bmp="10"),
        ),
        {"kertas": ["a1", "a2", "a3", "a4", "a5", "a6"]},
    ).lines
    assert [line.pdn_alternative_available for line in lines] == [True, True, False]
    # the best five, in the ranking given; none on the line that is PDN-wajib itself
    assert [line.pdn_alternatives for line in lines] == [
        ("a1", "a2", "a3", "a4", "a5"),
        ("a1", "a2", "a3", "a4", "a5"),
        (),
    ]


def test_no_pdn_alternative_when_the_category_holds_none() -> None:
    (line,) = domain.draft_order(
        [RequestedLine("p1", 1)], known(product("p1", category="kertas")), {"tinta": ["t1"]}
    ).lines
    assert line.pdn_alternative_available is False


# --- drafting an order -------------------------------------------------------------------------


def test_the_order_snapshots_product_facts() -> None:
    (line,) = domain.draft_order(
        [RequestedLine("p1", 2)], known(product("p1", tkdn="42.5", bmp="7.25")), {}
    ).lines
    assert (line.name, line.category, line.catalog, line.domestic) == (
        "Produk p1",
        "kertas",
        Catalog.LOKAL,
        True,
    )
    assert (line.tkdn_pct, line.bmp_pct) == (Decimal("42.5"), Decimal("7.25"))


def test_a_product_on_two_lines_is_refused_naming_the_second_line() -> None:
    with pytest.raises(InvalidField) as refused:
        domain.draft_order(
            [RequestedLine("p1", 1), RequestedLine("p2", 1), RequestedLine("p1", 2)],
            known(product("p1"), product("p2")),
            {},
        )
    assert refused.value.field == "lines.2.product_id"


def test_products_of_two_vendors_are_refused() -> None:
    with pytest.raises(InvalidField) as refused:
        domain.draft_order(
            [RequestedLine("p1", 1), RequestedLine("p2", 1)],
            known(product("p1", vendor_id="v1"), product("p2", vendor_id="v2")),
            {},
        )
    assert refused.value.field == "lines"


def test_an_unknown_product_is_a_conflict_naming_it() -> None:
    with pytest.raises(RuleBroken) as refused:
        domain.draft_order([RequestedLine("p1", 1), RequestedLine("p9", 1)], known(product()), {})
    assert refused.value.rule == "product_unknown"
    assert refused.value.details == {"product_ids": ["p9"]}


def test_a_product_not_displayed_is_a_conflict_naming_it() -> None:
    with pytest.raises(RuleBroken) as refused:
        domain.draft_order(
            [RequestedLine("p1", 1), RequestedLine("p2", 1)],
            known(product("p1"), product("p2", tayang=False)),
            {},
        )
    assert refused.value.rule == "product_not_displayed"
    assert refused.value.details == {"product_ids": ["p2"]}


# --- vendor facts ------------------------------------------------------------------------------


def test_registration_facts_win_over_the_listing_snapshot_field_by_field() -> None:
    resolved = domain.resolve_vendor(
        VendorFacts(scale=Scale.MENENGAH),
        VendorFacts(Scale.MIKRO, LegalForm.KOPERASI, "33.75"),
    )
    assert resolved == domain.ResolvedVendor(Scale.MENENGAH, LegalForm.KOPERASI, "33.75")


def test_a_vendor_with_a_fact_missing_everywhere_is_unresolved() -> None:
    assert domain.resolve_vendor(VendorFacts(Scale.KECIL), VendorFacts()) is None


# --- budgets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("opd_code", ["33.75.1.02.01", "33.75.DINKES", "33.75.7"])
def test_opd_codes_are_the_region_a_dot_and_the_agency_code(opd_code: str) -> None:
    domain.check_opd_code(opd_code, "33.75")


@pytest.mark.parametrize("opd_code", ["33.75", "33.75.", "33.751.02", "33.74.1.02", "33.75.1..2"])
def test_other_opd_codes_are_refused(opd_code: str) -> None:
    with pytest.raises(InvalidField) as refused:
        domain.check_opd_code(opd_code, "33.75")
    assert refused.value.field == "opd_code"


def test_the_budget_subject_is_year_colon_opd() -> None:
    assert domain.budget_subject(2025, "33.75.1.02") == "2025:33.75.1.02"
    assert domain.region_of_opd("33.75.1.02") == "33.75"


# --- lifecycle ---------------------------------------------------------------------------------

ALLOWED = {
    (OrderStatus.PLACED, OrderAction.ACCEPT): OrderStatus.ACCEPTED,
    (OrderStatus.ACCEPTED, OrderAction.COMPLETE): OrderStatus.COMPLETED,
    (OrderStatus.PLACED, OrderAction.CANCEL): OrderStatus.CANCELLED,
    (OrderStatus.ACCEPTED, OrderAction.CANCEL): OrderStatus.CANCELLED,
}


@pytest.mark.parametrize("status", list(OrderStatus))
@pytest.mark.parametrize("action", list(OrderAction))
def test_the_lifecycle_allows_exactly_its_transitions(
    status: OrderStatus, action: OrderAction
) -> None:
    if (status, action) in ALLOWED:
        assert domain.transition(status, action) is ALLOWED[status, action]
    else:
        with pytest.raises(RuleBroken) as refused:
            domain.transition(status, action)
        assert refused.value.rule == "transition_forbidden"


def test_only_cancelled_orders_stop_counting_against_the_pagu() -> None:
    assert set(OrderStatus) - set(domain.COMMITTING_STATUSES) == {OrderStatus.CANCELLED}
