"""The P3DN compliance rules of compliance.md, pure: classes of spend, shares, targets.

Money is whole rupiah (int) throughout; shares are computed on exact integers and rounded once,
half up, to two decimals. Nothing here does I/O.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from etalase_events.models import Catalog, LegalForm, OrderPlaced, Scale

RESERVED_PACKAGE_LIMIT_IDR = 15_000_000_000
"""Perpres 12/2021 Pasal 65 ayat 4: packages up to Rp15 billion are reserved for UMK-K."""

ECATALOG = frozenset({Catalog.NASIONAL, Catalog.SEKTORAL, Catalog.LOKAL})
UMKK_SCALES = frozenset({Scale.MIKRO, Scale.KECIL})
TKDN_MINIMUM = Decimal(25)
PDN_WAJIB_MINIMUM = Decimal(40)

MEASURES: tuple[str, ...] = (
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
"""The measures of `placed` and of `realized`, in this order everywhere."""

FLAGS: tuple[str, ...] = ("reserved_package_violations", "pdn_substitution_lines")

STAGES: tuple[str, ...] = ("placed", "accepted", "completed", "cancelled")
"""The stages of an order; each is set by one event (the lowest (sequence, event id) of its
type), whose id, sequence and time the order's fact keeps."""


class Share(StrEnum):
    UMKK_OF_PAGU = "umkk_of_pagu"
    ECATALOG_OF_PAGU = "ecatalog_of_pagu"
    PDN_OF_SPEND = "pdn_of_spend"
    LOCAL_OF_SPEND = "local_of_spend"


DEFAULT_TARGETS: Mapping[Share, Decimal] = {
    Share.UMKK_OF_PAGU: Decimal(40),  # Perpres 12/2021 Pasal 65 ayat 2
    Share.ECATALOG_OF_PAGU: Decimal(30),  # LKPP national target
    Share.PDN_OF_SPEND: Decimal(95),  # SE Kepala LKPP 8/2023
}


class TargetStatus(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NO_DATA = "no_data"


def is_umkk(scale: Scale, legal_form: LegalForm) -> bool:
    """Usaha mikro, kecil, or a koperasi of any size; usaha menengah does not count."""
    return scale in UMKK_SCALES or legal_form is LegalForm.KOPERASI


@dataclass(frozen=True)
class OrderClasses:
    """One order's spend by class (the measures after `orders`), and its flags."""

    amounts: tuple[int, ...]
    """`MEASURES[1:]`: total, ecatalog, katalog_lokal, toko_daring, pdn, tkdn25, pdn_wajib,
    umkk, local."""
    reserved_package_violation: bool
    pdn_substitution_lines: int

    @property
    def total_idr(self) -> int:
        return self.amounts[0]


def classify(order: OrderPlaced) -> OrderClasses:
    """The classes of spend of an order, from the snapshots it carries."""
    ecatalog = katalog_lokal = toko_daring = pdn = tkdn25 = pdn_wajib = 0
    substitution_lines = 0
    for line in order.lines:
        amount = line.subtotal_idr
        if line.catalog in ECATALOG:
            ecatalog += amount
        if line.catalog is Catalog.LOKAL:
            katalog_lokal += amount
        if line.catalog is Catalog.TOKO_DARING:
            toko_daring += amount
        if line.domestic:
            pdn += amount
        if line.tkdn_pct is not None and line.tkdn_pct >= TKDN_MINIMUM:
            tkdn25 += amount
            if line.tkdn_pct + (line.bmp_pct or 0) >= PDN_WAJIB_MINIMUM:
                pdn_wajib += amount
        if line.pdn_alternative_available:
            substitution_lines += 1
    total = order.total_idr
    umkk = is_umkk(order.vendor_scale, order.vendor_legal_form)
    local = order.vendor_region_code == order.region_code
    return OrderClasses(
        amounts=(
            total,
            ecatalog,
            katalog_lokal,
            toko_daring,
            pdn,
            tkdn25,
            pdn_wajib,
            total if umkk else 0,
            total if local else 0,
        ),
        reserved_package_violation=total <= RESERVED_PACKAGE_LIMIT_IDR and not umkk,
        pdn_substitution_lines=substitution_lines,
    )


def percent(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator in percent, two decimals, rounded half up on exact integers;
    None when the denominator is 0."""
    if denominator == 0:
        return None
    # floor(x + 1/2) with x = numerator * 10_000 / denominator, all in integers
    hundredths = (2 * numerator * 10_000 + denominator) // (2 * denominator)
    return Decimal(hundredths).scaleb(-2)


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


def _share_terms(pagu_idr: int, realized: Mapping[str, int]) -> dict[Share, tuple[int, int]]:
    spend = realized["total_idr"]
    return {
        Share.UMKK_OF_PAGU: (realized["umkk_idr"], pagu_idr),
        Share.ECATALOG_OF_PAGU: (realized["ecatalog_idr"], pagu_idr),
        Share.PDN_OF_SPEND: (realized["pdn_idr"], spend),
        Share.LOCAL_OF_SPEND: (realized["local_idr"], spend),
    }


def figures(
    pagu_idr: int,
    placed: Mapping[str, int],
    realized: Mapping[str, int],
    flags: Mapping[str, int],
    targets: Mapping[Share, Decimal],
) -> Figures:
    """Shares and target statuses from summed measures: shares are never averaged."""
    terms = _share_terms(pagu_idr, realized)
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
