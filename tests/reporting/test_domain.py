"""The compliance rules and the WIB day, without I/O."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from etalase_events.models import Catalog, LegalForm, OrderLine, OrderPlaced, Scale
from etalase_reporting.domain import (
    STAGES,
    Share,
    TargetStatus,
    classify,
    counted,
    day_rule,
    figures,
    percent,
    target_status,
)
from etalase_reporting.timeline import end_of_day, wib_day

from tests.reporting.support import line, placed


def _order(*lines: OrderLine, **vendor: Any) -> OrderPlaced:
    event = placed(
        "o-1", 2041, "33.75.1.02", "33.75", list(lines), datetime(2041, 1, 5, tzinfo=UTC), **vendor
    ).event
    assert isinstance(event, OrderPlaced)
    return event


def test_classes_of_spend_follow_the_line_snapshots() -> None:
    classes = classify(
        _order(
            line(1, 100, Catalog.NASIONAL, domestic=True, tkdn="30", bmp="10"),
            line(2, 200, Catalog.LOKAL, domestic=True, tkdn="25", bmp=None, alternative=True),
            line(3, 400, Catalog.TOKO_DARING, domestic=False),
            line(4, 800, Catalog.SEKTORAL, domestic=True, tkdn="24.99", bmp="15"),
        )
    )
    total, ecatalog, lokal, toko, pdn, tkdn25, wajib, umkk, local = classes.amounts
    assert (total, ecatalog, lokal, toko) == (1500, 1100, 200, 400)
    assert (pdn, tkdn25, wajib) == (1100, 300, 100)  # 25 + missing bmp (0) < 40
    assert (umkk, local) == (1500, 1500)
    assert classes.pdn_substitution_lines == 1
    assert not classes.reserved_package_violation


def test_umkk_is_mikro_kecil_or_koperasi_never_menengah() -> None:
    def umkk(scale: Scale, legal_form: LegalForm) -> int:
        return classify(_order(line(1, 10), scale=scale, legal_form=legal_form)).amounts[7]

    assert umkk(Scale.MIKRO, LegalForm.PT) == 10
    assert umkk(Scale.KECIL, LegalForm.CV) == 10
    assert umkk(Scale.BESAR, LegalForm.KOPERASI) == 10
    assert umkk(Scale.MENENGAH, LegalForm.CV) == 0


def test_reserved_package_rule_applies_up_to_15_billion_for_non_umkk() -> None:
    def violates(total: int, scale: Scale) -> bool:
        return classify(_order(line(1, total), scale=scale)).reserved_package_violation

    assert violates(15_000_000_000, Scale.MENENGAH)
    assert not violates(15_000_000_001, Scale.MENENGAH)
    assert not violates(1_000, Scale.KECIL)


def test_local_spend_needs_the_vendor_in_the_order_region() -> None:
    assert classify(_order(line(1, 10), vendor_region_code="33.26")).amounts[8] == 0


def test_percent_rounds_half_up_on_exact_integers() -> None:
    assert percent(1, 800) == Decimal("0.13")  # 0.125 exactly
    assert percent(1, 3) == Decimal("33.33")
    assert percent(2, 3) == Decimal("66.67")
    assert percent(5237, 10_000) == Decimal("52.37")
    assert percent(3, 3) == Decimal("100.00")
    assert percent(1, 0) is None


def test_target_status_uses_the_exact_ratio() -> None:
    target = Decimal(40)
    assert target_status(39_996, 100_000, target) is TargetStatus.NOT_MET  # shows as 40.00
    assert target_status(40, 100, target) is TargetStatus.MET
    assert target_status(0, 0, target) is TargetStatus.NO_DATA


def test_figures_compute_shares_from_realized_and_pagu() -> None:
    measures = dict.fromkeys(
        ["orders", "total_idr", "ecatalog_idr", "katalog_lokal_idr", "toko_daring_idr"], 0
    ) | dict.fromkeys(["pdn_idr", "tkdn25_idr", "pdn_wajib_idr", "umkk_idr", "local_idr"], 0)
    realized = measures | {"total_idr": 200, "umkk_idr": 100, "ecatalog_idr": 60, "pdn_idr": 190}
    flags = {"reserved_package_violations": 0, "pdn_substitution_lines": 0}
    result = figures(300, measures, realized, flags, {Share.PDN_OF_SPEND: Decimal(95)})
    assert result.shares[Share.UMKK_OF_PAGU] == Decimal("33.33")
    assert result.shares[Share.ECATALOG_OF_PAGU] == Decimal("20.00")
    assert result.shares[Share.PDN_OF_SPEND] == Decimal("95.00")
    assert result.shares[Share.LOCAL_OF_SPEND] == Decimal("0.00")
    assert result.targets == {Share.PDN_OF_SPEND: (Decimal(95), TargetStatus.MET)}


def test_days_are_wib() -> None:
    assert wib_day(datetime(2041, 3, 1, 16, 59, 59, tzinfo=UTC)) == date(2041, 3, 1)
    assert wib_day(datetime(2041, 3, 1, 17, 0, 0, tzinfo=UTC)) == date(2041, 3, 2)
    assert end_of_day(date(2041, 3, 1)) == datetime(2041, 3, 1, 17, 0, tzinfo=UTC)


def test_an_order_counts_as_placed_until_cancelled_and_as_realized_once_completed() -> None:
    day = {n: date(2041, 3, n) for n in range(1, 5)}
    cancelled = {"placed_day": day[2], "uncounted_day": day[3], "realized_day": None}
    assert [counted(cancelled, day[n]) for n in range(1, 5)] == [
        (False, False),
        (True, False),
        (False, False),
        (False, False),
    ]
    assert counted(cancelled, None) == (False, False)
    completed = {"placed_day": day[1], "uncounted_day": None, "realized_day": day[3]}
    assert [counted(completed, day[n]) for n in (1, 3)] == [(True, False), (True, True)]
    # cancelled on the day it was placed: it never counts
    same_day = {"placed_day": day[1], "uncounted_day": day[1], "realized_day": None}
    assert counted(same_day, day[1]) == (False, False)


def test_each_counting_day_is_set_by_one_stage_and_acceptance_sets_none() -> None:
    assert {stage: getattr(day_rule(stage), "column", None) for stage in STAGES} == {
        "placed": "placed_day",
        "accepted": None,
        "completed": "realized_day",
        "cancelled": "uncounted_day",
    }
