"""Budgets (pagu) through HTTP, and the BudgetAllocated events they publish."""

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.helpers import bearer
from tests.purchasing.support import REGION, YEAR, Published, admin, buyer, fund, new_opd

pytestmark = pytest.mark.infra


def allocation(**overrides: Any) -> dict[str, Any]:
    return {"opd_name": "Dinas Kesehatan", "region_code": REGION, "pagu_idr": 5_000_000} | overrides


def field_errors(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [error["field"] for error in response.json()["errors"]]


async def test_an_admin_allocates_a_budget_and_it_is_published(
    client: httpx.AsyncClient, published: Published
) -> None:
    opd = new_opd()
    response = await client.put(
        f"/budgets/{YEAR}/{opd}", json=allocation(pagu_idr=7_500_000_000), headers=admin()
    )

    assert response.status_code == 200, response.text
    budget = response.json()
    assert budget | {"allocated_at": None} == {
        "fiscal_year": YEAR,
        "opd_code": opd,
        "opd_name": "Dinas Kesehatan",
        "region_code": REGION,
        "pagu_idr": 7_500_000_000,
        "committed_idr": 0,
        "remaining_idr": 7_500_000_000,
        "version": 1,
        "allocated_at": None,
    }
    (event,) = await published.wait_for(f"{YEAR}:{opd}", 1)
    assert event.envelope.type == "BudgetAllocated.v1"
    assert event.envelope.source == "etalase/purchasing"
    assert event.envelope.sequence == 1
    assert event.envelope.data == {
        "fiscal_year": YEAR,
        "opd_code": opd,
        "opd_name": "Dinas Kesehatan",
        "region_code": REGION,
        "pagu_idr": 7_500_000_000,
        "allocated_at": event.envelope.data["allocated_at"],
    }
    assert datetime.fromisoformat(event.envelope.data["allocated_at"]) == datetime.fromisoformat(
        budget["allocated_at"]
    )
    assert event.envelope.data["allocated_at"].endswith("Z")
    headers = published.headers[event.envelope.id]
    assert headers["event-type"] == b"BudgetAllocated.v1"
    assert not [name for name in headers if name.startswith("ce_")]
    assert headers["content-type"] == b"application/cloudevents+json"


async def test_a_new_allocation_replaces_the_old_one_as_the_next_version(
    client: httpx.AsyncClient, published: Published
) -> None:
    opd = await fund(client, 1_000_000)
    response = await client.put(
        f"/budgets/{YEAR}/{opd}",
        json=allocation(opd_name="Dinas Kesehatan (perubahan)", pagu_idr=0),
        headers=admin(),
    )

    assert response.status_code == 200
    assert (response.json()["pagu_idr"], response.json()["version"]) == (0, 2)
    first, second = await published.wait_for(f"{YEAR}:{opd}", 2)
    assert [first.envelope.sequence, second.envelope.sequence] == [1, 2]
    assert (second.envelope.data["pagu_idr"], second.envelope.data["opd_name"]) == (
        0,
        "Dinas Kesehatan (perubahan)",
    )
    listed = await client.get(
        "/budgets",
        params={"fiscal_year": YEAR, "region_code": REGION, "limit": 500},
        headers=admin(),
    )
    mine = [b for b in listed.json()["items"] if b["opd_code"] == opd]
    assert [(b["pagu_idr"], b["version"]) for b in mine] == [(0, 2)]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (bearer("admin", region=REGION), 200),
        (bearer("admin", region="33"), 200),  # the province's admin covers its kab/kota
        (bearer("admin", region="33.74"), 403),
        (bearer("admin", region="35"), 403),
        (bearer("desk", region=REGION), 403),
        (bearer("auditor", region=REGION), 403),
        (bearer("auditor"), 403),
        (bearer("vendor", vendor_id="v-1"), 403),
        (bearer("buyer", opd=f"{REGION}.1.02", region=REGION), 403),
        ({}, 401),
        ({"Authorization": "Bearer not-a-token"}, 401),
    ],
)
async def test_only_an_admin_of_the_region_sets_budgets(
    client: httpx.AsyncClient, headers: dict[str, str], status: int
) -> None:
    response = await client.put(f"/budgets/{YEAR}/{new_opd()}", json=allocation(), headers=headers)
    assert response.status_code == status, response.text
    if status != 200:
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("opd_code", "body", "field"),
    [
        ("33.74.1.02", {}, "opd_code"),  # another kab/kota's prefix
        ("33.751.02", {}, "opd_code"),  # no dot after the region
        ("33.75.", {}, "opd_code"),  # no agency code
        ("33.75", {}, "opd_code"),
        ("33.1.02", {"region_code": "33"}, "region_code"),  # a province is not a kab/kota
        ("3375.1", {"region_code": "3375"}, "region_code"),
        ("33.70.1", {"region_code": "33.70"}, "region_code"),  # 70 is neither kabupaten nor kota
        ("33.75.1", {"pagu_idr": -1}, "pagu_idr"),
        ("33.75.1", {"pagu_idr": 1.5}, "pagu_idr"),
        ("33.75.1", {"pagu_idr": "1000"}, "pagu_idr"),
        ("33.75.1", {"pagu_idr": None}, "pagu_idr"),
        ("33.75.1", {"opd_name": ""}, "opd_name"),
    ],
)
async def test_malformed_allocations_are_refused_naming_the_field(
    client: httpx.AsyncClient, opd_code: str, body: dict[str, Any], field: str
) -> None:
    response = await client.put(
        f"/budgets/{YEAR}/{opd_code}", json=allocation(**body), headers=admin("33")
    )
    assert field in field_errors(response)


@pytest.mark.parametrize("year", ["1999", "2101", "dua-ribu"])
async def test_an_insane_fiscal_year_is_refused(client: httpx.AsyncClient, year: str) -> None:
    response = await client.put(f"/budgets/{year}/{new_opd()}", json=allocation(), headers=admin())
    assert field_errors(response) == ["fiscal_year"]


async def test_budgets_are_listed_by_year_and_region_in_pages(client: httpx.AsyncClient) -> None:
    region, year = "35.78", 2031  # used by no other test
    opds = sorted([await fund(client, 1_000 * i, region=region, year=year) for i in range(1, 4)])
    await fund(client, 1, region="35.77", year=year)  # the neighbour is not listed

    params: dict[str, str | int] = {"fiscal_year": year, "region_code": region, "limit": 2}
    first = (await client.get("/budgets", params=params, headers=admin("35"))).json()
    rest = (
        await client.get("/budgets", params=params | {"offset": 2}, headers=admin(region))
    ).json()

    assert (first["total"], rest["total"]) == (3, 3)
    assert [b["opd_code"] for b in first["items"] + rest["items"]] == opds
    whole = await client.get("/budgets", params={"fiscal_year": year}, headers=admin("35"))
    assert whole.json()["total"] == 4  # a province admin sees its kab/kota


@pytest.mark.parametrize(
    ("role", "claims", "status", "sees"),
    [
        ("admin", {"region": "36.71"}, 200, {"own", "neighbour"}),
        ("auditor", {"region": "36.71"}, 200, {"own", "neighbour"}),
        ("auditor", {}, 200, {"own", "neighbour", "elsewhere"}),
        ("auditor", {"region": "36"}, 200, {"own", "neighbour", "elsewhere"}),
        ("buyer", {"opd": "own", "region": "36.71"}, 200, {"own"}),
        ("admin", {"region": "36.72"}, 200, {"elsewhere"}),
        ("desk", {"region": "36.71"}, 403, set()),
        ("vendor", {"vendor_id": "v-1"}, 403, set()),
    ],
)
async def test_budgets_are_read_within_scope(
    client: httpx.AsyncClient, role: str, claims: dict[str, str], status: int, sees: set[str]
) -> None:
    year = 2032  # only this test's budgets are of this year; each case checks its own three
    names = {
        "own": await fund(client, 1, region="36.71", year=year),
        "neighbour": await fund(client, 2, region="36.71", year=year),
        "elsewhere": await fund(client, 3, region="36.72", year=year),
    }
    claims = {k: names.get(v, v) for k, v in claims.items()}
    response = await client.get(
        "/budgets", params={"fiscal_year": year}, headers=bearer(role, **claims)
    )
    assert response.status_code == status, response.text
    if status == 200:
        listed = {b["opd_code"] for b in response.json()["items"]}
        assert listed & set(names.values()) == {names[name] for name in sees}


async def test_reading_another_region_explicitly_is_forbidden(client: httpx.AsyncClient) -> None:
    response = await client.get("/budgets", params={"region_code": "33.74"}, headers=admin(REGION))
    assert response.status_code == 403
    assert (
        await client.get("/budgets", params={"region_code": "33.7"}, headers=admin())
    ).status_code == 422
    assert (await client.get("/budgets", params={"limit": 501}, headers=admin())).status_code == 422
    assert (await client.get("/budgets")).status_code == 401
    assert (await client.get("/budgets", headers=buyer(new_opd()))).status_code == 200
