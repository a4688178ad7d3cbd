"""The compliance figures of compliance.md, recomputed from the scenario's ledger.

Written from the specification alone, apart from the reporting service, so that agreement between
the two means something. Figures come out in the shape the reporting API answers with (plain
dicts, shares as numbers with two decimals) so they compare field by field.
"""

import json
import math
import os
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from demo.ledger import Ledger, Order

MEASURES = (
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
)
SHARES = ("umkk_of_pagu", "ecatalog_of_pagu", "pdn_of_spend", "local_of_spend")
DEFAULT_TARGETS: dict[str, Decimal] = {
    "umkk_of_pagu": Decimal(40),  # Perpres 12/2021 Pasal 65 ayat 2
    "ecatalog_of_pagu": Decimal(30),  # LKPP national target
    "pdn_of_spend": Decimal(95),  # SE Kepala LKPP 8/2023
}
RESERVED_PACKAGE_IDR = 15_000_000_000
Figures = dict[str, Any]


def targets_from_env() -> dict[str, Decimal]:
    """The thresholds the reporting service is told to use (ETALASE_TARGETS), else the defaults."""
    targets = dict(DEFAULT_TARGETS)
    for share, value in json.loads(os.environ.get("ETALASE_TARGETS") or "{}").items():
        if value is None:
            targets.pop(share, None)
        else:
            targets[share] = Decimal(str(value))
    return targets


def order_measures(order: Order) -> dict[str, int]:
    """One order's contribution to every measure."""
    m = dict.fromkeys(MEASURES, 0)
    m["orders"] = 1
    for line in order.lines:
        amount = line.subtotal_idr
        m["total_idr"] += amount
        if line.catalog in ("nasional", "sektoral", "lokal"):
            m["ecatalog_idr"] += amount
        if line.catalog == "lokal":
            m["katalog_lokal_idr"] += amount
        if line.catalog == "toko_daring":
            m["toko_daring_idr"] += amount
        if line.domestic:
            m["pdn_idr"] += amount
        tkdn = line.tkdn_pct
        if tkdn is not None and tkdn >= 25:
            m["tkdn25_idr"] += amount
            if tkdn + (line.bmp_pct or Decimal(0)) >= 40:
                m["pdn_wajib_idr"] += amount
    if _umkk(order):
        m["umkk_idr"] = m["total_idr"]
    if order.vendor_region_code == order.region_code:
        m["local_idr"] = m["total_idr"]
    return m


def _umkk(order: Order) -> bool:
    return order.vendor_scale in ("mikro", "kecil") or order.vendor_legal_form == "koperasi"


def _percent(numerator: int, denominator: int) -> float | None:
    """Percent with two decimals, rounded half up on the exact ratio; None without a base."""
    if denominator == 0:
        return None
    hundredths = math.floor(Fraction(numerator * 10_000, denominator) + Fraction(1, 2))
    return float(Decimal(hundredths).scaleb(-2))


def finish(
    pagu_idr: int,
    placed: Mapping[str, int],
    realized: Mapping[str, int],
    flags: Mapping[str, int],
    targets: Mapping[str, Decimal],
) -> Figures:
    """Shares, and whether each target is met, from summed measures (never averaged)."""
    spend = realized["total_idr"]
    terms = {
        "umkk_of_pagu": (realized["umkk_idr"], pagu_idr),
        "ecatalog_of_pagu": (realized["ecatalog_idr"], pagu_idr),
        "pdn_of_spend": (realized["pdn_idr"], spend),
        "local_of_spend": (realized["local_idr"], spend),
    }
    statuses = {}
    for share, target in targets.items():
        numerator, denominator = terms[share]
        if denominator == 0:
            status = "no_data"
        else:  # the exact ratio decides, not its rounded display
            status = "met" if Fraction(numerator * 100, denominator) >= target else "not_met"
        statuses[share] = {"target": float(target), "status": status}
    return {
        "pagu_idr": pagu_idr,
        "placed": dict(placed),
        "realized": dict(realized),
        "shares": {share: _percent(*terms[share]) for share in SHARES},
        "targets": statuses,
        "flags": dict(flags),
    }


def _empty() -> dict[str, int]:
    return dict.fromkeys(MEASURES, 0)


def opd_figures(ledger: Ledger, targets: Mapping[str, Decimal]) -> dict[str, Figures]:
    """Current figures per OPD of the scenario (every OPD with a budget or an order)."""
    codes = set(ledger.budgets) | {order.opd_code for order in ledger.orders}
    placed = {code: _empty() for code in codes}
    realized = {code: _empty() for code in codes}
    flags = {
        code: {"reserved_package_violations": 0, "pdn_substitution_lines": 0} for code in codes
    }
    for order in ledger.orders:
        if order.fiscal_year != ledger.fiscal_year or order.status == "cancelled":
            continue
        measures = order_measures(order)
        _add(placed[order.opd_code], measures)
        if order.status == "completed":
            _add(realized[order.opd_code], measures)
        opd_flags = flags[order.opd_code]
        if order.total_idr <= RESERVED_PACKAGE_IDR and not _umkk(order):
            opd_flags["reserved_package_violations"] += 1
        opd_flags["pdn_substitution_lines"] += sum(
            1 for line in order.lines if line.pdn_alternative_available
        )
    result: dict[str, Figures] = {}
    for code in codes:
        budget = ledger.budgets.get(code)
        pagu = budget.pagu_idr if budget else 0
        result[code] = finish(pagu, placed[code], realized[code], flags[code], targets)
    return result


def _add(into: dict[str, int], measures: Mapping[str, int]) -> None:
    for name, value in measures.items():
        into[name] += value


def summed(rows: Iterable[Mapping[str, Any]], targets: Mapping[str, Decimal]) -> Figures:
    """Rows (ours or the API's) summed into one, shares recomputed from the sums."""
    pagu = 0
    placed, realized = _empty(), _empty()
    flags = {"reserved_package_violations": 0, "pdn_substitution_lines": 0}
    for row in rows:
        pagu += row["pagu_idr"]
        _add(placed, row["placed"])
        _add(realized, row["realized"])
        _add(flags, row["flags"])
    return finish(pagu, placed, realized, flags, targets)


def differences(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[str]:
    """Every figure that differs, as `path: ours != theirs`."""
    found: list[str] = []
    for key in ("pagu_idr", "placed", "realized", "shares", "targets", "flags"):
        _diff(key, ours.get(key), theirs.get(key), found)
    return found


def _diff(path: str, ours: Any, theirs: Any, found: list[str]) -> None:
    if isinstance(ours, Mapping) and isinstance(theirs, Mapping):
        for key in sorted(set(ours) | set(theirs)):
            _diff(f"{path}.{key}", ours.get(key), theirs.get(key), found)
    elif ours != theirs:
        found.append(f"{path}: ours {ours} != api {theirs}")
