"""The dashboard's pages (`/dashboard/...`, Bahasa Indonesia, rendered on the server) and its
downloads. Each page reads through `views`, i.e. the API's own service functions, under the
signed-in principal; a problem they raise (403, 404, 503) is shown as a page with its status."""

from collections.abc import Awaitable, Callable
from dataclasses import replace
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs, urlencode

from etalase_platform.auth import Principal, decode_token
from etalase_platform.problems import Forbidden, Invalid, NotFound, Problem, Unauthorized
from etalase_platform.scope import covers
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from etalase_reporting import export
from etalase_reporting.dashboard import chart, format, session, tables, views, workbook
from etalase_reporting.dashboard.state import State, parse

router = APIRouter(prefix="/dashboard", include_in_schema=False)

templates = Environment(
    loader=PackageLoader("etalase_reporting.dashboard", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
templates.filters.update(
    rupiah=format.rupiah,
    percent=format.percent,
    target=format.target,
    thousands=format.thousands,
    day=format.day,
    moment=format.moment,
    status_text=lambda value: format.STATUS_TEXT.get(value, value),
    order_status=lambda value: format.ORDER_STATUS.get(value, value),
    marker_name={"circle": "bulat", "square": "kotak", "triangle": "segitiga"}.get,
)
STAGES = (
    ("placed", "Dipesan"),
    ("accepted", "Diterima"),
    ("completed", "BAST"),
    ("cancelled", "Dibatalkan"),
)
SECURITY_HEADERS = {
    # everything the pages use comes from this service: no other origin may be reached
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; img-src 'self' data:;"
    " script-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _reads(request: Request, principal: Principal) -> views.Reads:
    settings = session.settings_of(request)
    return views.Reads(request.app.state.runtime.sessions, principal, settings.targets)


def render(
    request: Request, name: str, principal: Principal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    state: State | None = context.get("state")
    body = templates.get_template(name).render(
        principal=principal,
        sees_regions=principal is not None and views.sees_regions(principal),
        csrf=session.csrf_token(request),
        keep=state.query() if state else "",
        trend_target=_trend_target(principal, state),
        **context,
    )
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def _trend_target(principal: Principal | None, state: State | None) -> str:
    if principal is None or state is None:
        return ""
    if principal.opd and not views.sees_regions(principal):
        return "&" + urlencode({"opd": principal.opd})
    region = state.region or state.province or principal.region
    return "&" + urlencode({"wilayah": region}) if region else ""


Page = Callable[[Request, Principal], Awaitable[Response]]


def page(handler: Page) -> Callable[[Request], Awaitable[Response]]:
    """Signed in, or sent to the sign-in form; a problem becomes an error page."""

    # not functools.wraps: FastAPI would read the handler's signature and ask for a principal
    async def wrapper(request: Request) -> Response:
        principal = session.principal_of(request)
        if principal is None:
            return RedirectResponse("/dashboard/masuk", status_code=303)
        try:
            return await handler(request, principal)
        except Problem as problem:
            return render(
                request,
                "galat.html",
                principal,
                problem.status,
                title=problem.title,
                detail=problem.detail,
            )

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


@router.get("")
async def home() -> RedirectResponse:
    return RedirectResponse("/dashboard/wilayah", status_code=303)


@router.get("/static/dashboard.css")
async def stylesheet() -> Response:
    css = files("etalase_reporting.dashboard").joinpath("static/dashboard.css").read_text()
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/masuk")
async def sign_in_form(request: Request) -> HTMLResponse:
    return render(request, "masuk.html", session.principal_of(request))


@router.post("/masuk")
async def sign_in(request: Request) -> Response:
    session.check_same_origin(request)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0].strip()
    try:
        principal = decode_token(request.app.state.jwt_secret, token)
        if not views.sees_regions(principal) and principal.role.value != "buyer":
            raise Unauthorized(f"role '{principal.role}' has no compliance dashboard")
    except Unauthorized as problem:
        return render(
            request, "masuk.html", None, 401, message=f"Token tidak diterima: {problem.detail}"
        )
    response = RedirectResponse("/dashboard/wilayah", status_code=303)
    session.start(response, request, token)
    return response


@router.post("/keluar")
async def sign_out(request: Request) -> Response:
    session.check_same_origin(request)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    session.check_csrf(request, (form.get("csrf") or [""])[0])
    response = RedirectResponse("/dashboard/masuk", status_code=303)
    session.end(response, request)
    return response


@router.get("/wilayah")
@page
async def wilayah(request: Request, principal: Principal) -> Response:
    state = parse(request.query_params)
    found = await views.wilayah(
        _reads(request, principal), state.fiscal_year, state.province, state.region, state.as_of
    )
    return render(
        request,
        "wilayah.html",
        principal,
        state=state,
        wilayah=found,
        fiscal_year=state.fiscal_year,
        as_of=state.as_of,
        province=state.province,
        region=state.region,
        as_of_param=state.as_of_param,
        keep_without_as_of=state.query(as_of=None),
        keep_without_region=state.query(region=None),
    )


def _subject(state: State, principal: Principal) -> tuple[str | None, str | None]:
    """The region or OPD a trend is about (a buyer: its OPD)."""
    if state.opd:
        return None, state.opd
    if state.wilayah:
        return state.wilayah, None
    if not views.sees_regions(principal):
        return None, principal.opd
    return state.region or state.province or principal.region, None


@router.get("/tren")
@page
async def trend(request: Request, principal: Principal) -> Response:
    state = parse(request.query_params)
    region, opd = _subject(state, principal)
    points = []
    if region or opd:
        points = await views.trend(_reads(request, principal), state.fiscal_year, region, opd)
    subject = f"OPD {opd}" if opd else f"wilayah {region}" if region else "pilih wilayah"
    return render(
        request,
        "tren.html",
        principal,
        state=replace(state, opd=opd, wilayah=region),
        fiscal_year=state.fiscal_year,
        opd=opd,
        wilayah=region,
        subject=subject,
        points=points,
        chart=chart.svg(points, f"Pangsa {subject}, tahun anggaran {state.fiscal_year}"),
        legend=chart.legend(),
        shares=tables.TREND_SHARES,
    )


@router.get("/pesanan")
@page
async def orders(request: Request, principal: Principal) -> Response:
    state = parse(request.query_params)
    if state.opd is None:
        raise Invalid("opd", "required")
    found = await views.orders(
        _reads(request, principal), state.fiscal_year, state.opd, state.as_of, state.offset
    )
    names = {r.opd_name for r in found.records.values() if r.opd_name}
    return render(
        request,
        "pesanan.html",
        principal,
        state=state,
        fiscal_year=state.fiscal_year,
        as_of=state.as_of,
        opd=state.opd,
        opd_name=next(iter(names), None),
        orders=found,
        stages=STAGES,
        per_page=views.ORDERS_PER_PAGE,
        as_of_param=state.as_of_param,
    )


@router.get("/statistik")
@page
async def statistics(request: Request, principal: Principal) -> Response:
    state = parse(request.query_params)
    found = await views.stats(_reads(request, principal), state.region)
    return render(
        request,
        "statistik.html",
        principal,
        state=state,
        fiscal_year=state.fiscal_year,
        region=state.region,
        stats=found,
    )


def _signed_in(request: Request) -> Principal:
    principal = session.principal_of(request)
    if principal is None:
        raise Unauthorized("sign in to the dashboard first")
    return principal


def _download(body: str | bytes, filename: str, media_type: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/unduh/{name}.csv")
async def download_csv(request: Request, name: str) -> Response:
    principal = _signed_in(request)
    state = parse(request.query_params)
    reads = _reads(request, principal)
    table = await _table(reads, principal, state, name)
    return _download(export.table_csv(*table), f"{name}-{state.fiscal_year}.csv", CSV)


async def _table(reads: views.Reads, principal: Principal, state: State, name: str) -> export.Table:
    fy, as_of = state.fiscal_year, state.as_of
    if name == "wilayah":
        found = await views.wilayah(reads, fy, state.province, None, as_of)
        if found.regions is None:
            raise Forbidden("a buyer reads its own OPD only")
        return export.regions_table(found.regions)
    if name == "opd":
        found = await views.wilayah(reads, fy, state.province, state.region, as_of)
        if found.opds is None:
            raise Invalid("region", "required")
        return export.opd_table(found.opds)
    if name in ("pesanan", "baris"):
        if state.opd is None:
            raise Invalid("opd", "required")
        pages = await views.all_orders(reads, fy, state.opd, as_of)
        return tables.orders_table(pages) if name == "pesanan" else tables.lines_table(pages)
    if name == "tren":
        region, opd = _subject(state, principal)
        if region is None and opd is None:
            raise Invalid("wilayah", "required")
        return tables.trend_table(await views.trend(reads, fy, region, opd))
    if name in ("penyedia", "katalog"):
        stats = await views.stats(reads, state.region)
        return tables.vendors_table(stats) if name == "penyedia" else tables.catalog_table(stats)
    raise NotFound(f"no download named {name}.csv")


@router.get("/unduh/wilayah.xlsx")
async def download_workbook(request: Request) -> Response:
    """One workbook per wilayah (province or kab/kota) and fiscal year: its region rows, OPDs,
    orders and their lines, and (for auditors and admins) its vendors and catalogue."""
    principal = _signed_in(request)
    state = parse(request.query_params)
    reads = _reads(request, principal)
    code = state.wilayah or principal.region
    sheets: list[tuple[str, export.Table]] = []
    if views.sees_regions(principal):
        if code is None:
            raise Invalid("wilayah", "required")
        found = await views.wilayah(reads, state.fiscal_year, code[:2], code, state.as_of)
        assert found.regions is not None and found.opds is not None
        regions = found.regions.model_copy(
            update={
                "items": [r for r in found.regions.items if covers(code, r.region_code)],
                "provinces": [p for p in found.regions.provinces if p.province_code == code],
            }
        )
        sheets.append(("Wilayah", export.regions_table(regions)))
        opds = found.opds
    else:
        own = await views.wilayah(reads, state.fiscal_year, None, None, state.as_of)
        assert own.opds is not None
        opds = own.opds
    sheets.append(("OPD", export.opd_table(opds)))
    pages = [
        page
        for item in opds.items
        for page in await views.all_orders(reads, state.fiscal_year, item.opd_code, state.as_of)
    ]
    sheets.append(("Pesanan", tables.orders_table(pages)))
    sheets.append(("Baris pesanan", tables.lines_table(pages)))
    if views.sees_regions(principal):
        stats = await views.stats(reads, code)
        sheets.append(("Penyedia", tables.vendors_table(stats)))
        sheets.append(("Katalog", tables.catalog_table(stats)))
    name = f"kepatuhan-{code or 'opd'}-{state.fiscal_year}.xlsx"
    return _download(workbook.workbook(sheets), name, XLSX)
