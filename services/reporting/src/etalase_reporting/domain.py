"""Reporting's side of compliance.md, pure: order stages, the days an order counts on, targets,
the figures of summed measures.

Stated once here and read by both sides: the projection's SQL (`projection.order_merge` builds
its day columns and deltas from `DAY_RULES`, `tables` its columns from `STAGES` and `MEASURES`),
the reads' SQL and Python (`read.queries` decides what an order counted as from `DAY_RULES`), and
the targets the figures are judged by (`default_targets`, read when the settings are).

Money is whole rupiah (int) throughout; shares are computed on exact integers and rounded once,
half up, to two decimals. Nothing here does I/O.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from etalase_events.compliance import FLAGS, MEASURES, Share, classify, percent, share_terms

# The rules themselves (classes of spend, UMK-K, PDN-wajib, shares) live in
# etalase_events.compliance, shared with catalog and purchasing; reporting adds the stages of an
# order, the targets and the summed figures.
__all__ = ["FLAGS", "MEASURES", "Share", "classify", "percent"]

STAGES: tuple[str, ...] = ("placed", "accepted", "completed", "cancelled")
"""The stages of an order; each is set by one event (the lowest (sequence, event id) of its
type), whose id, sequence and time the order's fact keeps."""


@dataclass(frozen=True)
class DayRule:
    """A day an order's figures change on (compliance.md, "Which day an order counts on")."""

    column: str
    """The order fact's column holding the day."""
    stage: str
    """The stage whose event sets the day; no day is set before the order's OrderPlaced."""
    of: tuple[str, ...]
    """The day is the WIB day of the latest moment of these stages."""
    placed: int
    """What the order adds, on that day, to the `placed` measures and the flags."""
    realized: int
    """What it adds to the `realized` measures."""


DAY_RULES: tuple[DayRule, ...] = (
    DayRule("placed_day", "placed", ("placed",), placed=1, realized=0),
    DayRule("uncounted_day", "cancelled", ("placed", "cancelled"), placed=-1, realized=0),
    DayRule("realized_day", "completed", ("completed",), placed=0, realized=1),
)
"""Placed on the day it was placed; no longer from the day it was cancelled (or placed, if
later); realised on the day it was completed."""


def day_rule(stage: str) -> DayRule | None:
    """The rule whose day `stage` sets (None for `accepted`, which changes no figure)."""
    return next((rule for rule in DAY_RULES if rule.stage == stage), None)


def counted(days: Mapping[str, date | None], as_of: date | None) -> tuple[bool, bool]:
    """Whether an order counts as placed and as realised by the end of `as_of` (now if None),
    from its days (`DayRule.column` → day)."""

    def by(day: date | None) -> bool:
        return day is not None and (as_of is None or day <= as_of)

    reached = [rule for rule in DAY_RULES if by(days.get(rule.column))]
    return sum(r.placed for r in reached) > 0, sum(r.realized for r in reached) > 0


UMKK_TARGET = Decimal(40)
"""Perpres 12/2021 Pasal 65 ayat 2: 40 % of the pagu to UMK-K."""
ECATALOG_TARGET = Decimal(30)
"""LKPP national target: 30 % of the pagu through the e-catalogue."""
PDN_TARGET = Decimal(95)
"""SE Kepala LKPP 8/2023: 95 % of the spend on domestic products."""


def default_targets() -> dict[Share, Decimal]:
    """The targets a share is judged by unless `ETALASE_TARGETS` says otherwise."""
    return {
        Share.UMKK_OF_PAGU: UMKK_TARGET,
        Share.ECATALOG_OF_PAGU: ECATALOG_TARGET,
        Share.PDN_OF_SPEND: PDN_TARGET,
    }


class TargetStatus(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NO_DATA = "no_data"


def target_status(numerator: int, denominator: int, target: Decimal) -> TargetStatus:
    """Met when the exact ratio reaches the target: the rounding of the displayed share never
    decides it (39.996 % shows as 40.00 but is not 40 %)."""
    if denominator == 0:
        return TargetStatus.NO_DATA
    return TargetStatus.MET if numerator * 100 >= target * denominator else TargetStatus.NOT_MET


@dataclass(frozen=True)
class Figures:
    """The compliance figures of one OPD or of a sum of OPDs."""

    pagu_idr: int
    placed: dict[str, int]
    realized: dict[str, int]
    shares: dict[Share, Decimal | None]
    targets: dict[Share, tuple[Decimal, TargetStatus]]
    flags: dict[str, int]


def figures(
    pagu_idr: int,
    placed: Mapping[str, int],
    realized: Mapping[str, int],
    flags: Mapping[str, int],
    targets: Mapping[Share, Decimal],
) -> Figures:
    """Shares and target statuses from summed measures: shares are never averaged."""
    terms = share_terms(pagu_idr, realized)
    return Figures(
        pagu_idr=pagu_idr,
        placed={name: placed[name] for name in MEASURES},
        realized={name: realized[name] for name in MEASURES},
        shares={share: percent(*terms[share]) for share in Share},
        targets={
            share: (target, target_status(*terms[share], target))
            for share, target in targets.items()
        },
        flags={name: flags[name] for name in FLAGS},
    )
