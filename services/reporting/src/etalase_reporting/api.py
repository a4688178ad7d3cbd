"""HTTP routes of the reporting service (api.md, "reporting"): parse, call the service, respond."""

from typing import Annotated, Any

from etalase_platform.auth import CurrentPrincipal
from etalase_platform.deps import Day, Page, Paging, RegionFilter, Sessions
from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from etalase_reporting import export, schemas, service
from etalase_reporting.rebuild.supervisor import ProjectionSupervisor
from etalase_reporting.settings import Settings

PROVINCE = r"^[1-9][0-9]$"
OPD_CODE = r"^[1-9][0-9]\.[0-9]{2}\.[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$"

FiscalYear = Annotated[int, Query(ge=2000, le=2100, description="Tahun anggaran")]
AsOf = Annotated[
    Day | None,
    Query(description="Figures as they stood at the end of this day in WIB; now when absent"),
]
Province = Annotated[str | None, Query(pattern=PROVINCE, description="A province code (33)")]

CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "A header row, then one row per item"}
}

router = APIRouter(tags=["reporting"])


def _targets(request: Request) -> service.Targets:
    settings: Settings = request.app.state.runtime.settings
    return settings.targets


def _supervisor(request: Request) -> ProjectionSupervisor:
    supervisor: ProjectionSupervisor = request.app.state.runtime.supervisor
    return supervisor


def _csv(body: str, filename: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def _opd_report(
    request: Request,
    sessions: Sessions,
    principal: CurrentPrincipal,
    fiscal_year: FiscalYear,
    region_code: RegionFilter = None,
    as_of: AsOf = None,
) -> schemas.OpdReport:
    return await service.opd_report(
        sessions, principal, _targets(request), fiscal_year, region_code, as_of
    )


OpdReport = Annotated[schemas.OpdReport, Depends(_opd_report)]
"""The OPD report the request asks for: the JSON and the CSV route answer the same one."""


@router.get("/compliance/opd", response_model=schemas.OpdReport)
async def opd_compliance(report: OpdReport) -> schemas.OpdReport:
    return report


@router.get("/compliance/opd.csv", response_class=Response, responses=CSV)
async def opd_compliance_csv(report: OpdReport, fiscal_year: FiscalYear) -> Response:
    return _csv(export.opd_csv(report), f"compliance-opd-{fiscal_year}.csv")


@router.get("/compliance/opd/{fiscal_year}/{opd_code}/orders", response_model=schemas.OrderList)
async def opd_orders(
    sessions: Sessions,
    principal: CurrentPrincipal,
    paging: Paging,
    fiscal_year: Annotated[int, Path(ge=2000, le=2100)],
    opd_code: Annotated[str, Path(min_length=1, max_length=100, pattern=OPD_CODE)],
    as_of: AsOf = None,
) -> schemas.OrderList:
    return await service.opd_orders(
        sessions, principal, fiscal_year, opd_code, as_of, paging.limit, paging.offset
    )


async def _region_report(
    request: Request,
    sessions: Sessions,
    principal: CurrentPrincipal,
    fiscal_year: FiscalYear,
    province: Province = None,
    as_of: AsOf = None,
) -> schemas.RegionReport:
    return await service.region_report(
        sessions, principal, _targets(request), fiscal_year, province, as_of
    )


RegionReport = Annotated[schemas.RegionReport, Depends(_region_report)]


@router.get("/compliance/regions", response_model=schemas.RegionReport)
async def region_compliance(report: RegionReport) -> schemas.RegionReport:
    return report


@router.get("/compliance/regions.csv", response_class=Response, responses=CSV)
async def region_compliance_csv(report: RegionReport, fiscal_year: FiscalYear) -> Response:
    return _csv(export.regions_csv(report), f"compliance-regions-{fiscal_year}.csv")


@router.get("/stats/vendors", response_model=Page[schemas.VendorStats])
async def vendor_stats(
    sessions: Sessions,
    principal: CurrentPrincipal,
    paging: Paging,
    region_code: RegionFilter = None,
) -> Page[schemas.VendorStats]:
    items = await service.vendor_stats(sessions, principal, region_code)
    return Page(items=items[paging.offset : paging.offset + paging.limit], total=len(items))


@router.get("/stats/catalog", response_model=Page[schemas.CatalogStats])
async def catalog_stats(
    sessions: Sessions,
    principal: CurrentPrincipal,
    paging: Paging,
    region_code: RegionFilter = None,
) -> Page[schemas.CatalogStats]:
    items = await service.catalog_stats(sessions, principal, region_code)
    return Page(items=items[paging.offset : paging.offset + paging.limit], total=len(items))


@router.get("/projections", response_model=schemas.Projections, tags=["operations"])
async def projections(request: Request, principal: CurrentPrincipal) -> schemas.Projections:
    return await service.projections(_supervisor(request), principal)


@router.post(
    "/projections/rebuild",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=schemas.RebuildStarted,
    tags=["operations"],
)
async def rebuild(request: Request, principal: CurrentPrincipal) -> schemas.RebuildStarted:
    return await service.rebuild(_supervisor(request), principal)
