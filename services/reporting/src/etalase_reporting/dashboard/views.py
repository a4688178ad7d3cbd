"""What each dashboard view shows, read through the very service functions behind the API
(`service.region_report`, `opd_report`, `opd_orders`, `vendor_stats`, `catalog_stats`): the
dashboard formats figures, it never computes one."""

import calendar
from dataclasses import dataclass
from datetime import date, datetime

from etalase_platform.auth import Principal, Role
from etalase_platform.db import SessionFactory
from etalase_platform.problems import Forbidden, NotFound

from etalase_reporting import schemas, service
from etalase_reporting.dashboard.format import day
from etalase_reporting.read.queries import live_view, opd_region
from etalase_reporting.read.records import OrderRecord, order_records
from etalase_reporting.timeline import WIB

ORDERS_PER_PAGE = 100


@dataclass(frozen=True)
class Reads:
    sessions: SessionFactory
    principal: Principal
    targets: service.Targets


@dataclass(frozen=True)
class Wilayah:
    regions: schemas.RegionReport | None
    """Province and kab/kota rows; None for a buyer, who sees its OPD only (as in the API)."""
    opds: schemas.OpdReport | None
    """The OPDs of the kab/kota chosen (a buyer: its own OPD)."""


def today() -> date:
    return datetime.now(WIB).date()


def sees_regions(principal: Principal) -> bool:
    return principal.role in (Role.AUDITOR, Role.ADMIN)


async def wilayah(
    reads: Reads, fiscal_year: int, province: str | None, region: str | None, as_of: date | None
) -> Wilayah:
    regions = None
    if sees_regions(reads.principal):
        regions = await service.region_report(
            reads.sessions, reads.principal, reads.targets, fiscal_year, province, as_of
        )
    opds = None
    if region is not None or not sees_regions(reads.principal):
        opds = await service.opd_report(
            reads.sessions, reads.principal, reads.targets, fiscal_year, region, as_of
        )
    return Wilayah(regions, opds)


@dataclass(frozen=True)
class Point:
    label: str
    as_of: date | None
    """None: the current figures."""
    figures: schemas.ComplianceFigures | None
    """None when the region or OPD has no figures yet on that day."""


def month_ends(fiscal_year: int, until: date) -> list[date]:
    ends = [
        date(fiscal_year, month, calendar.monthrange(fiscal_year, month)[1])
        for month in range(1, 13)
    ]
    return [end for end in ends if end <= until]


async def trend(reads: Reads, fiscal_year: int, region: str | None, opd: str | None) -> list[Point]:
    """The figures of a region (kab/kota or province) or an OPD at each month's end of the
    fiscal year that has passed, then now: one as_of projection per point."""
    if opd is not None:
        await _check_opd(reads, fiscal_year, opd)
    points = []
    days: list[date | None] = [*month_ends(fiscal_year, today()), None]
    for as_of in days:
        figures = await _figures_at(reads, fiscal_year, region, opd, as_of)
        points.append(Point("Kini" if as_of is None else day(as_of), as_of, figures))
    return points


async def _check_opd(reads: Reads, fiscal_year: int, opd: str) -> None:
    """As `GET /compliance/opd/{fy}/{opd}/orders` decides: a buyer's own OPD only, anyone else
    an OPD of its region; an OPD unknown for the year is not found."""
    principal = reads.principal
    if principal.role is Role.BUYER:
        if opd != principal.opd:
            raise Forbidden(f"OPD {opd} is not this buyer's OPD")
        return
    async with live_view(reads.sessions) as view:
        region = await opd_region(view, fiscal_year, opd)
    if region is None:
        raise NotFound(f"no budget or order of OPD {opd} in fiscal year {fiscal_year}")
    principal.require_region(region)


async def _figures_at(
    reads: Reads, fiscal_year: int, region: str | None, opd: str | None, as_of: date | None
) -> schemas.ComplianceFigures | None:
    if opd is not None:
        scope = None if reads.principal.role is Role.BUYER else opd[:2]
        report = await service.opd_report(
            reads.sessions, reads.principal, reads.targets, fiscal_year, scope, as_of
        )
        return next((item for item in report.items if item.opd_code == opd), None)
    assert region is not None
    regions = await service.region_report(
        reads.sessions, reads.principal, reads.targets, fiscal_year, region[:2], as_of
    )
    if len(region) == 2:
        return next((p for p in regions.provinces if p.province_code == region), None)
    return next((r for r in regions.items if r.region_code == region), None)


@dataclass(frozen=True)
class Orders:
    provenance: schemas.OrderList
    records: dict[str, OrderRecord]
    """Lines, vendor and buyer of each order, by order id (the documents projection)."""
    offset: int


async def orders(
    reads: Reads, fiscal_year: int, opd_code: str, as_of: date | None, offset: int = 0
) -> Orders:
    provenance = await service.opd_orders(
        reads.sessions, reads.principal, fiscal_year, opd_code, as_of, ORDERS_PER_PAGE, offset
    )
    async with live_view(reads.sessions) as view:
        records = await order_records(view, [item.order_id for item in provenance.items])
    return Orders(provenance, records, offset)


async def all_orders(
    reads: Reads, fiscal_year: int, opd_code: str, as_of: date | None
) -> list[Orders]:
    """Every page of an OPD's orders (for the downloads)."""
    pages = [await orders(reads, fiscal_year, opd_code, as_of)]
    while (pages[-1].offset + ORDERS_PER_PAGE) < pages[-1].provenance.total:
        pages.append(
            await orders(reads, fiscal_year, opd_code, as_of, pages[-1].offset + ORDERS_PER_PAGE)
        )
    return pages


@dataclass(frozen=True)
class Stats:
    vendors: list[schemas.VendorStats]
    catalog: list[schemas.CatalogStats]


async def stats(reads: Reads, region: str | None) -> Stats:
    return Stats(
        await service.vendor_stats(reads.sessions, reads.principal, region),
        await service.catalog_stats(reads.sessions, reads.principal, region),
    )
