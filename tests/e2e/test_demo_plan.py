"""The demo's plan and its independent compliance computation, without any service (fast)."""

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from stdnum.id import npwp

from demo import compliance, identifiers, report, world
from demo.catalogue import BUYING, BY_NAME, CATEGORIES, COMMON
from demo.context import Context
from demo.ledger import Budget, Ledger, Line, Order
from demo.progress import Log


def _small(*, seed: int = 3, fiscal_year: int = 2026, tag: str = "") -> world.World:
    return world.build(
        seed=seed, fiscal_year=fiscal_year, vendors=60, products=240, orders=150, tag=tag
    )


@pytest.fixture(scope="module")
def plan() -> world.World:
    return _small()


def test_same_seed_same_plan_and_another_year_other_identifiers(plan: world.World) -> None:
    again = _small()
    next_year = _small(fiscal_year=2027)
    assert [v.nib for v in again.vendors] == [v.nib for v in plan.vendors]
    assert again.orders == plan.orders
    assert again.pagu_idr == plan.pagu_idr
    assert not {v.nib for v in next_year.vendors} & {v.nib for v in plan.vendors}


def test_identifiers_are_valid_and_the_spoilt_ones_are_not() -> None:
    plan = world.build(seed=11, fiscal_year=2026, vendors=300, products=300, orders=20)
    for vendor in plan.vendors:
        assert len(vendor.nib) == 13 and vendor.nib.isdigit()
        assert npwp.is_valid(vendor.npwp), vendor.npwp
        assert not npwp.is_valid(identifiers.with_wrong_check_digit(vendor.npwp))
        assert npwp.is_valid(identifiers.printed_npwp(vendor.npwp))
    assert {len(v.npwp) for v in plan.vendors} == {15, 16}


def test_the_plan_covers_every_kind_of_vendor(plan: world.World) -> None:
    bigger = world.build(seed=3, fiscal_year=2026, vendors=500, products=600, orders=10)
    assert set(Counter(v.scale for v in bigger.vendors)) == {"mikro", "kecil", "menengah", "besar"}
    assert set(Counter(v.legal_form for v in bigger.vendors)) == {
        "perorangan", "cv", "pt", "koperasi", "firma", "lainnya"
    }  # fmt: skip
    assert {v.channel for v in bigger.vendors} == {"mpp_desk", "online"}
    fates = Counter(v.fate for v in plan.vendors)
    assert fates["unverified"] >= 1 and fates["suspended"] >= 1 and fates["reinstated"] == 1
    catalogs = Counter(p.catalog for p in bigger.products)
    assert set(catalogs) == {"nasional", "sektoral", "lokal", "toko_daring"}
    assert any(not p.domestic for p in bigger.products)
    assert any(p.tkdn_pct is None for p in bigger.products)


def test_every_category_keeps_a_displayed_pdn_wajib_product(plan: world.World) -> None:
    for category in CATEGORIES:
        assert any(
            p.category == category.name
            and p.delist is None
            and plan.vendors[p.vendor_key].orderable
            and world.meets_pdn_wajib(*p.final_tkdn)
            for p in plan.products
        ), category.name


def test_orders_go_to_one_displayed_vendor_within_the_pagu(plan: world.World) -> None:
    opds = {opd.code: opd for opd in plan.opds}
    committed: Counter[str] = Counter()
    for order in plan.orders:
        products = [plan.products[key] for key, _ in order.lines]
        assert len({p.vendor_key for p in products}) == 1
        assert len({p.key for p in products}) == len(products)
        for product in products:
            assert product.delist is None and plan.vendors[product.vendor_key].orderable
            if product.catalog == "lokal":
                assert product.catalog_region_code == opds[order.opd_code].region_code
        committed[order.opd_code] += world.order_total(plan, order)
    for code, total in committed.items():
        assert total <= plan.pagu_idr[code]
    for code, revised in plan.revised_pagu_idr.items():
        assert revised > plan.pagu_idr[code]
    assert {o.fate for o in plan.orders} == {
        "completed", "cancelled_placed", "cancelled_accepted", "accepted", "placed"
    }  # fmt: skip


@pytest.mark.parametrize("seed", range(40))
def test_any_seed_and_tag_gives_a_playable_plan_even_a_small_one(seed: int) -> None:
    for vendors, products in ((20, 15), (40, 150)):
        plan = world.build(
            seed=seed, fiscal_year=2026, vendors=vendors, products=products, orders=30,
            tag=f"T{seed}",
        )  # fmt: skip
        anchored = {
            p.category
            for p in plan.products
            if p.delist is None
            and plan.vendors[p.vendor_key].orderable
            and world.meets_pdn_wajib(*p.final_tkdn)
        }
        assert len(anchored) == len(CATEGORIES)
        assert len(plan.orders) == 30


def test_what_agencies_buy_is_in_the_catalogue() -> None:
    for wanted in [*BUYING.values(), COMMON]:
        assert all(name in BY_NAME for name in wanted)


def test_a_tag_keeps_opd_codes_apart() -> None:
    tagged = _small(tag="T1")
    assert all(opd.code.endswith(".T1") for opd in tagged.opds)
    assert all(opd.code.startswith(opd.region_code + ".") for opd in tagged.opds)


# --- the independent computation --------------------------------------------------------------


def _line(catalog: str, quantity: int, price: int, *, domestic: bool = True,
          tkdn: str | None = None, bmp: str | None = None, alt: bool = False) -> Line:  # fmt: skip
    return Line(
        "p", "Alat Tulis Kantor", catalog, quantity, price, domestic,
        Decimal(tkdn) if tkdn else None, Decimal(bmp) if bmp else None, alt,
    )  # fmt: skip


def _order(status: str, scale: str, form: str, vendor_region: str, *lines: Line) -> Order:
    order = Order("o", "33.75.1.02.01", "33.75", 2026, scale, form, vendor_region, lines)
    order.status = status
    return order


def test_compliance_measures_shares_targets_and_flags() -> None:
    ledger = Ledger(2026)
    ledger.budgets["33.75.1.02.01"] = Budget("33.75.1.02.01", "Dinas Kesehatan", "33.75", 3_000)
    ledger.orders = [
        # a koperasi of medium size counts as UMK-K; lokal catalogue, certified 30 + 10
        _order("completed", "menengah", "koperasi", "33.75",
               _line("lokal", 10, 100, tkdn="30", bmp="10"),
               _line("toko_daring", 1, 200, domestic=False, alt=True)),
        # usaha menengah does not count; from another region; placed, not yet realised
        _order("accepted", "menengah", "cv", "33.74", _line("nasional", 2, 250, tkdn="24.99")),
        _order("cancelled", "mikro", "perorangan", "33.75", _line("lokal", 1, 10_000)),
    ]  # fmt: skip
    figures = compliance.opd_figures(ledger, compliance.DEFAULT_TARGETS)["33.75.1.02.01"]
    assert figures["realized"] == {
        "orders": 1, "total_idr": 1_200, "ecatalog_idr": 1_000, "katalog_lokal_idr": 1_000,
        "toko_daring_idr": 200, "pdn_idr": 1_000, "tkdn25_idr": 1_000, "pdn_wajib_idr": 1_000,
        "umkk_idr": 1_200, "local_idr": 1_200,
    }  # fmt: skip
    assert figures["placed"]["orders"] == 2
    assert figures["placed"]["total_idr"] == 1_700
    assert figures["placed"]["tkdn25_idr"] == 1_000  # 24.99 is below 25
    assert figures["placed"]["umkk_idr"] == 1_200
    assert figures["shares"] == {
        "umkk_of_pagu": 40.0, "ecatalog_of_pagu": 33.33, "pdn_of_spend": 83.33,
        "local_of_spend": 100.0,
    }  # fmt: skip
    assert figures["targets"]["umkk_of_pagu"] == {"target": 40.0, "status": "met"}
    assert figures["targets"]["pdn_of_spend"]["status"] == "not_met"
    assert figures["flags"] == {"reserved_package_violations": 1, "pdn_substitution_lines": 1}


def test_a_share_that_rounds_to_the_target_does_not_meet_it() -> None:
    realized = dict.fromkeys(compliance.MEASURES, 0) | {"total_idr": 1, "umkk_idr": 39_996}
    flags = {"reserved_package_violations": 0, "pdn_substitution_lines": 0}
    figures = compliance.finish(100_000, realized, realized, flags, compliance.DEFAULT_TARGETS)
    assert figures["shares"]["umkk_of_pagu"] == 40.0
    assert figures["targets"]["umkk_of_pagu"]["status"] == "not_met"
    assert figures["targets"]["pdn_of_spend"]["status"] == "not_met"
    empty = compliance.finish(0, dict.fromkeys(compliance.MEASURES, 0),
                              dict.fromkeys(compliance.MEASURES, 0), flags,
                              compliance.DEFAULT_TARGETS)  # fmt: skip
    assert empty["shares"]["umkk_of_pagu"] is None
    assert empty["targets"]["umkk_of_pagu"]["status"] == "no_data"


def test_region_rows_sum_measures_and_recompute_shares() -> None:
    flags = {"reserved_package_violations": 1, "pdn_substitution_lines": 2}
    a = compliance.finish(1_000, *(dict.fromkeys(compliance.MEASURES, 0) | {"total_idr": 500,
                          "umkk_idr": 500},) * 2, flags, {})  # fmt: skip
    b = compliance.finish(3_000, *(dict.fromkeys(compliance.MEASURES, 0) | {"total_idr": 100},) * 2,
                          flags, {})  # fmt: skip
    both = compliance.summed([a, b], {})
    assert both["pagu_idr"] == 4_000
    assert both["shares"]["umkk_of_pagu"] == 12.5  # not the mean of 50 and 0
    assert both["flags"] == {"reserved_package_violations": 2, "pdn_substitution_lines": 4}
    assert compliance.differences(both, both) == []
    assert compliance.differences(a, b)


def test_the_comparison_catches_a_rupiah_off_and_sums_foreign_opds_into_regions() -> None:
    plan = _small()
    ledger = Ledger(2026)
    for opd in plan.opds:
        ledger.budgets[opd.code] = Budget(opd.code, opd.name, opd.region_code, 1_000_000)
    ctx = Context(plan, None, ledger, Log())  # type: ignore[arg-type]  # no calls are made
    ours = compliance.opd_figures(ledger, compliance.DEFAULT_TARGETS)
    foreign: dict[str, Any] = {"opd_code": "33.75.9.99.99", "region_code": "33.75"}
    foreign |= compliance.summed([], {}) | {"pagu_idr": 5_000}
    opd_rows = [{"opd_code": c, "region_code": c[:5], **f} for c, f in ours.items()] + [foreign]
    region_rows = []
    for region in ("33.26", "33.74", "33.75"):
        rows = [r for r in opd_rows if r["region_code"] == region]
        summed = compliance.summed(rows, compliance.DEFAULT_TARGETS)
        region_rows.append({"region_code": region, "opds": len(rows), **summed})
    province = compliance.summed(opd_rows, compliance.DEFAULT_TARGETS)
    regions = {"items": region_rows, "provinces": [{"province_code": "33", "opds": 14, **province}]}
    targets = compliance.DEFAULT_TARGETS
    agreed = report.compare(ctx, ours, {"items": opd_rows}, regions, targets)
    assert agreed.matches and agreed.opd_rows == 13 and agreed.region_rows == 4
    assert agreed.foreign_opds == {"33.75": 1, "33": 1}

    opd_rows[0] = {**opd_rows[0], "pagu_idr": opd_rows[0]["pagu_idr"] + 1}
    off = report.compare(ctx, ours, {"items": opd_rows}, regions, targets)
    assert off.differences == [
        f"OPD {opd_rows[0]['opd_code']} pagu_idr: ours 1000000 != api 1000001"
    ]
