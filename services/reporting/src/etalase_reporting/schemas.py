"""Response bodies of the reporting API."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from etalase_reporting.domain import Figures, Share, TargetStatus


class Measures(BaseModel):
    orders: int
    total_idr: int
    ecatalog_idr: int
    katalog_lokal_idr: int
    toko_daring_idr: int
    pdn_idr: int
    tkdn25_idr: int
    pdn_wajib_idr: int
    umkk_idr: int
    local_idr: int


class Shares(BaseModel):
    """Percent of the realised spend, two decimals (half up); null where the denominator is 0."""

    umkk_of_pagu: float | None
    ecatalog_of_pagu: float | None
    pdn_of_spend: float | None
    local_of_spend: float | None


class Target(BaseModel):
    target: float
    status: TargetStatus


class Flags(BaseModel):
    reserved_package_violations: int
    pdn_substitution_lines: int


def _number(value: Decimal | None) -> float | None:
    # exact: a share has two decimals, which a float prints back unchanged
    return None if value is None else float(value)


class ComplianceFigures(BaseModel):
    pagu_idr: int
    placed: Measures
    realized: Measures
    shares: Shares
    targets: dict[Share, Target]
    flags: Flags

    @staticmethod
    def fields(figures: Figures) -> dict[str, object]:
        return {
            "pagu_idr": figures.pagu_idr,
            "placed": Measures(**figures.placed),
            "realized": Measures(**figures.realized),
            "shares": Shares(**{s.value: _number(v) for s, v in figures.shares.items()}),
            "targets": {
                share: Target(target=float(target), status=status)
                for share, (target, status) in figures.targets.items()
            },
            "flags": Flags(**figures.flags),
        }


class OpdIdentity(BaseModel):
    opd_code: str
    opd_name: str | None
    """From the OPD's latest budget; null while only its orders are known."""
    region_code: str


class OpdCompliance(ComplianceFigures, OpdIdentity):
    """One OPD's figures (pydantic lists the identity first: bases are read right to left)."""


class OpdReport(BaseModel):
    fiscal_year: int
    as_of: date | None
    items: list[OpdCompliance]


class RegionIdentity(BaseModel):
    region_code: str
    opds: int


class RegionCompliance(ComplianceFigures, RegionIdentity):
    pass


class ProvinceIdentity(BaseModel):
    province_code: str
    opds: int


class ProvinceCompliance(ComplianceFigures, ProvinceIdentity):
    pass


class RegionReport(BaseModel):
    fiscal_year: int
    as_of: date | None
    province: str | None
    items: list[RegionCompliance]
    """One row per region of the OPDs: a kab/kota, or a province for its own OPDs."""
    provinces: list[ProvinceCompliance]
    """Every OPD of the province summed, for the provinces the caller's scope covers whole."""


class EventRef(BaseModel):
    event_id: str
    at: datetime


class OrderEvents(BaseModel):
    placed: EventRef | None
    accepted: EventRef | None
    completed: EventRef | None
    cancelled: EventRef | None


class CountedAs(BaseModel):
    placed: bool
    realized: bool


class FlaggedLine(BaseModel):
    """A substitution line (`pdn_alternative_available`) and what it passed over."""

    line_no: int
    product_id: str
    name: str
    category: str
    subtotal_idr: int
    pdn_alternatives: list[str]
    """The PDN-wajib products of the category the buyer was shown (up to five, best first);
    empty for orders placed before purchasing recorded them."""


class OrderProvenance(BaseModel):
    order_id: str
    total_idr: int
    ecatalog_idr: int
    katalog_lokal_idr: int
    toko_daring_idr: int
    pdn_idr: int
    tkdn25_idr: int
    pdn_wajib_idr: int
    umkk_idr: int
    local_idr: int
    events: OrderEvents
    """The events that counted the order, as of the day asked."""
    counted_as: CountedAs
    flagged_lines: list[FlaggedLine] | None = None
    """The lines counted in `pdn_substitution_lines`, with the alternatives each passed over;
    null for an order projected before reporting kept them (until a rebuild)."""


class OrderList(BaseModel):
    fiscal_year: int
    opd_code: str
    as_of: date | None
    items: list[OrderProvenance]
    total: int


class VendorsByStatus(BaseModel):
    registered: int
    verified: int
    suspended: int


class VendorsByScale(BaseModel):
    mikro: int
    kecil: int
    menengah: int
    besar: int


class VendorStats(BaseModel):
    region_code: str
    by_status: VendorsByStatus
    by_scale: VendorsByScale
    koperasi: int
    umkk: int
    via_mpp_desk: int
    online: int
    total: int


class CatalogStats(BaseModel):
    region_code: str
    listed: int
    tayang: int
    delisted: int
    categories_tayang: int
    tayang_domestic: int
    tayang_tkdn25: int
    tayang_pdn_wajib: int
    tayang_umkk: int
    katalog_lokal_tayang: int


class PartitionProgress(BaseModel):
    projection: str
    generation: int
    status: str
    topic: str
    partition: int
    applied_offset: int | None
    """Offset of the last record applied (null before the first)."""
    next_offset: int | None
    log_end: int
    lag: int
    last_event_time: datetime | None


class GenerationInfo(BaseModel):
    generation: int
    status: str
    started_at: datetime
    live_since: datetime | None


class Projections(BaseModel):
    live_generation: int | None
    building_generation: int | None
    generations: list[GenerationInfo]
    items: list[PartitionProgress]


class RebuildStarted(BaseModel):
    generation: int
    status: str
    started_at: datetime
    log_end: dict[str, dict[int, int]]
    """The offsets the rebuild must reach before it may go live."""
