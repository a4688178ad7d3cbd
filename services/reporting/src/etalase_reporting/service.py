"""Use cases of the reporting API: check the caller's scope, read the live projection, shape it.

Scopes (api.md): an auditor reads its region, or everything without one; an admin its region; a
buyer its own OPD only (compliance and its orders, no region totals or stats). A region asked
for must lie inside the caller's; asking for a wider one narrows to the caller's own part.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from etalase_platform.auth import Principal, Role
from etalase_platform.db import SessionFactory
from etalase_platform.problems import Forbidden, NotFound
from etalase_platform.scope import covers

from etalase_reporting import schemas
from etalase_reporting.domain import FLAGS, MEASURES, Figures, Share, figures
from etalase_reporting.read.queries import (
    Filter,
    OpdRow,
    live_view,
    opd_region,
    opd_rows,
    order_rows,
)
from etalase_reporting.read.stats import catalog_counts, vendor_counts
from etalase_reporting.rebuild.supervisor import ProjectionSupervisor
from etalase_reporting.timeline import COLUMNS

Targets = dict[Share, Decimal]


def _region_scope(principal: Principal, requested: str | None) -> str | None:
    own = principal.region
    if requested is None:
        return own
    if principal.covers_region(requested):
        return requested
    if own is not None and covers(requested, own):
        return own
    raise Forbidden(f"region {requested} is outside this token's scope")


def compliance_scope(principal: Principal, region_code: str | None) -> Filter:
    """What a compliance read may see: also the scope of the dashboard and the OCDS export."""
    principal.require_role(Role.AUDITOR, Role.ADMIN, Role.BUYER)
    if principal.role is Role.BUYER:
        return Filter(region=region_code, opd=principal.opd)
    return Filter(region=_region_scope(principal, region_code))


def _figures(pagu_idr: int, sums: dict[str, int], targets: Targets) -> Figures:
    return figures(
        pagu_idr,
        placed={name: sums[f"p_{name}"] for name in MEASURES},
        realized={name: sums[f"r_{name}"] for name in MEASURES},
        flags={name: sums[name] for name in FLAGS},
        targets=targets,
    )


async def opd_report(
    sessions: SessionFactory,
    principal: Principal,
    targets: Targets,
    fiscal_year: int,
    region_code: str | None,
    as_of: date | None,
) -> schemas.OpdReport:
    scope = compliance_scope(principal, region_code)
    async with live_view(sessions) as view:
        rows = await opd_rows(view, fiscal_year, as_of, scope)
    items = [
        schemas.OpdCompliance(
            opd_code=row.opd_code,
            opd_name=row.opd_name,
            region_code=row.region_code,
            **schemas.ComplianceFigures.fields(_figures(row.pagu_idr, row.sums, targets)),
        )
        for row in rows
    ]
    return schemas.OpdReport(fiscal_year=fiscal_year, as_of=as_of, items=items)


@dataclass
class _Total:
    opds: int = 0
    pagu_idr: int = 0
    sums: dict[str, int] | None = None

    def add(self, row: OpdRow) -> None:
        self.opds += 1
        self.pagu_idr += row.pagu_idr
        base = self.sums or dict.fromkeys(COLUMNS, 0)
        self.sums = {name: base[name] + row.sums[name] for name in COLUMNS}


def _totals(rows: Iterable[OpdRow], key: Callable[[OpdRow], str]) -> dict[str, _Total]:
    totals: dict[str, _Total] = defaultdict(_Total)
    for row in rows:
        totals[key(row)].add(row)
    return dict(sorted(totals.items()))


def _region(row: OpdRow) -> str:
    return row.region_code


def _province(row: OpdRow) -> str:
    return row.region_code[:2]


async def region_report(
    sessions: SessionFactory,
    principal: Principal,
    targets: Targets,
    fiscal_year: int,
    province: str | None,
    as_of: date | None,
) -> schemas.RegionReport:
    """Measures summed per region and per province; shares recomputed from the sums."""
    principal.require_role(Role.AUDITOR, Role.ADMIN)
    scope = Filter(region=_region_scope(principal, province))
    async with live_view(sessions) as view:
        rows = await opd_rows(view, fiscal_year, as_of, scope)

    def fields(total: _Total) -> dict[str, object]:
        assert total.sums is not None
        return schemas.ComplianceFigures.fields(_figures(total.pagu_idr, total.sums, targets))

    items = [
        schemas.RegionCompliance(region_code=code, opds=total.opds, **fields(total))
        for code, total in _totals(rows, _region).items()
    ]
    provinces = [
        schemas.ProvinceCompliance(province_code=code, opds=total.opds, **fields(total))
        for code, total in _totals(rows, _province).items()
        if principal.covers_region(code)
    ]
    return schemas.RegionReport(
        fiscal_year=fiscal_year, as_of=as_of, province=province, items=items, provinces=provinces
    )


async def opd_orders(
    sessions: SessionFactory,
    principal: Principal,
    fiscal_year: int,
    opd_code: str,
    as_of: date | None,
    limit: int,
    offset: int,
) -> schemas.OrderList:
    principal.require_role(Role.AUDITOR, Role.ADMIN, Role.BUYER)
    if principal.role is Role.BUYER and opd_code != principal.opd:
        raise Forbidden(f"OPD {opd_code} is not this buyer's OPD")
    async with live_view(sessions) as view:
        region = await opd_region(view, fiscal_year, opd_code)
        if region is None:
            raise NotFound(f"no budget or order of OPD {opd_code} in fiscal year {fiscal_year}")
        if principal.role is not Role.BUYER:
            principal.require_region(region)
        rows, total = await order_rows(view, fiscal_year, opd_code, as_of, limit, offset)
    items = [
        schemas.OrderProvenance(
            order_id=row.order_id,
            **row.amounts,
            events=schemas.OrderEvents(
                **{stage: _event_ref(found) for stage, found in row.events.items()}
            ),
            counted_as=schemas.CountedAs(
                placed=row.counted_as_placed, realized=row.counted_as_realized
            ),
            flagged_lines=row.flagged_lines,
        )
        for row in rows
    ]
    return schemas.OrderList(
        fiscal_year=fiscal_year, opd_code=opd_code, as_of=as_of, items=items, total=total
    )


def _event_ref(found: tuple[str, datetime] | None) -> schemas.EventRef | None:
    return None if found is None else schemas.EventRef(event_id=found[0], at=found[1])


async def vendor_stats(
    sessions: SessionFactory, principal: Principal, region_code: str | None
) -> list[schemas.VendorStats]:
    principal.require_role(Role.AUDITOR, Role.ADMIN)
    scope = Filter(region=_region_scope(principal, region_code))
    async with live_view(sessions) as view:
        regions = await vendor_counts(view, scope)
    return [
        schemas.VendorStats(
            region_code=region.region_code,
            by_status=schemas.VendorsByStatus(**region.counts),
            by_scale=schemas.VendorsByScale(**region.counts),
            **{
                name: region.counts[name]
                for name in ("koperasi", "umkk", "via_mpp_desk", "online", "total")
            },
        )
        for region in regions
    ]


async def catalog_stats(
    sessions: SessionFactory, principal: Principal, region_code: str | None
) -> list[schemas.CatalogStats]:
    principal.require_role(Role.AUDITOR, Role.ADMIN)
    scope = Filter(region=_region_scope(principal, region_code))
    async with live_view(sessions) as view:
        regions = await catalog_counts(view, scope)
    return [
        schemas.CatalogStats(region_code=region.region_code, **region.counts) for region in regions
    ]


async def projections(
    supervisor: ProjectionSupervisor, principal: Principal
) -> schemas.Projections:
    principal.require_role(Role.AUDITOR, Role.ADMIN)
    generations = [g for g in await supervisor.generations()]
    progress = await supervisor.progress()
    by_status = {g.status.value: g.number for g in generations}
    return schemas.Projections(
        live_generation=by_status.get("live"),
        building_generation=by_status.get("building"),
        generations=[
            schemas.GenerationInfo(
                generation=g.number,
                status=g.status.value,
                started_at=g.started_at,
                live_since=g.live_since,
            )
            for g in generations
        ],
        items=[
            schemas.PartitionProgress(
                projection=p.projection,
                generation=p.generation,
                status=p.status.value,
                topic=p.topic,
                partition=p.partition,
                applied_offset=None if p.next_offset is None else p.next_offset - 1,
                next_offset=p.next_offset,
                log_end=p.log_end,
                lag=p.lag,
                last_event_time=p.last_event_time,
            )
            for p in progress
        ],
    )


async def rebuild(supervisor: ProjectionSupervisor, principal: Principal) -> schemas.RebuildStarted:
    principal.require_role(Role.AUDITOR)
    generation = await supervisor.rebuild()
    return schemas.RebuildStarted(
        generation=generation.number,
        status=generation.status.value,
        started_at=generation.started_at,
        log_end={
            topic: {partition: end for partition, (_, end) in partitions.items()}
            for topic, partitions in generation.log_end.items()
        },
    )
