"""An independent recomputation of the compliance figures straight from a list of events.

Written from compliance.md without looking at the service's code: no deltas, no facts table, just
"which events exist, and what do they say as of the end of a day". Shares use Fraction.
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any

from etalase_events.models import (
    BudgetAllocated,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
)

from tests.reporting.support import Sent

TARGETS = {"umkk_of_pagu": 40, "ecatalog_of_pagu": 30, "pdn_of_spend": 95}
MEASURES = [
    "orders",
    "total_idr",
    "ecatalog_idr",
    "katalog_lokal_idr",
    "toko_daring_idr",
    "pdn_idr",
    "tkdn25_idr",
    "pdn_wajib_idr",
    "umkk_idr",
    "local_idr",
]


def day_in_jakarta(moment: datetime) -> date:
    return (moment.astimezone(UTC) + timedelta(hours=7)).date()


def _by(moment: datetime | None, as_of: date | None) -> bool:
    return moment is not None and (as_of is None or day_in_jakarta(moment) <= as_of)


@dataclass
class _Order:
    placed: OrderPlaced | None = None
    placed_key: tuple[int, str] | None = None
    completed_at: datetime | None = None
    completed_key: tuple[int, str] | None = None
    cancelled_at: datetime | None = None
    cancelled_key: tuple[int, str] | None = None


def _orders(events: list[Sent]) -> dict[str, _Order]:
    """Per order, the first (lowest sequence, then id) event of each stage."""
    orders: dict[str, _Order] = defaultdict(_Order)
    for item in events:
        event, key = item.event, (item.sequence, item.event_id)
        if isinstance(event, OrderPlaced):
            order = orders[event.order_id]
            if order.placed_key is None or key < order.placed_key:
                order.placed, order.placed_key = event, key
        elif isinstance(event, OrderCompleted):
            order = orders[event.order_id]
            if order.completed_key is None or key < order.completed_key:
                order.completed_at, order.completed_key = event.completed_at, key
        elif isinstance(event, OrderCancelled):
            order = orders[event.order_id]
            if order.cancelled_key is None or key < order.cancelled_key:
                order.cancelled_at, order.cancelled_key = event.cancelled_at, key
    return orders


def _is_umkk(order: OrderPlaced) -> bool:
    return order.vendor_scale.value in ("mikro", "kecil") or order.vendor_legal_form == "koperasi"


def _amounts(order: OrderPlaced) -> dict[str, int]:
    umkk = _is_umkk(order)
    local = order.vendor_region_code == order.region_code
    out = dict.fromkeys(MEASURES, 0)
    out["orders"] = 1
    out["total_idr"] = order.total_idr
    out["umkk_idr"] = order.total_idr if umkk else 0
    out["local_idr"] = order.total_idr if local else 0
    for item in order.lines:
        if item.catalog.value != "toko_daring":
            out["ecatalog_idr"] += item.subtotal_idr
        if item.catalog.value == "lokal":
            out["katalog_lokal_idr"] += item.subtotal_idr
        if item.catalog.value == "toko_daring":
            out["toko_daring_idr"] += item.subtotal_idr
        if item.domestic:
            out["pdn_idr"] += item.subtotal_idr
        tkdn = Fraction(item.tkdn_pct) if item.tkdn_pct is not None else None
        bmp = Fraction(item.bmp_pct) if item.bmp_pct is not None else Fraction(0)
        if tkdn is not None and tkdn >= 25:
            out["tkdn25_idr"] += item.subtotal_idr
            if tkdn + bmp >= 40:
                out["pdn_wajib_idr"] += item.subtotal_idr
    return out


def _share(numerator: int, denominator: int) -> float | None:
    if denominator == 0:
        return None
    hundredths = math.floor(Fraction(numerator * 100 * 100, denominator) + Fraction(1, 2))
    return hundredths / 100


def _status(numerator: int, denominator: int, target: int) -> str:
    if denominator == 0:
        return "no_data"
    return "met" if Fraction(numerator * 100, denominator) >= target else "not_met"


def figures(pagu: int, placed: dict[str, int], realized: dict[str, int]) -> dict[str, Any]:
    terms = {
        "umkk_of_pagu": (realized["umkk_idr"], pagu),
        "ecatalog_of_pagu": (realized["ecatalog_idr"], pagu),
        "pdn_of_spend": (realized["pdn_idr"], realized["total_idr"]),
        "local_of_spend": (realized["local_idr"], realized["total_idr"]),
    }
    return {
        "pagu_idr": pagu,
        "placed": placed,
        "realized": realized,
        "shares": {name: _share(*terms[name]) for name in terms},
        "targets": {
            name: {"target": float(target), "status": _status(*terms[name], target)}
            for name, target in TARGETS.items()
        },
    }


@dataclass
class OpdTotals:
    opd_code: str
    opd_name: str | None
    region_code: str
    pagu: int
    placed: dict[str, int]
    realized: dict[str, int]
    violations: int
    substitution_lines: int


def opd_totals(events: list[Sent], fiscal_year: int, as_of: date | None) -> list[OpdTotals]:
    budgets: dict[str, tuple[tuple[datetime, int, str], BudgetAllocated]] = {}
    names: dict[str, tuple[tuple[datetime, int, str], BudgetAllocated]] = {}
    for item in events:
        event = item.event
        if isinstance(event, BudgetAllocated) and event.fiscal_year == fiscal_year:
            key = (event.allocated_at, item.sequence, item.event_id)
            if event.opd_code not in names or key > names[event.opd_code][0]:
                names[event.opd_code] = (key, event)
            if _by(event.allocated_at, as_of) and (
                event.opd_code not in budgets or key > budgets[event.opd_code][0]
            ):
                budgets[event.opd_code] = (key, event)
    totals: dict[str, OpdTotals] = {}

    def opd(code: str, region: str) -> OpdTotals:
        if code not in totals:
            known = names.get(code)
            totals[code] = OpdTotals(
                opd_code=code,
                opd_name=known[1].opd_name if known else None,
                region_code=known[1].region_code if known else region,
                pagu=budgets[code][1].pagu_idr if code in budgets else 0,
                placed=dict.fromkeys(MEASURES, 0),
                realized=dict.fromkeys(MEASURES, 0),
                violations=0,
                substitution_lines=0,
            )
        return totals[code]

    for code, (_, allocation) in budgets.items():
        opd(code, allocation.region_code)
    for order in _orders(events).values():
        placement = order.placed
        if placement is None or placement.fiscal_year != fiscal_year:
            continue
        active = _by(placement.placed_at, as_of) or _by(order.completed_at, as_of)
        if not active:
            continue
        row = opd(placement.opd_code, placement.region_code)
        amounts = _amounts(placement)
        if _by(placement.placed_at, as_of) and not _by(order.cancelled_at, as_of):
            for name in MEASURES:
                row.placed[name] += amounts[name]
            umkk = _is_umkk(placement)
            row.violations += int(placement.total_idr <= 15_000_000_000 and not umkk)
            row.substitution_lines += len(
                [x for x in placement.lines if x.pdn_alternative_available]
            )
        if _by(order.completed_at, as_of):
            for name in MEASURES:
                row.realized[name] += amounts[name]
    return sorted(totals.values(), key=lambda row: row.opd_code)


def _flags(violations: int, lines: int) -> dict[str, int]:
    return {"reserved_package_violations": violations, "pdn_substitution_lines": lines}


def opd_report(events: list[Sent], fiscal_year: int, as_of: date | None) -> list[dict[str, Any]]:
    """The `items` of GET /compliance/opd, as JSON."""
    return [
        {
            "opd_code": row.opd_code,
            "opd_name": row.opd_name,
            "region_code": row.region_code,
            **figures(row.pagu, row.placed, row.realized),
            "flags": _flags(row.violations, row.substitution_lines),
        }
        for row in opd_totals(events, fiscal_year, as_of)
    ]


def region_report(
    events: list[Sent], fiscal_year: int, as_of: date | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The `items` and `provinces` of GET /compliance/regions, as JSON."""
    groups: dict[tuple[str, str], list[OpdTotals]] = defaultdict(list)
    for row in opd_totals(events, fiscal_year, as_of):
        groups["region", row.region_code].append(row)
        groups["province", row.region_code[:2]].append(row)
    out: dict[str, list[dict[str, Any]]] = {"region": [], "province": []}
    for (level, code), rows in sorted(groups.items()):
        placed = {m: sum(r.placed[m] for r in rows) for m in MEASURES}
        realized = {m: sum(r.realized[m] for r in rows) for m in MEASURES}
        key = "region_code" if level == "region" else "province_code"
        out[level].append(
            {
                key: code,
                "opds": len(rows),
                **figures(sum(r.pagu for r in rows), placed, realized),
                "flags": _flags(
                    sum(r.violations for r in rows), sum(r.substitution_lines for r in rows)
                ),
            }
        )
    return out["region"], out["province"]
