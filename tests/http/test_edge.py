"""What a hostile or careless client sends gets a clean 4xx, through real HTTP to the running
services (issue 13: "500 for client input", "Tokens", "Exports and headers", "Undecodable
bodies"), and every answer carries the security headers."""

import csv
import io
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from etalase_platform.settings import DEV_JWT_SECRET

from tests.e2e.stack import SERVICES, Stack
from tests.helpers import bearer, eventually, unique

pytestmark = pytest.mark.infra

REGION = "33.75"
OPD = f"{REGION}.1.02.01"
DESK = bearer("desk", region=REGION)
ADMIN = bearer("admin", region=REGION)
BUYER = bearer("buyer", opd=OPD, region=REGION)
VENDOR = bearer("vendor", vendor_id="V-1")
AUDITOR = bearer("auditor")
HUGE = str(2**63)


@pytest.fixture(scope="module")
async def http(services: Stack) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients = {
        service: httpx.AsyncClient(base_url=url, timeout=30)
        for service, url in services.urls.items()
    }
    yield clients
    for client in clients.values():
        await client.aclose()


def _invalid(response: httpx.Response, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == 422, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    return body


# -- NUL characters --------------------------------------------------------------------------


async def test_a_nul_in_the_query_of_a_public_search_is_422(
    http: dict[str, httpx.AsyncClient],
) -> None:
    _invalid(await http["catalog"].get("/products?q=%00"), "q")


@pytest.mark.parametrize(
    ("service", "path", "headers"),
    [
        ("registration", "/vendors/%00", DESK),
        ("catalog", "/products/%00", {}),
        ("purchasing", "/orders/%00", BUYER),
        ("reporting", "/compliance/opd/2026/%00/orders", AUDITOR),
    ],
)
async def test_a_nul_in_the_path_is_422(
    http: dict[str, httpx.AsyncClient], service: str, path: str, headers: dict[str, str]
) -> None:
    _invalid(await http[service].get(path, headers=headers))


async def test_a_nul_in_a_budgets_opd_name_is_422(http: dict[str, httpx.AsyncClient]) -> None:
    body = {"opd_name": "Dinas\u0000Kesehatan", "region_code": REGION, "pagu_idr": 1000}
    response = await http["purchasing"].put(f"/budgets/2026/{OPD}", json=body, headers=ADMIN)
    _invalid(response, "opd_name")


async def test_a_nul_in_an_orders_rup_code_is_422(http: dict[str, httpx.AsyncClient]) -> None:
    body = {
        "opd_code": OPD,
        "fiscal_year": 2026,
        "rup_code": "RUP\u0000",
        "lines": [{"product_id": "P-1", "quantity": 1}],
    }
    _invalid(await http["purchasing"].post("/orders", json=body, headers=BUYER), "rup_code")


async def test_a_nul_in_a_product_name_is_422(http: dict[str, httpx.AsyncClient]) -> None:
    body = {
        "vendor_id": "V-1",
        "catalog": "nasional",
        "category": "alat tulis",
        "name": "Pensil\u0000",
        "unit": "buah",
        "price_idr": 1000,
        "domestic": True,
    }
    _invalid(await http["catalog"].post("/products", json=body, headers=VENDOR), "name")


# -- numbers and dates out of range ------------------------------------------------------------

LISTS = [
    ("registration", "/vendors", DESK),
    ("catalog", "/products", {}),
    ("catalog", "/categories", {}),
    ("purchasing", "/budgets", ADMIN),
    ("purchasing", "/orders", BUYER),
    ("reporting", f"/compliance/opd/2026/{OPD}/orders", AUDITOR),
    ("reporting", "/stats/vendors", AUDITOR),
    ("reporting", "/stats/catalog", AUDITOR),
]


@pytest.mark.parametrize(("service", "path", "headers"), LISTS)
async def test_an_offset_past_2_63_is_422_on_every_list(
    http: dict[str, httpx.AsyncClient], service: str, path: str, headers: dict[str, str]
) -> None:
    _invalid(await http[service].get(path, params={"offset": HUGE}, headers=headers), "offset")


@pytest.mark.parametrize("path", ["/compliance/opd", "/compliance/regions", "/compliance/opd.csv"])
async def test_an_as_of_in_year_9999_is_422(http: dict[str, httpx.AsyncClient], path: str) -> None:
    params: dict[str, str | int] = {"fiscal_year": 2026, "as_of": "9999-12-31"}
    _invalid(await http["reporting"].get(path, params=params, headers=AUDITOR), "as_of")


# -- tokens --------------------------------------------------------------------------------------


def _token(**claims: Any) -> dict[str, str]:
    body = {"sub": "someone", "exp": datetime.now(UTC) + timedelta(hours=1), **claims}
    return {"Authorization": "Bearer " + jwt.encode(body, DEV_JWT_SECRET, algorithm="HS256")}


@pytest.mark.parametrize(
    "claims",
    [
        {"role": "desk", "region": 33.75},
        {"role": "desk", "region": ["33.75"]},
        {"role": "buyer", "region": REGION, "opd": {"code": OPD}},
        {"role": "vendor", "vendor_id": 7},
        {"role": ["desk"], "region": REGION},
        {"role": "desk", "region": "33\u000075"},
    ],
    ids=["region-number", "region-list", "opd-object", "vendor-number", "role-list", "nul"],
)
async def test_a_signed_token_with_a_claim_of_the_wrong_type_is_401(
    http: dict[str, httpx.AsyncClient], claims: dict[str, Any]
) -> None:
    for service, path in (("registration", "/vendors"), ("purchasing", "/orders")):
        response = await http[service].get(path, headers=_token(**claims))
        assert response.status_code == 401, (service, response.text)
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("exp", ["4102444800", [4102444800], None, True])
async def test_a_token_whose_exp_is_not_a_number_is_401(
    http: dict[str, httpx.AsyncClient], exp: Any
) -> None:
    claims = {"sub": "auditor:x", "role": "auditor", "exp": exp}
    token = jwt.encode(claims, DEV_JWT_SECRET, algorithm="HS256")
    response = await http["reporting"].get(
        "/stats/vendors", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401, response.text


# -- exports and headers -------------------------------------------------------------------------


async def test_the_csv_export_neutralises_a_formula_in_an_opd_name(
    http: dict[str, httpx.AsyncClient],
) -> None:
    fiscal_year = random.randint(2030, 2099)
    opd_code = f"{REGION}.{unique('x')}"
    name = '=HYPERLINK("http://evil.example","x")'
    allocation = {"opd_name": name, "region_code": REGION, "pagu_idr": 5_000_000}
    response = await http["purchasing"].put(
        f"/budgets/{fiscal_year}/{opd_code}", json=allocation, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, str]] = []

    async def exported() -> bool:
        nonlocal rows
        response = await http["reporting"].get(
            "/compliance/opd.csv",
            params={"fiscal_year": fiscal_year, "region_code": REGION},
            headers=AUDITOR,
        )
        assert response.status_code == 200, response.text
        rows = [r for r in csv.DictReader(io.StringIO(response.text)) if r["opd_code"] == opd_code]
        return bool(rows)

    await eventually(exported, timeout=180, interval=0.5)
    assert rows[0]["opd_name"] == "'" + name
    assert rows[0]["pagu_idr"] == "5000000"  # numbers stay plain


@pytest.mark.parametrize("service", SERVICES)
async def test_a_forged_host_is_never_echoed_into_a_redirect(
    http: dict[str, httpx.AsyncClient], service: str
) -> None:
    path = {"registration": "/vendors/", "catalog": "/products/"}.get(service, "/health/live/")
    response = await http[service].get(path, headers={"Host": "evil.example", **DESK})
    assert response.status_code == 404, response.text
    assert "evil.example" not in response.headers.get("location", "")


@pytest.mark.parametrize("service", SERVICES)
async def test_every_answer_carries_the_security_headers_and_no_server_version(
    http: dict[str, httpx.AsyncClient], service: str
) -> None:
    answers = [
        await http[service].get("/health/live"),
        await http[service].get("/openapi.json"),
        await http[service].get("/nowhere"),
        await http[service].get("/health/live?x=%00"),
    ]
    for response in answers:
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "server" not in headers, headers["server"]


# -- undecodable bodies --------------------------------------------------------------------------

BODIES = [
    ("registration", "/vendors", DESK),
    ("catalog", "/products", VENDOR),
    ("purchasing", "/orders", BUYER),
]


@pytest.mark.parametrize(("service", "path", "headers"), BODIES)
@pytest.mark.parametrize(
    "body",
    [b'{"name": "\xff\xfe"}', b"[" * 10_000 + b"]" * 10_000, b"{not json"],
    ids=["not-utf8", "nested-10000", "not-json"],
)
async def test_a_body_that_cannot_be_parsed_is_422(
    http: dict[str, httpx.AsyncClient],
    service: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    response = await http[service].post(
        path, content=body, headers={**headers, "Content-Type": "application/json"}
    )
    _invalid(response)
