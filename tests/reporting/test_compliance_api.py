"""The compliance API against real Kafka and PostgreSQL: a hand-computed scenario, to the rupiah,
now and as of past days, with provenance, CSV exports and the scope rules."""

import csv
import io
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from tests.helpers import Infra, bearer
from tests.reporting.scenario import (
    NONE,
    M,
    Scenario,
    flags,
    measures,
    shares,
    targets,
)
from tests.reporting.support import fresh_scope, produce, wait_applied

pytestmark = pytest.mark.infra

D = {n: date(2041, 3, n) if n else date(2041, 2, 28) for n in range(5)}
AUDITOR = bearer("auditor")


@pytest.fixture(scope="module")
async def scenario(infra: Infra, reporting: httpx.AsyncClient) -> AsyncIterator[Scenario]:
    fiscal_year, province = await fresh_scope(reporting, infra.kafka)
    built = Scenario.build(fiscal_year, province)
    await wait_applied(reporting, await produce(infra.kafka, built.arrival()))
    yield built


async def _opd(client: httpx.AsyncClient, s: Scenario, **params: Any) -> dict[str, Any]:
    response = await client.get(
        "/compliance/opd",
        params={"fiscal_year": s.fiscal_year, "region_code": s.province, **params},
        headers=AUDITOR,
    )
    assert response.status_code == 200, response.text
    return {item["opd_code"]: item for item in response.json()["items"]}


def _figures(pagu: int, placed: Any, realized: Any, share: Any, target: Any, flag: Any) -> Any:
    return {
        "pagu_idr": pagu,
        "placed": placed,
        "realized": realized,
        "shares": share,
        "targets": target,
        "flags": flag,
    }


O1 = measures(1, 150 * M, 150 * M, 50 * M, 0, 150 * M, 100 * M, 100 * M, 150 * M, 150 * M)
O3 = measures(1, 300 * M, 300 * M, 0, 0, 300 * M, 300 * M, 0, 300 * M, 300 * M)
O4 = measures(1, 20 * M, 20 * M, 0, 0, 0, 0, 0, 0, 20 * M)
O1_AND_O2 = measures(
    2, 190 * M, 150 * M, 50 * M, 40 * M, 150 * M, 100 * M, 100 * M, 150 * M, 150 * M
)


async def test_current_figures_per_opd_equal_the_hand_computed_ones(
    reporting: httpx.AsyncClient, scenario: Scenario
) -> None:
    items = await _opd(reporting, scenario)
    s = scenario
    assert set(items) == {s.dinkes, s.disdik, s.dpu, s.bappeda}
    dinkes = {k: v for k, v in items[s.dinkes].items() if k not in ("opd_code",)}
    assert dinkes == {
        "opd_name": "Dinas Kesehatan",
        "region_code": s.kota,
        **_figures(
            900 * M,
            O1,
            O1,
            shares(16.67, 16.67, 100.0, 100.0),
            targets("not_met", "not_met", "met"),
            flags(0, 1),
        ),
    }
    assert items[s.disdik]["pagu_idr"] == 600 * M  # the later allocation, though it came first
    assert {k: items[s.disdik][k] for k in ("placed", "realized", "shares", "targets")} == {
        "placed": O3,
        "realized": O3,
        "shares": shares(50.0, 50.0, 100.0, 100.0),
        "targets": targets("met", "met", "met"),
    }
    dpu = items[s.dpu]
    assert (dpu["placed"], dpu["realized"], dpu["flags"]) == (O4, NONE, flags(1, 0))
    assert dpu["shares"] == shares(0.0, 0.0, None, None)
    assert dpu["targets"] == targets("not_met", "not_met", "no_data")
    assert items[s.bappeda]["region_code"] == s.province
    assert items[s.bappeda]["pagu_idr"] == 1 * M


@pytest.mark.parametrize(
    ("day", "dinkes_placed", "dinkes_realized", "disdik_pagu", "disdik_placed", "dinkes_flags"),
    [
        (0, NONE, NONE, 500 * M, NONE, flags(0, 0)),
        (1, O1_AND_O2, NONE, 500 * M, None, flags(1, 1)),  # o1 completed at 00:00 of D2
        (2, O1_AND_O2, O1, 500 * M, O3, flags(1, 1)),  # o3 placed at 23:59:59 of D2
        (3, O1, O1, 600 * M, O3, flags(0, 1)),  # o2 cancelled, B re-allocated
        (4, O1, O1, 600 * M, O3, flags(0, 1)),
    ],
)
async def test_figures_as_of_a_day_are_those_at_the_end_of_that_day_in_wib(
    reporting: httpx.AsyncClient,
    scenario: Scenario,
    day: int,
    dinkes_placed: Any,
    dinkes_realized: Any,
    disdik_pagu: int,
    disdik_placed: Any,
    dinkes_flags: Any,
) -> None:
    items = await _opd(reporting, scenario, as_of=D[day].isoformat())
    dinkes, disdik = items[scenario.dinkes], items[scenario.disdik]
    assert (dinkes["placed"], dinkes["realized"], dinkes["flags"]) == (
        dinkes_placed,
        dinkes_realized,
        dinkes_flags,
    )
    assert disdik["pagu_idr"] == disdik_pagu
    assert disdik["placed"] == (disdik_placed or NONE)
    if day == 0:
        assert dinkes["shares"] == shares(0.0, 0.0, None, None)


async def test_an_opd_is_listed_from_its_budget_or_first_order(
    reporting: httpx.AsyncClient, scenario: Scenario
) -> None:
    before = await _opd(reporting, scenario, as_of="2041-02-27")
    assert before == {}


async def test_regions_and_provinces_sum_measures_and_recompute_shares(
    reporting: httpx.AsyncClient, scenario: Scenario
) -> None:
    response = await reporting.get(
        "/compliance/regions",
        params={"fiscal_year": scenario.fiscal_year, "province": scenario.province},
        headers=AUDITOR,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    regions = {item["region_code"]: item for item in body["items"]}
    assert set(regions) == {scenario.kota, scenario.kabupaten, scenario.province}
    kota = regions[scenario.kota]
    both = measures(2, 450 * M, 450 * M, 50 * M, 0, 450 * M, 400 * M, 100 * M, 450 * M, 450 * M)
    assert kota == {
        "region_code": scenario.kota,
        "opds": 2,
        **_figures(
            1500 * M,
            both,
            both,
            shares(30.0, 30.0, 100.0, 100.0),
            targets("not_met", "met", "met"),  # exactly 30 % meets the 30 % target
            flags(0, 1),
        ),
    }
    [province] = body["provinces"]
    assert province["province_code"] == scenario.province
    assert province["opds"] == 4
    assert province["pagu_idr"] == 1701 * M
    assert province["placed"]["total_idr"] == 470 * M
    assert province["realized"]["total_idr"] == 450 * M
    assert province["shares"] == shares(26.46, 26.46, 100.0, 100.0)  # 450/1701, never averaged
    assert province["flags"] == flags(1, 1)


async def test_provenance_lists_the_orders_and_the_events_that_counted_them(
    reporting: httpx.AsyncClient, scenario: Scenario
) -> None:
    e = scenario.events
    path = f"/compliance/opd/{scenario.fiscal_year}/{scenario.dinkes}/orders"
    body = (await reporting.get(path, headers=AUDITOR)).json()
    assert body["total"] == 2
    o1, o2 = body["items"]
    assert o1["order_id"] == e["o1_placed"].event.order_id  # type: ignore[attr-defined]
    assert {stage: ref and ref["event_id"] for stage, ref in o1["events"].items()} == {
        "placed": e["o1_placed"].event_id,
        "accepted": e["o1_accepted"].event_id,
        "completed": e["o1_completed"].event_id,
        "cancelled": None,
    }
    assert o1["counted_as"] == {"placed": True, "realized": True}
    assert o1["total_idr"] == 150 * M and o1["pdn_wajib_idr"] == 100 * M
    assert o2["events"]["cancelled"]["event_id"] == e["o2_cancelled"].event_id
    assert o2["counted_as"] == {"placed": False, "realized": False}

    as_of_d1 = (await reporting.get(path, params={"as_of": "2041-03-01"}, headers=AUDITOR)).json()
    o1, o2 = as_of_d1["items"]
    assert o1["events"]["completed"] is None
    assert o1["counted_as"] == {"placed": True, "realized": False}
    assert o2["events"]["cancelled"] is None
    assert o2["counted_as"] == {"placed": True, "realized": False}


async def test_csv_exports_have_a_header_and_one_row_per_opd_or_region(
    reporting: httpx.AsyncClient, scenario: Scenario
) -> None:
    params: dict[str, str | int] = {
        "fiscal_year": scenario.fiscal_year,
        "region_code": scenario.province,
    }
    response = await reporting.get("/compliance/opd.csv", params=params, headers=AUDITOR)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = {row["opd_code"]: row for row in csv.DictReader(io.StringIO(response.text))}
    assert set(rows) == {scenario.dinkes, scenario.disdik, scenario.dpu, scenario.bappeda}
    dinkes = rows[scenario.dinkes]
    assert dinkes["pagu_idr"] == "900000000"
    assert dinkes["realized_pdn_wajib_idr"] == "100000000"
    assert (dinkes["umkk_of_pagu"], dinkes["umkk_of_pagu_status"]) == ("16.67", "not_met")
    assert rows[scenario.dpu]["pdn_of_spend"] == ""

    response = await reporting.get(
        "/compliance/regions.csv",
        params={"fiscal_year": scenario.fiscal_year, "province": scenario.province},
        headers=AUDITOR,
    )
    regions = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["level"], r["region_code"]) for r in regions] == [
        ("region", scenario.province),
        ("region", scenario.kabupaten),
        ("region", scenario.kota),
        ("province", scenario.province),
    ]
    assert regions[-1]["umkk_of_pagu"] == "26.46"
    assert regions[-1]["pagu_idr"] == "1701000000"


async def test_scopes_limit_what_each_role_reads(
    reporting: httpx.AsyncClient, scenario: Scenario
) -> None:
    s = scenario
    fy = {"fiscal_year": s.fiscal_year}

    async def opds(headers: dict[str, str], **params: str) -> httpx.Response:
        return await reporting.get("/compliance/opd", params={**fy, **params}, headers=headers)

    buyer = bearer("buyer", opd=s.disdik, region=s.kota)
    assert [i["opd_code"] for i in (await opds(buyer)).json()["items"]] == [s.disdik]
    orders = f"/compliance/opd/{s.fiscal_year}/{s.dinkes}/orders"
    assert (await reporting.get(orders, headers=buyer)).status_code == 403
    assert (await reporting.get("/compliance/regions", params=fy, headers=buyer)).status_code == 403

    admin = bearer("admin", region=s.kabupaten)
    assert [i["opd_code"] for i in (await opds(admin)).json()["items"]] == [s.dpu]
    assert (await opds(admin, region_code=s.kota)).status_code == 403
    assert (await reporting.get(orders, headers=admin)).status_code == 403
    regions = await reporting.get(
        "/compliance/regions", params={**fy, "province": s.province}, headers=admin
    )
    assert [i["region_code"] for i in regions.json()["items"]] == [s.kabupaten]
    assert regions.json()["provinces"] == []  # the province total is wider than its scope

    provincial = bearer("auditor", region=s.province)
    assert len((await opds(provincial)).json()["items"]) == 4
    elsewhere = bearer("auditor", region="11")
    assert (await opds(elsewhere, region_code=s.province)).status_code == 403

    assert (await opds(bearer("vendor", vendor_id="v-1"))).status_code == 403
    assert (await reporting.get("/compliance/opd", params=fy)).status_code == 401


async def test_client_errors_are_problem_details(
    reporting: httpx.AsyncClient, scenario: Scenario
) -> None:
    async def problem(path: str, **params: Any) -> tuple[int, list[str]]:
        response = await reporting.get(path, params=params, headers=AUDITOR)
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        return response.status_code, [error["field"] for error in body.get("errors", [])]

    assert await problem("/compliance/opd") == (422, ["fiscal_year"])
    assert await problem("/compliance/opd", fiscal_year=2041, as_of="yesterday") == (
        422,
        ["as_of"],
    )
    assert await problem("/compliance/opd", fiscal_year=2041, region_code="33-75") == (
        422,
        ["region_code"],
    )
    assert await problem("/compliance/regions", fiscal_year=2041, province="33.75") == (
        422,
        ["province"],
    )
    assert await problem(f"/compliance/opd/{scenario.fiscal_year}/99.99.9/orders") == (404, [])
