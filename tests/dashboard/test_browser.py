"""The dashboard in a real browser (Debian's Chromium, headless, driven by Playwright; nothing is
downloaded) against the reporting process fed by real events through Kafka and PostgreSQL.

Every figure the pages show is compared with what the API answers for the same question; every
request the browser makes is recorded and must go to the service itself."""

import calendar
import csv
import io
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.dashboard.conftest import Reporting
from tests.dashboard.scenario import FISCAL_YEAR, FORMULA_NAME, PASSED_OVER
from tests.e2e.stack import ROOT
from tests.helpers import bearer, screenshot_path

pytestmark = pytest.mark.infra

AXE = ROOT / "tools" / "node" / "node_modules" / "axe-core" / "axe.min.js"
SHARES = ("umkk_of_pagu", "ecatalog_of_pagu", "pdn_of_spend", "local_of_spend")
ROWS = """rows => rows.map(r => ({
  code: r.dataset.code, level: r.dataset.level || null, asOf: r.dataset.asOf ?? null,
  fields: Object.fromEntries([...r.querySelectorAll('[data-field]')]
    .map(c => [c.dataset.field, c.dataset.value])),
  shares: Object.fromEntries([...r.querySelectorAll('[data-share]')]
    .map(c => [c.dataset.share, [c.dataset.value, c.dataset.status ?? null]])),
  text: r.innerText}))"""


def token(role: str, **claims: str) -> str:
    return bearer(role, **claims)["Authorization"].removeprefix("Bearer ")


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        yield launched
        await launched.close()


@pytest.fixture
async def context(browser: Browser, reporting: Reporting) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(
        base_url=reporting.url,
        viewport={"width": 1440, "height": 900},
        locale="id-ID",
        timezone_id="Asia/Jakarta",
        accept_downloads=True,
    )
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    yield context
    await context.close()
    assert requested, "the test made no request"
    foreign = [url for url in requested if not url.startswith(reporting.url + "/")]
    assert not foreign, f"requests to other hosts: {foreign}"


async def signed_in(context: BrowserContext, jwt: str) -> Page:
    page = await context.new_page()
    await page.goto("/dashboard")
    assert page.url.endswith("/dashboard/masuk")
    await page.fill("#token", jwt)
    await page.click("form.signin button")
    await page.wait_for_url("**/dashboard/wilayah")
    assert jwt not in page.url
    return page


async def api(reporting: Reporting, path: str, jwt: str, **params: Any) -> Any:
    async with reporting.client() as client:
        response = await client.get(path, params=params, headers={"Authorization": f"Bearer {jwt}"})
    assert response.status_code == 200, response.text
    return response.json()


async def rows(page: Page, table: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await page.eval_on_selector_all(f"#{table} tbody tr", ROWS)
    return found


def shown(item: dict[str, Any]) -> dict[str, Any]:
    """What a row of the API should show: rupiah, counts, shares with their status."""
    targets = item["targets"]
    return {
        "fields": {
            **({"opds": str(item["opds"])} if "opds" in item else {}),
            "pagu_idr": str(item["pagu_idr"]),
            "placed_total_idr": str(item["placed"]["total_idr"]),
            "realized_total_idr": str(item["realized"]["total_idr"]),
            **{name: str(value) for name, value in item["flags"].items()},
        },
        "shares": {
            share: [
                "" if item["shares"][share] is None else f"{item['shares'][share]:.2f}",
                targets[share]["status"] if share in targets else "",
            ]
            for share in SHARES
        },
    }


def as_shown(row: dict[str, Any]) -> dict[str, Any]:
    return {"fields": row["fields"], "shares": row["shares"]}


async def test_wilayah_shows_what_the_api_answers(
    context: BrowserContext, reporting: Reporting
) -> None:
    s = reporting.scenario
    auditor = token("auditor")
    page = await signed_in(context, auditor)
    await page.goto(f"/dashboard/wilayah?fiscal_year={FISCAL_YEAR}&province={s.province}")
    regions = await api(
        reporting, "/compliance/regions", auditor, fiscal_year=FISCAL_YEAR, province=s.province
    )
    table = await rows(page, "regions")
    expected = [("province", p["province_code"], p) for p in regions["provinces"]] + [
        ("region", r["region_code"], r) for r in regions["items"]
    ]
    assert [(r["level"], r["code"]) for r in table] == [(lvl, code) for lvl, code, _ in expected]
    for row, (_, _, item) in zip(table, expected, strict=True):
        assert as_shown(row) == shown(item)
    assert {r["code"] for r in table} == {s.province, s.kota, s.kabupaten}

    await page.click(f'#regions tr[data-code="{s.kota}"] th a:text("{s.kota}")')
    assert f"region={s.kota}" in page.url
    opds = await api(
        reporting, "/compliance/opd", auditor, fiscal_year=FISCAL_YEAR, region_code=s.kota
    )
    table = await rows(page, "opds")
    assert [r["code"] for r in table] == [item["opd_code"] for item in opds["items"]]
    for row, item in zip(table, opds["items"], strict=True):
        assert as_shown(row) == shown(item)
    dinkes = next(r for r in table if r["code"] == s.dinkes)
    # read as people read it: Indonesian thousands separators, decimal comma, status in words
    assert "Rp900.000.000" in dinkes["text"] and "Belum tercapai" in dinkes["text"]
    await page.screenshot(path=screenshot_path("dashboard-wilayah.png"), full_page=True)


async def test_changing_as_of_changes_the_figures_as_the_api_does(
    context: BrowserContext, reporting: Reporting
) -> None:
    s = reporting.scenario
    auditor = token("auditor")
    page = await signed_in(context, auditor)
    await page.goto(f"/dashboard/wilayah?fiscal_year={FISCAL_YEAR}&province={s.province}")
    now = await rows(page, "regions")
    await page.fill("#as_of", "2025-04-30")
    await page.click("form.filters button")
    await page.wait_for_url("**as_of=2025-04-30**")
    then = await rows(page, "regions")
    regions = await api(
        reporting,
        "/compliance/regions",
        auditor,
        fiscal_year=FISCAL_YEAR,
        province=s.province,
        as_of="2025-04-30",
    )
    expected = [*regions["provinces"], *regions["items"]]
    assert [as_shown(r) for r in then] == [shown(item) for item in expected]
    assert [as_shown(r) for r in then] != [as_shown(r) for r in now]
    # the URL is the state: opened afresh, it shows the same
    shared = await context.new_page()
    await shared.goto(page.url)
    assert [as_shown(r) for r in await rows(shared, "regions")] == [as_shown(r) for r in then]


async def test_drill_down_lists_the_orders_behind_an_opd(
    context: BrowserContext, reporting: Reporting
) -> None:
    s = reporting.scenario
    auditor = token("auditor")
    page = await signed_in(context, auditor)
    await page.goto(f"/dashboard/wilayah?fiscal_year={FISCAL_YEAR}&region={s.kota}")
    await page.click(f'#opds tr[data-code="{s.dinkes}"] a:text("pesanan")')
    await page.wait_for_url("**/dashboard/pesanan**")
    provenance = await api(reporting, f"/compliance/opd/{FISCAL_YEAR}/{s.dinkes}/orders", auditor)
    listed = await page.eval_on_selector_all(
        "#orders tbody tr",
        """rows => rows.map(r => ({order: r.dataset.order, text: r.innerText,
            total: r.querySelector('[data-field=total_idr]').dataset.value,
            events: [...r.querySelectorAll('code.event')].map(e => [e.dataset.stage, e.innerText])
        }))""",
    )
    assert [o["order"] for o in listed] == [item["order_id"] for item in provenance["items"]]
    for shown_order, item in zip(listed, provenance["items"], strict=True):
        assert shown_order["total"] == str(item["total_idr"])
        expected = [
            [stage, ref["event_id"]] for stage, ref in item["events"].items() if ref is not None
        ]
        assert shown_order["events"] == expected
    first = next(o for o in listed if o["order"] == s.orders["o1"])
    assert "CV Batik Pesisir" in first["text"] and "Selesai (BAST)" in first["text"]
    assert "4 × Produk 1" in first["text"]
    flagged = next(i for i in provenance["items"] if i["order_id"] == s.orders["o1"])
    passed_over = [a for f in flagged["flagged_lines"] for a in f["pdn_alternatives"]]
    assert passed_over == list(PASSED_OVER)
    shown = await page.eval_on_selector_all(
        f'#orders tr[data-order="{s.orders["o1"]}"] ul.flagged code.alternative',
        "codes => codes.map(c => c.innerText)",
    )
    assert shown == passed_over
    await page.screenshot(path=screenshot_path("dashboard-pesanan.png"), full_page=True)


async def test_the_year_chart_has_each_month_end_as_the_api_gives_it(
    context: BrowserContext, reporting: Reporting
) -> None:
    s = reporting.scenario
    auditor = token("auditor")
    page = await signed_in(context, auditor)
    await page.goto(f"/dashboard/wilayah?fiscal_year={FISCAL_YEAR}&province={s.province}")
    await page.click(f'#regions tr[data-code="{s.kota}"] a:text("tren")')
    await page.wait_for_url("**/dashboard/tren**")
    assert await page.locator("svg.chart polyline").count() >= 3
    table = await rows(page, "trend")
    days = [r["asOf"] for r in table]
    assert days[:-1] == [date(FISCAL_YEAR, m, _month_end(m)).isoformat() for m in range(1, 13)]
    assert days[-1] == ""
    for row in table:
        params: dict[str, Any] = {"fiscal_year": FISCAL_YEAR, "province": s.province}
        if row["asOf"]:
            params["as_of"] = row["asOf"]
        body = await api(reporting, "/compliance/regions", auditor, **params)
        item = next((r for r in body["items"] if r["region_code"] == s.kota), None)
        expected = {
            share: [
                ""
                if item is None or item["shares"][share] is None
                else f"{item['shares'][share]:.2f}",
                None,
            ]
            for share in SHARES
        }
        assert {k: [v[0], None] for k, v in row["shares"].items()} == expected, row["asOf"]
    await page.screenshot(path=screenshot_path("dashboard-tren.png"), full_page=True)


def _month_end(month: int) -> int:
    return calendar.monthrange(FISCAL_YEAR, month)[1]


async def test_vendors_and_catalogue_counts_per_kab_kota(
    context: BrowserContext, reporting: Reporting
) -> None:
    s = reporting.scenario
    auditor = token("auditor")
    page = await signed_in(context, auditor)
    await page.goto(f"/dashboard/statistik?fiscal_year={FISCAL_YEAR}&region={s.province}")
    body = await api(reporting, "/stats/vendors", auditor, region_code=s.province)
    cells = await page.eval_on_selector_all(
        "#vendors tbody tr",
        "rows => rows.map(r => [r.dataset.code,"
        " [...r.querySelectorAll('td')].map(c => c.innerText)])",
    )
    assert cells == [
        [
            v["region_code"],
            [
                str(n)
                for n in (
                    *v["by_status"].values(),
                    *v["by_scale"].values(),
                    v["koperasi"],
                    v["umkk"],
                    v["via_mpp_desk"],
                    v["online"],
                    v["total"],
                )
            ],
        ]
        for v in body["items"]
    ]
    assert {row[0] for row in cells} == {s.kota, s.kabupaten}


async def test_a_buyer_sees_its_own_opd_only(context: BrowserContext, reporting: Reporting) -> None:
    s = reporting.scenario
    buyer = token("buyer", opd=s.disdik, region=s.kota)
    page = await signed_in(context, buyer)
    await page.goto(f"/dashboard/wilayah?fiscal_year={FISCAL_YEAR}&region={s.kota}")
    assert await page.locator("#regions").count() == 0
    table = await rows(page, "opds")
    mine = await api(reporting, "/compliance/opd", buyer, fiscal_year=FISCAL_YEAR)
    assert [r["code"] for r in table] == [s.disdik] == [i["opd_code"] for i in mine["items"]]
    assert as_shown(table[0]) == shown(mine["items"][0])
    for path in (
        f"/dashboard/pesanan?fiscal_year={FISCAL_YEAR}&opd={s.dinkes}",
        f"/dashboard/tren?fiscal_year={FISCAL_YEAR}&opd={s.dinkes}",
        f"/dashboard/tren?fiscal_year={FISCAL_YEAR}&wilayah={s.kota}",
        f"/dashboard/statistik?fiscal_year={FISCAL_YEAR}",
    ):
        response = await page.goto(path)
        assert response is not None and response.status == 403, path
    for path in (
        f"/dashboard/unduh/wilayah.csv?fiscal_year={FISCAL_YEAR}",
        f"/dashboard/unduh/pesanan.csv?fiscal_year={FISCAL_YEAR}&opd={s.dinkes}",
    ):
        assert (await page.request.get(path)).status == 403, path
    own = await page.request.get(f"/dashboard/unduh/opd.csv?fiscal_year={FISCAL_YEAR}")
    assert [r["opd_code"] for r in csv.DictReader(io.StringIO(await own.text()))] == [s.disdik]

    # an admin of the kabupaten: the kota's OPDs are outside its region, as in the API
    await page.goto("/dashboard/masuk")
    await page.click("form.signout button")
    admin = await signed_in(context, token("admin", region=s.kabupaten))
    for path in (
        f"/dashboard/pesanan?fiscal_year={FISCAL_YEAR}&opd={s.dinkes}",
        f"/dashboard/tren?fiscal_year={FISCAL_YEAR}&opd={s.dinkes}",
    ):
        response = await admin.goto(path)
        assert response is not None and response.status == 403, path


async def test_downloads_open_and_equal_the_api(
    context: BrowserContext, reporting: Reporting, tmp_path: Path
) -> None:
    s = reporting.scenario
    auditor = token("auditor")
    page = await signed_in(context, auditor)
    await page.goto(f"/dashboard/wilayah?fiscal_year={FISCAL_YEAR}&region={s.kota}")
    async with page.expect_download() as started:
        await page.click('a:text("CSV OPD")')
    download = await started.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    opds = await api(
        reporting, "/compliance/opd", auditor, fiscal_year=FISCAL_YEAR, region_code=s.kota
    )
    parsed = list(csv.DictReader(saved.open(encoding="utf-8", newline="")))
    assert [(r["opd_code"], int(r["pagu_idr"]), int(r["realized_total_idr"])) for r in parsed] == [
        (i["opd_code"], i["pagu_idr"], i["realized"]["total_idr"]) for i in opds["items"]
    ]
    async with httpx.AsyncClient(base_url=reporting.url) as client:
        api_csv = await client.get(
            "/compliance/opd.csv",
            params={"fiscal_year": FISCAL_YEAR, "region_code": s.kota},
            headers={"Authorization": f"Bearer {auditor}"},
        )
    assert saved.read_bytes() == api_csv.content

    regions = await page.request.get(
        f"/dashboard/unduh/wilayah.csv?fiscal_year={FISCAL_YEAR}&province={s.province}"
    )
    body = await api(
        reporting, "/compliance/regions", auditor, fiscal_year=FISCAL_YEAR, province=s.province
    )
    region_rows = {r["region_code"]: r for r in csv.DictReader(io.StringIO(await regions.text()))}
    for item in body["items"]:
        row = region_rows[item["region_code"]]
        assert int(row["placed_total_idr"]) == item["placed"]["total_idr"]
        assert row["umkk_of_pagu_status"] == item["targets"]["umkk_of_pagu"]["status"]

    async with page.expect_download() as started:
        await page.click(f'a:text("XLSX provinsi {s.province}")')
    book_file = tmp_path / "wilayah.xlsx"
    await (await started.value).save_as(book_file)
    book = openpyxl.load_workbook(book_file)
    assert book.sheetnames == ["Wilayah", "OPD", "Pesanan", "Baris pesanan", "Penyedia", "Katalog"]
    opd_all = await api(
        reporting, "/compliance/opd", auditor, fiscal_year=FISCAL_YEAR, region_code=s.province
    )
    sheet = [dict(zip(_header(book["OPD"]), r, strict=True)) for r in _body(book["OPD"])]
    assert [
        (r["opd_code"], r["pagu_idr"], r["placed_total_idr"], r["umkk_of_pagu"]) for r in sheet
    ] == [
        (i["opd_code"], i["pagu_idr"], i["placed"]["total_idr"], i["shares"]["umkk_of_pagu"])
        for i in opd_all["items"]
    ]
    # a name a spreadsheet would run stays text: a string cell, not a formula
    name_column = _header(book["OPD"]).index("opd_name") + 1
    cells = [book["OPD"].cell(row=i, column=name_column) for i in range(2, book["OPD"].max_row + 1)]
    formula = next(c for c in cells if c.value == FORMULA_NAME)
    assert formula.data_type == "s"
    orders = [dict(zip(_header(book["Pesanan"]), r, strict=True)) for r in _body(book["Pesanan"])]
    expected_orders = {}
    for item in opd_all["items"]:
        provenance = await api(
            reporting, f"/compliance/opd/{FISCAL_YEAR}/{item['opd_code']}/orders", auditor
        )
        expected_orders.update({o["order_id"]: o["total_idr"] for o in provenance["items"]})
    assert {o["order_id"]: o["total_idr"] for o in orders} == expected_orders
    assert {o["order_id"]: o["vendor_name"] for o in orders}[s.orders["o4"]] == (
        "Koperasi Karya Bersama"
    )


def _header(sheet: Any) -> list[str]:
    return [cell.value for cell in next(sheet.iter_rows(max_row=1))]


def _body(sheet: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in sheet.iter_rows(min_row=2, values_only=True)]


async def test_session_cookie_and_sign_out(context: BrowserContext, reporting: Reporting) -> None:
    page = await signed_in(context, token("auditor"))
    (cookie,) = await context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/dashboard"
    assert await page.evaluate("document.cookie") == ""
    forged = await page.request.post("/dashboard/keluar", form={"csrf": "0" * 64})
    assert forged.status == 403
    cross_site = await page.request.post(
        "/dashboard/masuk", form={"token": token("auditor")}, headers={"Origin": "http://evil.test"}
    )
    assert cross_site.status == 403
    await page.goto("/dashboard/wilayah")
    await page.click("form.signout button")
    await page.wait_for_url("**/dashboard/masuk")
    assert await context.cookies() == []
    await page.goto("/dashboard/wilayah")
    assert page.url.endswith("/dashboard/masuk")
    await page.fill("#token", "not-a-token")
    await page.click("form.signin button")
    assert await page.locator(".notice").count() == 1


async def test_no_serious_accessibility_violations(
    context: BrowserContext, reporting: Reporting
) -> None:
    s = reporting.scenario
    page = await signed_in(context, token("auditor"))
    axe = AXE.read_text()
    for path in (
        f"/dashboard/wilayah?fiscal_year={FISCAL_YEAR}&province={s.province}&region={s.kota}",
        f"/dashboard/tren?fiscal_year={FISCAL_YEAR}&wilayah={s.kota}",
        f"/dashboard/pesanan?fiscal_year={FISCAL_YEAR}&opd={s.dinkes}",
        f"/dashboard/statistik?fiscal_year={FISCAL_YEAR}&region={s.province}",
        "/dashboard/masuk",
    ):
        await page.goto(path)
        await page.evaluate(axe)
        violations = await page.evaluate(
            "async () => (await axe.run(document)).violations"
            ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))"
        )
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not serious, f"{path}: {serious}"


def test_today_is_after_the_fiscal_year() -> None:
    """The trend expects every month's end of the scenario's year to have passed."""
    assert date.today() > date(FISCAL_YEAR, 12, 31)
