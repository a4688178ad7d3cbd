"""Registration and catalog together, over real Kafka and PostgreSQL, only through their APIs:
a vendor registered and verified at the desk can list; suspension delists its products with
reason `vendor_suspended`; reinstatement relists exactly those."""

from collections.abc import AsyncIterator

import httpx
import pytest
from etalase_catalog.bootstrap import create_app as catalog_app
from etalase_catalog.settings import Settings as CatalogSettings
from etalase_registration.bootstrap import create_app as registration_app
from etalase_registration.settings import Settings as RegistrationSettings

from tests.helpers import DatabaseFactory, Infra, bearer, eventually, serve, unique
from tests.registration.support import registration

pytestmark = pytest.mark.infra
DESK = bearer("desk", region="33.75", sub="mpp-pekalongan-1")


@pytest.fixture(scope="module")
async def apps(
    infra: Infra, new_database: DatabaseFactory
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    registration_settings = RegistrationSettings(
        database_url=await new_database("flow_registration"), kafka_bootstrap_servers=infra.kafka
    )
    catalog_settings = CatalogSettings(
        database_url=await new_database("flow_catalog"),
        kafka_bootstrap_servers=infra.kafka,
        consumer_group=unique("flow-catalog-"),
    )
    async with (
        serve(registration_app(registration_settings)) as registry,
        serve(catalog_app(catalog_settings)) as catalog,
    ):
        yield registry, catalog


def _product(vendor_id: str, name: str) -> dict[str, object]:
    return {
        "vendor_id": vendor_id,
        "catalog": "lokal",
        "catalog_region_code": "33.75",
        "category": "Batik dan Tekstil",
        "name": name,
        "brand": "Pesisir",
        "unit": "lembar",
        "price_idr": 350_000,
        "domestic": True,
        "tkdn_pct": 45,
        "bmp_pct": 10,
        "tkdn_certificate_no": unique("TKDN-"),
    }


async def test_a_verified_vendor_lists_and_suspension_delists_and_reinstatement_relists(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    registry, catalog = apps
    created = await registry.post("/vendors", json=registration("33.75"), headers=DESK)
    assert created.status_code == 201, created.text
    vendor_id = created.json()["vendor_id"]
    vendor = bearer("vendor", vendor_id=vendor_id)

    # before verification the catalog refuses (it heard of the vendor, or not yet)
    early = await catalog.post("/products", json=_product(vendor_id, "Batik Tulis"), headers=vendor)
    assert early.status_code == 409

    assert (await registry.post(f"/vendors/{vendor_id}/verify", headers=DESK)).status_code == 200
    product_ids: list[str] = []

    async def listed() -> bool:
        response = await catalog.post(
            "/products", json=_product(vendor_id, f"Batik Cap {len(product_ids)}"), headers=vendor
        )
        if response.status_code == 201:
            product_ids.append(response.json()["product_id"])
        return len(product_ids) == 3

    await eventually(listed, interval=0.2)
    withdrawn = product_ids[2]
    delist = await catalog.post(
        f"/products/{withdrawn}/delist", json={"reason": "vendor_request"}, headers=vendor
    )
    assert delist.status_code == 200

    suspended = await registry.post(
        f"/vendors/{vendor_id}/suspend", json={"reason": "dokumen palsu"}, headers=DESK
    )
    assert suspended.status_code == 200

    async def products() -> dict[str, dict[str, object]]:
        page = (await catalog.get("/products", params={"vendor_id": vendor_id})).json()
        return {item["product_id"]: item for item in page["items"]}

    async def all_delisted_by_suspension() -> bool:
        current = await products()
        return all(current[p]["status"] == "delisted" for p in product_ids[:2])

    await eventually(all_delisted_by_suspension)
    current = await products()
    assert {current[p]["delist_reason"] for p in product_ids[:2]} == {"vendor_suspended"}
    assert current[withdrawn]["delist_reason"] == "vendor_request"

    reinstated = await registry.post(f"/vendors/{vendor_id}/reinstate", headers=DESK)
    assert reinstated.status_code == 200

    async def relisted() -> bool:
        current = await products()
        return all(current[p]["status"] == "tayang" for p in product_ids[:2])

    await eventually(relisted)
    assert (await products())[withdrawn]["status"] == "delisted"  # the vendor's own delist stays
