"""Reporting's side of compliance.md, pure: order stages, targets, the figures of summed measures.

Money is whole rupiah (int) throughout; shares are computed on exact integers and rounded once,
half up, to two decimals. Nothing here does I/O.
"""

from collections.abc import Mapping
from dataclasses import dataclass
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


DEFAULT_TARGETS: Mapping[Share, Decimal] = {
    Share.UMKK_OF_PAGU: Decimal(40),  # Perpres 12/2021 Pasal 65 ayat 2
    Share.ECATALOG_OF_PAGU: Decimal(30),  # LKPP national target
    Share.PDN_OF_SPEND: Decimal(95),  # SE Kepala LKPP 8/2023
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
