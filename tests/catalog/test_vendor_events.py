"""The catalog's vendor view, fed by registration events on the real vendors topic: suspension
and reinstatement, redelivery, stale and out-of-order events."""

import uuid
from typing import Any

import httpx
import pytest
from etalase_events.codec import decode
from etalase_events.models import (
    LegalForm,
    ProductDelisted,
    ProductRelisted,
    Scale,
    VendorReinstated,
    VendorSuspended,
    VendorVerified,
)

from tests.catalog.support import (
    ProductEventLog,
    Registry,
    get,
    list_when_known,
    now,
    product_body,
    registered,
    unique_region,
    vendor_status_heard,
    vendor_token,
)
from tests.helpers import bearer, eventually

pytestmark = pytest.mark.infra

Client = httpx.AsyncClient


async def wait_until_shown(
    catalog: Client, product_id: str, field: str, value: Any
) -> dict[str, Any]:
    shown: dict[str, Any] = {}

    async def arrived() -> bool:
        shown.update(await get(catalog, product_id))
        return bool(shown[field] == value)

    arrived.__name__ = f"product_{field}_is_{value}"
    await eventually(arrived)
    return shown


async def barrier(catalog: Client, registry: Registry, vendor: str, product_id: str) -> None:
    """Every vendor event published before this one has been applied: a profile change on the
    same vendor (same partition, in order) that shows on its product."""
    current = (await get(catalog, product_id))["vendor_legal_form"]
    legal_form = LegalForm.PT if current != LegalForm.PT else LegalForm.FIRMA
    await registry.update_profile(vendor, legal_form=legal_form)
    await wait_until_shown(catalog, product_id, "vendor_legal_form", legal_form.value)


async def states(catalog: Client, *products: dict[str, Any]) -> list[tuple[str, Any, int]]:
    shown = [await get(catalog, p["product_id"]) for p in products]
    return [(p["status"], p["delist_reason"], p["version"]) for p in shown]


async def test_suspension_delists_and_reinstatement_relists_exactly_those(
    catalog: Client, registry: Registry, product_events: ProductEventLog
) -> None:
    region = unique_region()
    vendor = await registry.verified_vendor(region=region)
    mine = vendor_token(vendor)
    shown = [await list_when_known(catalog, product_body(vendor)) for _ in range(2)]
    withdrawn, taken_down = [
        await list_when_known(
            catalog, product_body(vendor, catalog="lokal", catalog_region_code=region)
        )
        for _ in range(2)
    ]
    for product, headers in [(withdrawn, mine), (taken_down, bearer("admin", region=region))]:
        response = await catalog.post(f"/products/{product['product_id']}/delist", headers=headers)
        assert response.status_code == 200, response.text

    suspension = await registry.suspend(vendor)
    for product in shown:
        await wait_until_shown(catalog, product["product_id"], "status", "delisted")
    suspended_states = [
        ("delisted", "vendor_suspended", 2),
        ("delisted", "vendor_suspended", 2),
        ("delisted", "vendor_request", 2),
        ("delisted", "admin", 2),
    ]
    assert await states(catalog, *shown, withdrawn, taken_down) == suspended_states

    # nothing of a suspended vendor changes
    await vendor_status_heard(catalog, vendor, "suspended")
    for product in (*shown, withdrawn):
        url = f"/products/{product['product_id']}"
        problem = (await catalog.post(f"{url}/relist", headers=mine)).json()
        assert (problem["status"], problem["vendor_status"]) == (409, "suspended")
        response = await catalog.patch(f"{url}/price", json={"price_idr": 1_000}, headers=mine)
        assert response.status_code == 409
    url = f"/products/{taken_down['product_id']}/relist"
    assert (await catalog.post(url, headers=bearer("admin", region=region))).status_code == 409

    # the same suspension again, by id and as a re-sent copy: no change, no event
    await registry.redeliver(suspension)
    await registry.resend_copy(suspension)
    await barrier(catalog, registry, vendor, shown[0]["product_id"])
    assert await states(catalog, *shown, withdrawn, taken_down) == suspended_states

    reinstatement = await registry.reinstate(vendor)
    for product in shown:
        await wait_until_shown(catalog, product["product_id"], "status", "tayang")
    reinstated_states = [
        ("tayang", None, 3),
        ("tayang", None, 3),
        ("delisted", "vendor_request", 2),
        ("delisted", "admin", 2),
    ]
    assert await states(catalog, *shown, withdrawn, taken_down) == reinstated_states

    # redelivered reinstatement, and the older suspension arriving late: no change, no event
    for record in (reinstatement, suspension):
        await registry.redeliver(record)
        await registry.resend_copy(record)
    await barrier(catalog, registry, vendor, shown[0]["product_id"])
    assert await states(catalog, *shown, withdrawn, taken_down) == reinstated_states

    # the vendor may list and change products again
    await list_when_known(catalog, product_body(vendor))
    for product in (shown[0], withdrawn):
        url = f"/products/{product['product_id']}/price"
        response = await catalog.patch(url, json={"price_idr": 53_000}, headers=mine)
        assert response.status_code == 200, response.text

    # the published history: one delist and one relist per suspension, nothing for redeliveries
    suspended, reinstated = decode(suspension.value).event, decode(reinstatement.value).event
    assert isinstance(suspended, VendorSuspended) and isinstance(reinstated, VendorReinstated)
    history = await product_events.wait_for(shown[0]["product_id"], 4)
    assert [(e.envelope.type, e.envelope.sequence) for e in history] == [
        ("ProductListed.v1", 1),
        ("ProductDelisted.v1", 2),
        ("ProductRelisted.v1", 3),
        ("ProductPriceChanged.v1", 4),
    ]
    assert history[1].event == ProductDelisted(
        product_id=shown[0]["product_id"],
        reason="vendor_suspended",
        delisted_at=suspended.suspended_at,
    )
    assert history[2].event == ProductRelisted(
        product_id=shown[0]["product_id"], relisted_at=reinstated.reinstated_at
    )
    untouched = await product_events.wait_for(withdrawn["product_id"], 3)
    assert [(e.envelope.type, e.envelope.sequence) for e in untouched] == [
        ("ProductListed.v1", 1),
        ("ProductDelisted.v1", 2),
        ("ProductPriceChanged.v1", 3),
    ]


async def test_a_verification_heard_before_the_registration_is_kept(
    catalog: Client, registry: Registry
) -> None:
    vendor = str(uuid.uuid4())
    region = unique_region()
    verified = VendorVerified(vendor_id=vendor, verified_at=now())
    await registry.publish(verified, vendor_id=vendor, sequence=2)
    await vendor_status_heard(catalog, vendor, "verified")  # verified, profile not heard yet

    await registry.publish(registered(vendor, region, Scale.KECIL), vendor_id=vendor, sequence=1)
    product = await list_when_known(
        catalog, product_body(vendor, catalog="lokal", catalog_region_code=region)
    )
    assert (product["vendor_region_code"], product["vendor_scale"]) == (region, "kecil")


async def test_profile_updates_apply_unless_stale(catalog: Client, registry: Registry) -> None:
    vendor = await registry.verified_vendor(scale=Scale.MIKRO)
    product = await list_when_known(catalog, product_body(vendor))
    assert product["vendor_scale"] == "mikro"

    await registry.update_profile(vendor, scale=Scale.MENENGAH)  # sequence 3
    await wait_until_shown(catalog, product["product_id"], "vendor_scale", "menengah")
    await registry.update_profile(vendor, sequence=3, scale=Scale.KECIL)  # same sequence
    await registry.update_profile(vendor, sequence=2, scale=Scale.BESAR)  # older
    await barrier(catalog, registry, vendor, product["product_id"])
    assert (await get(catalog, product["product_id"]))["vendor_scale"] == "menengah"
