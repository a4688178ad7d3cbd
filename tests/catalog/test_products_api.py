"""The catalog's HTTP contract (api.md, "catalog") against real PostgreSQL and Kafka: vendors
become known to the catalog only through registration events on the real vendors topic."""

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from etalase_events.models import LegalForm, ProductPriceChanged, Scale

from tests.catalog.support import (
    ProductEventLog,
    Registry,
    get,
    kab_kota_in,
    list_when_known,
    product_body,
    unique_province,
    unique_region,
    vendor_status_heard,
    vendor_token,
)
from tests.helpers import bearer, eventually, unique

pytestmark = pytest.mark.infra

Client = httpx.AsyncClient
NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status and problem["detail"]
    if field is not None:
        assert field in [error["field"] for error in problem["errors"]], problem
    return problem


async def lokal_product(catalog: Client, registry: Registry) -> tuple[str, str, dict[str, Any]]:
    """A displayed product of a fresh verified vendor in the local catalogue of its region."""
    region = unique_region()
    vendor = await registry.verified_vendor(region=region)
    product = await list_when_known(
        catalog, product_body(vendor, catalog="lokal", catalog_region_code=region)
    )
    return vendor, region, product


# --- listing ----------------------------------------------------------------------------------


async def test_a_verified_vendor_lists_a_displayed_product(
    catalog: Client, registry: Registry
) -> None:
    region = unique_region()
    vendor = await registry.verified_vendor(
        region=region, scale=Scale.KECIL, legal_form=LegalForm.KOPERASI
    )
    body = product_body(
        vendor,
        catalog="lokal",
        catalog_region_code=region,
        tkdn_pct=45.5,
        bmp_pct=10,
        tkdn_certificate_no="TKDN-2024-001",
    )
    product = await list_when_known(catalog, body)

    assert product["status"] == "tayang" and product["delist_reason"] is None
    assert product["version"] == 1
    for field in ("vendor_id", "catalog", "catalog_region_code", "category", "name", "brand"):
        assert product[field] == body[field]
    assert (product["unit"], product["price_idr"], product["domestic"]) == ("rim", 52_000, True)
    assert (product["tkdn_pct"], product["bmp_pct"]) == (45.5, 10.0)
    assert product["tkdn_certificate_no"] == "TKDN-2024-001"
    assert (product["vendor_scale"], product["vendor_legal_form"]) == ("kecil", "koperasi")
    assert product["vendor_region_code"] == region
    assert await get(catalog, product["product_id"]) == product


async def test_the_catalog_refuses_vendors_it_has_not_heard_verified(
    catalog: Client, registry: Registry
) -> None:
    stranger = unique("never-registered-")
    response = await catalog.post(
        "/products", json=product_body(stranger), headers=vendor_token(stranger)
    )
    problem = assert_problem(response, 409)
    assert problem["vendor_status"] == "unknown" and "retry" in problem["detail"]
    assert problem["rule"] == "vendor_unknown"

    unverified = await registry.register()
    await vendor_status_heard(catalog, unverified, "registered")

    suspended = await registry.verified_vendor()
    product = await list_when_known(catalog, product_body(suspended))
    await registry.suspend(suspended)

    async def taken_down() -> bool:
        return bool((await get(catalog, product["product_id"]))["status"] == "delisted")

    await eventually(taken_down)
    response = await catalog.post(
        "/products", json=product_body(suspended), headers=vendor_token(suspended)
    )
    problem = assert_problem(response, 409)
    assert (problem["rule"], problem["vendor_status"]) == ("vendor_suspended", "suspended")


async def test_lokal_products_go_in_the_vendors_own_region(
    catalog: Client, registry: Registry
) -> None:
    province = unique_province()
    region = kab_kota_in(province)
    vendor = await registry.verified_vendor(region=region)
    await list_when_known(catalog, product_body(vendor))  # the vendor is known from here on
    headers = vendor_token(vendor)

    elsewhere = product_body(vendor, catalog="lokal", catalog_region_code=unique_region())
    problem = assert_problem(await catalog.post("/products", json=elsewhere, headers=headers), 409)
    assert (problem["rule"], problem["vendor_region_code"]) == (
        "lokal_outside_vendor_region",
        region,
    )

    in_province = product_body(vendor, catalog="lokal", catalog_region_code=province)
    response = await catalog.post("/products", json=in_province, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["catalog_region_code"] == province


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": None}, "name"),
        ({"name": "   "}, "name"),
        ({"unit": None}, "unit"),
        ({"category": None}, "category"),
        ({"domestic": None}, "domestic"),
        ({"catalog": "internasional"}, "catalog"),
        ({"price_idr": 0}, "price_idr"),
        ({"price_idr": -100}, "price_idr"),
        ({"price_idr": 52_000.5}, "price_idr"),
        ({"price_idr": "52000"}, "price_idr"),
        ({"price_idr": 10**16}, "price_idr"),
        ({"tkdn_pct": 100.5, "tkdn_certificate_no": "C-1"}, "tkdn_pct"),
        ({"tkdn_pct": -1, "tkdn_certificate_no": "C-1"}, "tkdn_pct"),
        ({"tkdn_pct": 40.123, "tkdn_certificate_no": "C-1"}, "tkdn_pct"),
        ({"bmp_pct": 15.5}, "bmp_pct"),
        ({"tkdn_pct": 40}, "tkdn_certificate_no"),
        ({"tkdn_certificate_no": "C-1"}, "tkdn_pct"),
        ({"catalog": "lokal"}, "catalog_region_code"),
        ({"catalog": "nasional", "catalog_region_code": "33.75"}, "catalog_region_code"),
        ({"catalog": "lokal", "catalog_region_code": "Pekalongan"}, "catalog_region_code"),
    ],
)
async def test_invalid_listings_are_422_naming_the_field(
    catalog: Client, registry: Registry, overrides: dict[str, Any], field: str
) -> None:
    vendor = unique("v-")  # the body is judged before the vendor is looked up
    response = await catalog.post(
        "/products", json=product_body(vendor, **overrides), headers=vendor_token(vendor)
    )
    assert_problem(response, 422, field)


async def test_who_may_list(catalog: Client, registry: Registry) -> None:
    vendor = unique("v-")
    body = product_body(vendor)
    assert_problem(await catalog.post("/products", json=body), 401)
    bad_token = {"Authorization": "Bearer not-a-jwt"}
    assert_problem(await catalog.post("/products", json=body, headers=bad_token), 401)
    for role, claims in [
        ("desk", {"region": "33.75"}),
        ("admin", {"region": "33.75"}),
        ("buyer", {"opd": "33.75.1.02", "region": "33.75"}),
        ("auditor", {}),
    ]:
        response = await catalog.post("/products", json=body, headers=bearer(role, **claims))
        assert_problem(response, 403)
    other_vendor = vendor_token(unique("v-"))
    assert_problem(await catalog.post("/products", json=body, headers=other_vendor), 403)


async def test_a_retry_with_the_same_idempotency_key_lists_once(
    catalog: Client, registry: Registry
) -> None:
    vendor = await registry.verified_vendor()
    await list_when_known(catalog, product_body(vendor))
    body = product_body(vendor)
    headers = {**vendor_token(vendor), "Idempotency-Key": unique()}

    first, again = [await catalog.post("/products", json=body, headers=headers) for _ in range(2)]
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert (first.headers.get("Idempotent-Replayed"), again.headers["Idempotent-Replayed"]) == (
        None,
        "true",
    )
    response = await catalog.get("/products", params={"vendor_id": vendor, "q": body["name"]})
    assert response.json()["total"] == 1

    different = {**body, "price_idr": 60_000}
    assert_problem(await catalog.post("/products", json=different, headers=headers), 422)

    concurrent_key = {**vendor_token(vendor), "Idempotency-Key": unique()}
    racing = await asyncio.gather(
        *[
            catalog.post("/products", json=product_body(vendor, name="Map"), headers=concurrent_key)
            for _ in range(4)
        ]
    )
    assert {r.status_code for r in racing} == {201}
    assert len({r.json()["product_id"] for r in racing}) == 1


# --- changes ----------------------------------------------------------------------------------


async def test_the_vendor_changes_price_and_tkdn_of_its_own_products(
    catalog: Client, registry: Registry
) -> None:
    vendor = await registry.verified_vendor()
    product = await list_when_known(catalog, product_body(vendor))
    url = f"/products/{product['product_id']}"
    mine = vendor_token(vendor)

    response = await catalog.patch(f"{url}/price", json={"price_idr": 55_000}, headers=mine)
    assert response.status_code == 200, response.text
    assert (response.json()["price_idr"], response.json()["version"]) == (55_000, 2)
    unchanged = await catalog.patch(f"{url}/price", json={"price_idr": 55_000}, headers=mine)
    assert unchanged.json()["version"] == 2  # the same price is no change and no event

    certificate = {
        "tkdn_pct": 47.25,
        "bmp_pct": 12.5,
        "certificate_no": "TKDN-2025-009",
        "valid_until": NEXT_YEAR,
    }
    response = await catalog.put(f"{url}/tkdn", json=certificate, headers=mine)
    assert response.status_code == 200, response.text
    certified = response.json()
    assert (certified["tkdn_pct"], certified["bmp_pct"]) == (47.25, 12.5)
    assert certified["tkdn_certificate_no"] == "TKDN-2025-009"
    assert (certified["tkdn_valid_until"], certified["version"]) == (NEXT_YEAR, 3)
    assert await get(catalog, product["product_id"]) == certified

    for body, field in [
        ({"price_idr": 0}, "price_idr"),
        ({"price_idr": 1.5}, "price_idr"),
        ({}, "price_idr"),
    ]:
        assert_problem(await catalog.patch(f"{url}/price", json=body, headers=mine), 422, field)
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    invalid_certificates: list[tuple[dict[str, Any], str]] = [
        ({"valid_until": yesterday}, "valid_until"),
        ({"valid_until": "soon"}, "valid_until"),
        ({"tkdn_pct": 101}, "tkdn_pct"),
        ({"bmp_pct": 15.01}, "bmp_pct"),
        ({"certificate_no": ""}, "certificate_no"),
    ]
    for changes, field in invalid_certificates:
        response = await catalog.put(f"{url}/tkdn", json={**certificate, **changes}, headers=mine)
        assert_problem(response, 422, field)
    assert (await get(catalog, product["product_id"]))["version"] == 3


async def test_only_the_owner_changes_price_and_tkdn(catalog: Client, registry: Registry) -> None:
    vendor, region, product = await lokal_product(catalog, registry)
    url = f"/products/{product['product_id']}"
    certificate = {"tkdn_pct": 30, "bmp_pct": 5, "certificate_no": "C-1", "valid_until": NEXT_YEAR}
    callers = [
        vendor_token(unique("v-")),
        bearer("admin", region=region),
        bearer("desk", region=region),
        bearer("buyer", opd=f"{region}.1.01", region=region),
        bearer("auditor"),
    ]
    for headers in callers:
        price = await catalog.patch(f"{url}/price", json={"price_idr": 1}, headers=headers)
        assert_problem(price, 403)
        assert_problem(await catalog.put(f"{url}/tkdn", json=certificate, headers=headers), 403)
    assert_problem(await catalog.patch(f"{url}/price", json={"price_idr": 1}), 401)
    assert (await get(catalog, product["product_id"]))["version"] == 1

    missing = f"/products/{unique('p-')}"
    mine = vendor_token(vendor)
    assert_problem(
        await catalog.patch(f"{missing}/price", json={"price_idr": 1}, headers=mine), 404
    )
    assert_problem(await catalog.put(f"{missing}/tkdn", json=certificate, headers=mine), 404)
    assert_problem(await catalog.post(f"{missing}/delist", headers=mine), 404)
    assert_problem(await catalog.post(f"{missing}/relist", headers=mine), 404)
    assert_problem(await catalog.get(missing), 404)


async def test_the_vendor_delists_and_relists_its_product(
    catalog: Client, registry: Registry
) -> None:
    vendor = await registry.verified_vendor()
    product = await list_when_known(catalog, product_body(vendor))
    url = f"/products/{product['product_id']}"
    mine = vendor_token(vendor)

    displayed = assert_problem(await catalog.post(f"{url}/relist", headers=mine), 409)
    assert (displayed["rule"], displayed["product_status"]) == ("transition_forbidden", "tayang")
    wrong_reason = await catalog.post(f"{url}/delist", json={"reason": "admin"}, headers=mine)
    assert_problem(wrong_reason, 422, "reason")
    assert_problem(await catalog.post(f"{url}/delist", json={"reason": "why"}, headers=mine), 422)

    response = await catalog.post(f"{url}/delist", json={"reason": "vendor_request"}, headers=mine)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["delist_reason"]) == (
        "delisted",
        "vendor_request",
    )
    assert_problem(await catalog.post(f"{url}/delist", headers=mine), 409)  # already delisted
    # a delisted product's price may still be corrected before it returns
    price = await catalog.patch(f"{url}/price", json={"price_idr": 51_000}, headers=mine)
    assert price.status_code == 200

    response = await catalog.post(f"{url}/relist", headers=mine)
    assert response.status_code == 200, response.text
    relisted = response.json()
    assert (relisted["status"], relisted["delist_reason"], relisted["version"]) == (
        "tayang",
        None,
        4,
    )
    other = vendor_token(unique("v-"))
    assert_problem(await catalog.post(f"{url}/delist", headers=other), 403)


async def test_the_regional_admin_delists_from_its_local_catalogue(
    catalog: Client, registry: Registry
) -> None:
    vendor, region, product = await lokal_product(catalog, registry)
    url = f"/products/{product['product_id']}"
    admin = bearer("admin", region=region)

    for outsider in [
        bearer("admin", region=unique_region()),
        bearer("admin", region=unique_province()),  # a province not covering it
        bearer("desk", region=region),
        bearer("buyer", opd=f"{region}.1.01", region=region),
        bearer("auditor", region=region),
        bearer("auditor"),
    ]:
        assert_problem(await catalog.post(f"{url}/delist", headers=outsider), 403)
    assert_problem(await catalog.post(f"{url}/delist"), 401)

    response = await catalog.post(f"{url}/delist", json={"reason": "admin"}, headers=admin)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["delist_reason"]) == ("delisted", "admin")

    mine = vendor_token(vendor)
    problem = assert_problem(await catalog.post(f"{url}/relist", headers=mine), 409)
    assert "admin" in problem["detail"]
    assert (problem["rule"], problem["delist_reason"]) == ("relist_by_delister_only", "admin")
    response = await catalog.post(f"{url}/relist", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "tayang"

    # the vendor's own takedown is not the admin's to undo
    assert (await catalog.post(f"{url}/delist", headers=mine)).status_code == 200
    assert_problem(await catalog.post(f"{url}/relist", headers=admin), 409)


async def test_a_province_admin_covers_its_kab_kota_but_not_other_catalogues(
    catalog: Client, registry: Registry
) -> None:
    province = unique_province()
    region = kab_kota_in(province)
    vendor = await registry.verified_vendor(region=region)
    local = await list_when_known(
        catalog, product_body(vendor, catalog="lokal", catalog_region_code=region)
    )
    national = await list_when_known(catalog, product_body(vendor, catalog="nasional"))
    province_admin = bearer("admin", region=province)

    assert_problem(
        await catalog.post(f"/products/{national['product_id']}/delist", headers=province_admin),
        403,
    )
    response = await catalog.post(f"/products/{local['product_id']}/delist", headers=province_admin)
    assert response.status_code == 200, response.text
    assert response.json()["delist_reason"] == "admin"


async def test_concurrent_changes_never_reuse_a_sequence(
    catalog: Client, registry: Registry, product_events: ProductEventLog
) -> None:
    vendor = await registry.verified_vendor()
    product = await list_when_known(catalog, product_body(vendor))
    url = f"/products/{product['product_id']}/price"
    mine = vendor_token(vendor)
    prices = [60_000 + i for i in range(12)]

    responses = await asyncio.gather(
        *[catalog.patch(url, json={"price_idr": p}, headers=mine) for p in prices]
    )
    assert {r.status_code for r in responses} == {200}
    assert sorted(r.json()["version"] for r in responses) == list(range(2, 14))

    events = await product_events.wait_for(product["product_id"], 13)
    assert [e.envelope.sequence for e in events] == list(range(1, 14))
    # each change saw the price the one before it left
    changes = [e.event for e in events[1:] if isinstance(e.event, ProductPriceChanged)]
    assert len(changes) == 12
    previous = [52_000] + [c.price_idr for c in changes[:-1]]
    assert [c.previous_price_idr for c in changes] == previous


# --- public reads -----------------------------------------------------------------------------


async def test_catalog_reads_are_public_and_filtered(catalog: Client, registry: Registry) -> None:
    province = unique_province()
    region, neighbour = kab_kota_in(province), kab_kota_in(province)
    while neighbour == region:
        neighbour = kab_kota_in(province)
    vendor = await registry.verified_vendor(region=region)
    other = await registry.verified_vendor(region=neighbour)
    tag = unique()
    batik = await list_when_known(
        catalog,
        product_body(
            vendor,
            catalog="lokal",
            catalog_region_code=region,
            category=f"Batik {tag}",
            name=f"Kain BATIK tulis {tag}",
            brand="Pesisir",
        ),
    )
    paper = await list_when_known(
        catalog,
        product_body(vendor, category=f"Kertas {tag}", name=f"Kertas {tag}", brand="Batikindo"),
    )
    shirt = await list_when_known(
        catalog,
        product_body(other, catalog="toko_daring", category=f"Batik {tag}", name=f"Kemeja {tag}"),
    )
    delisted = await list_when_known(
        catalog, product_body(other, category=f"Batik {tag}", name=f"Selendang batik {tag}")
    )
    response = await catalog.post(
        f"/products/{delisted['product_id']}/delist", headers=vendor_token(other)
    )
    assert response.status_code == 200

    async def found(**params: Any) -> list[str]:
        response = await catalog.get("/products", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == len(page["items"])
        return sorted(item["product_id"] for item in page["items"])

    def ids(*products: dict[str, Any]) -> list[str]:
        return sorted(p["product_id"] for p in products)

    everything = ids(batik, paper, shirt, delisted)
    assert await found(region_code=province) == everything
    assert await found(region_code=region) == ids(batik, paper)
    assert await found(region_code=neighbour) == ids(shirt, delisted)
    assert await found(vendor_id=vendor) == ids(batik, paper)
    assert await found(region_code=province, catalog="lokal") == ids(batik)
    assert await found(region_code=province, category=f"Batik {tag}") == ids(batik, shirt, delisted)
    assert await found(region_code=province, status="delisted") == ids(delisted)
    assert await found(region_code=province, status="tayang") == ids(batik, paper, shirt)
    # q: any case, in the name or the brand; LIKE wildcards are matched literally
    assert await found(region_code=province, q="batik") == ids(batik, paper, delisted)
    assert await found(q=f"kain batik TULIS {tag}") == ids(batik)
    assert await found(region_code=province, q="%") == []

    first = (await catalog.get("/products", params={"region_code": province, "limit": 3})).json()
    rest = (
        await catalog.get("/products", params={"region_code": province, "limit": 3, "offset": 3})
    ).json()
    assert first["total"] == rest["total"] == 4
    assert (len(first["items"]), len(rest["items"])) == (3, 1)
    assert sorted(p["product_id"] for p in first["items"] + rest["items"]) == everything

    invalid_queries: list[tuple[dict[str, Any], str]] = [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
        ({"status": "hidden"}, "status"),
        ({"catalog": "x"}, "catalog"),
        ({"region_code": "Pekalongan"}, "region_code"),
    ]
    for params, field in invalid_queries:
        assert_problem(await catalog.get("/products", params=params), 422, field)

    response = await catalog.get("/categories", params={"region_code": province})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {"category": f"Batik {tag}", "tayang": 2},
            {"category": f"Kertas {tag}", "tayang": 1},
        ],
        "total": 2,
    }
    lokal = await catalog.get("/categories", params={"region_code": province, "catalog": "lokal"})
    assert lokal.json()["items"] == [{"category": f"Batik {tag}", "tayang": 1}]
    neighbours = await catalog.get("/categories", params={"region_code": neighbour})
    assert neighbours.json()["items"] == [{"category": f"Batik {tag}", "tayang": 1}]
    assert_problem(await catalog.get("/categories", params={"catalog": "x"}), 422, "catalog")


async def test_operational_documents(catalog: Client) -> None:
    assert (await catalog.get("/health/ready")).json()["status"] == "ready"
    document = (await catalog.get("/asyncapi")).json()
    operations = document["operations"]
    assert operations["send_products"]["action"] == "send"
    assert operations["receive_vendors"]["action"] == "receive"
    assert not any(name.startswith("send_vendors") and "dlq" not in name for name in operations)
    paths = (await catalog.get("/openapi.json")).json()["paths"]
    assert {"/products", "/products/{product_id}", "/categories"} <= set(paths)
