"""GET /ocds/releases: the OCDS 1.1 release package of a fiscal year (docs/ocds.md)."""

from datetime import UTC, datetime
from typing import Any

from etalase_platform.auth import CurrentPrincipal
from etalase_platform.deps import RegionFilter, Sessions
from fastapi import APIRouter, Request

from etalase_reporting.api import FiscalYear
from etalase_reporting.ocds import releases as ocds
from etalase_reporting.settings import Settings

router = APIRouter(tags=["open contracting"])


@router.get(
    "/ocds/releases",
    summary="OCDS 1.1 release package: one contracting process per e-purchasing order",
)
async def releases(
    request: Request,
    sessions: Sessions,
    principal: CurrentPrincipal,
    fiscal_year: FiscalYear,
    region_code: RegionFilter = None,
) -> dict[str, Any]:
    settings: Settings = request.app.state.runtime.settings
    return await ocds.release_package(
        sessions,
        principal,
        fiscal_year,
        region_code,
        prefix=settings.ocds_prefix,
        uri=str(request.url),
        published=datetime.now(UTC),
    )
