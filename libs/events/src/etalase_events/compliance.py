"""The P3DN rules of compliance.md, once, for every service: what makes a product PDN-wajib, a
vendor UMK-K, an order a reserved-package violation, and how shares are computed.

Catalog filters its search with them, purchasing flags order lines and checks orders with them,
reporting classifies spend with them. The SQL fragments are built from the same constants as the
Python predicates, so a threshold lives in one place; they are literal SQL (no bound parameters)
so that PostgreSQL can match them against the partial indexes built from the same fragments.
Pure: no I/O.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from etalase_events.primitives import Catalog, LegalForm, Scale
from etalase_events.purchasing import MAX_PDN_ALTERNATIVES as MAX_PDN_ALTERNATIVES
from etalase_events.purchasing import OrderPlaced

TKDN_MINIMUM = Decimal(25)
"""Inpres 2/2022: the product bought has TKDN >= 25."""
PDN_WAJIB_MINIMUM = Decimal(40)
"""Inpres 2/2022: a domestic product is mandatory where one with TKDN + BMP >= 40 exists."""
RESERVED_PACKAGE_LIMIT_IDR = 15_000_000_000
"""Perpres 12/2021 Pasal 65 ayat 4: packages up to Rp15 billion are reserved for UMK-K."""
UMKK_SCALES = frozenset({Scale.MIKRO, Scale.KECIL})
ECATALOG = frozenset({Catalog.NASIONAL, Catalog.SEKTORAL, Catalog.LOKAL})


def meets_tkdn25(tkdn_pct: Decimal | None) -> bool:
    return tkdn_pct is not None and tkdn_pct >= TKDN_MINIMUM


def meets_pdn_wajib(tkdn_pct: Decimal | None, bmp_pct: Decimal | None) -> bool:
    """TKDN >= 25 and TKDN + BMP >= 40 (a missing BMP counts as 0)."""
    if tkdn_pct is None:
        return False
    return tkdn_pct >= TKDN_MINIMUM and tkdn_pct + (bmp_pct or 0) >= PDN_WAJIB_MINIMUM


def is_umkk(scale: Scale, legal_form: LegalForm) -> bool:
    """Usaha mikro, kecil, or a koperasi of any size; usaha menengah does not count."""
    return scale in UMKK_SCALES or legal_form is LegalForm.KOPERASI


def is_reserved_package_violation(total_idr: int, umkk: bool) -> bool:
    return total_idr <= RESERVED_PACKAGE_LIMIT_IDR and not umkk


# --- the same predicates as SQL ---------------------------------------------------------------


def tkdn25_sql(tkdn: str) -> str:
    return f"({tkdn} >= {TKDN_MINIMUM})"


def pdn_wajib_sql(tkdn: str, bmp: str) -> str:
    """`meets_pdn_wajib` on two numeric columns (NULL TKDN: false, NULL BMP: 0)."""
    return f"({tkdn} >= {TKDN_MINIMUM} AND {tkdn} + coalesce({bmp}, 0) >= {PDN_WAJIB_MINIMUM})"


def umkk_sql(scale: str, legal_form: str) -> str:
    """`is_umkk` on two text columns (unknown facts: not UMK-K)."""
    scales = ", ".join(f"'{scale_.value}'" for scale_ in sorted(UMKK_SCALES))
    return f"coalesce({scale} IN ({scales}) OR {legal_form} = '{LegalForm.KOPERASI.value}', false)"


def p3dn_order_by_sql(*, pdn_wajib: str, umkk: str, local: str, price: str, tiebreak: str) -> str:
    """The P3DN ranking: PDN-wajib first, then UMK-K, then local, then the cheapest; `tiebreak`
    (a unique column) makes it total. Catalog's `sort=p3dn` and purchasing's alternatives both
    rank with it. An unknown (NULL) key ranks as false."""
    keys = (pdn_wajib, umkk, local)
    return ", ".join(
        [*(f"coalesce({key}, false) DESC" for key in keys), f"{price} ASC, {tiebreak} ASC"]
    )


# --- classes of spend, and shares ---------------------------------------------------------------

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


class Share(StrEnum):
    UMKK_OF_PAGU = "umkk_of_pagu"
    ECATALOG_OF_PAGU = "ecatalog_of_pagu"
    PDN_OF_SPEND = "pdn_of_spend"
    LOCAL_OF_SPEND = "local_of_spend"


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

    def measures(self) -> dict[str, int]:
        """As the measures of one order (`orders` = 1)."""
        return dict(zip(MEASURES, (1, *self.amounts), strict=True))


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
        if meets_tkdn25(line.tkdn_pct):
            tkdn25 += amount
        if meets_pdn_wajib(line.tkdn_pct, line.bmp_pct):
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
        reserved_package_violation=is_reserved_package_violation(total, umkk),
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


def share_terms(pagu_idr: int, spend: Mapping[str, int]) -> dict[Share, tuple[int, int]]:
    """(numerator, denominator) of every share, from summed measures and the pagu."""
    total = spend["total_idr"]
    return {
        Share.UMKK_OF_PAGU: (spend["umkk_idr"], pagu_idr),
        Share.ECATALOG_OF_PAGU: (spend["ecatalog_idr"], pagu_idr),
        Share.PDN_OF_SPEND: (spend["pdn_idr"], total),
        Share.LOCAL_OF_SPEND: (spend["local_idr"], total),
    }


def shares(pagu_idr: int, spend: Mapping[str, int]) -> dict[Share, Decimal | None]:
    """Shares from summed measures: never averaged."""
    return {share: percent(*terms) for share, terms in share_terms(pagu_idr, spend).items()}
