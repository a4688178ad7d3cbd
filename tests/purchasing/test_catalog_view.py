"""Purchasing's view of products and vendors, fed by real catalog and registration events."""

import uuid
from typing import Any

import httpx
import pytest
from etalase_events.models import LegalForm, ProductPriceChanged, Scale

from tests.helpers import eventually
from tests.purchasing.support import CatalogDouble, buyer, fund, now, order_body

pytestmark = pytest.mark.infra


async def place(client: httpx.AsyncClient, opd: str, product_id: str) -> httpx.Response:
    return await client.post("/orders", json=order_body(opd, [(product_id, 1)]), headers=buyer(opd))


async def test_a_delisted_product_cannot_be_ordered_once_its_event_arrived_until_relisted(
    client: httpx.AsyncClient, catalog: CatalogDouble
) -> None:
    product = await catalog.list_product()
    await catalog.known(product.product_id)
    opd = await fund(client, 10_000_000)
    assert (await place(client, opd, product.product_id)).status_code == 201

    await catalog.delist(product.product_id)
    await catalog.hidden(product.product_id)
    refused = await place(client, opd, product.product_id)

    assert refused.status_code == 409
    assert refused.json()["rule"] == "product_not_displayed"
    assert refused.json()["product_ids"] == [product.product_id]
    assert product.product_id in refused.json()["detail"]

    await catalog.relist(product.product_id)
    await catalog.priced(product.product_id, product.price_idr)
    assert (await place(client, opd, product.product_id)).status_code == 201


async def test_a_price_change_reaches_the_next_orders_snapshot_but_not_earlier_orders(
    client: httpx.AsyncClient, catalog: CatalogDouble
) -> None:
    product = await catalog.list_product(price_idr=150_000)
    await catalog.known(product.product_id)
    opd = await fund(client, 10_000_000)
    before = await place(client, opd, product.product_id)

    await catalog.change_price(product.product_id, 175_000, previous=150_000)
    await catalog.priced(product.product_id, 175_000)
    after = await place(client, opd, product.product_id)

    assert after.json()["lines"][0]["unit_price_idr"] == 175_000
    assert after.json()["total_idr"] == 175_000
    earlier = await client.get(f"/orders/{before.json()['order_id']}", headers=buyer(opd))
    assert earlier.json()["lines"][0]["unit_price_idr"] == 150_000


async def test_stale_and_redelivered_product_events_change_nothing(
    client: httpx.AsyncClient, catalog: CatalogDouble
) -> None:
    product = await catalog.list_product(price_idr=100_000)
    pid = product.product_id
    second = ProductPriceChanged(
        product_id=pid, price_idr=200_000, previous_price_idr=100_000, changed_at=now()
    )
    second_id = await catalog.send(second, pid)  # sequence 2
    await catalog.change_price(pid, 300_000, previous=200_000)  # sequence 3
    await catalog.send(second, pid, sequence=2, id=second_id)  # redelivered
    stale = second.model_copy(update={"price_idr": 999_000})
    await catalog.send(stale, pid, sequence=2)  # an old version under a new id
    await catalog.send(product, pid, sequence=1)  # the listing again, as a replay would

    # events of one product are applied in order: once these have arrived, so have those above
    await catalog.delist(pid)  # sequence 4
    await catalog.hidden(pid)
    await catalog.relist(pid)  # sequence 5
    await catalog.priced(pid, 300_000)


async def test_a_tkdn_certificate_reaches_the_snapshot_and_creates_an_alternative(
    client: httpx.AsyncClient, catalog: CatalogDouble
) -> None:
    category = f"meja-{uuid.uuid4()}"
    uncertified = await catalog.list_product(category=category)
    to_certify = await catalog.list_product(category=category)
    await catalog.known(uncertified.product_id, to_certify.product_id)
    opd = await fund(client, 10**12)  # room for every order the wait below places
    assert (await place(client, opd, uncertified.product_id)).json()["lines"][0][
        "pdn_alternative_available"
    ] is False

    await catalog.certify(to_certify.product_id, tkdn="35.5", bmp="4.5")

    async def certified() -> bool:
        response = await place(client, opd, to_certify.product_id)
        line = response.json()["lines"][0]
        return (line["tkdn_pct"], line["bmp_pct"]) == (35.5, 4.5)

    await eventually(certified)
    flagged = await place(client, opd, uncertified.product_id)
    assert flagged.json()["lines"][0]["pdn_alternative_available"] is True


async def vendor_facts_of_next_order(
    client: httpx.AsyncClient, opd: str, product_id: str
) -> dict[str, Any]:
    """Places an order, cancels it, and returns its vendor facts."""
    order = (await place(client, opd, product_id)).json()
    await client.post(
        f"/orders/{order['order_id']}/cancel", json={"reason": "uji"}, headers=buyer(opd)
    )
    return {k: order[k] for k in ("vendor_scale", "vendor_legal_form", "vendor_region_code")}


@pytest.mark.parametrize("update_first", [False, True])
async def test_a_vendor_profile_update_refreshes_the_listing_snapshot_whatever_arrives_first(
    client: httpx.AsyncClient, catalog: CatalogDouble, update_first: bool
) -> None:
    vendor_id = str(uuid.uuid4())
    listing = {
        "vendor_id": vendor_id,
        "vendor_scale": Scale.KECIL,
        "vendor_legal_form": LegalForm.CV,
        "vendor_region_code": "33.75",
    }
    opd = await fund(client, 100_000_000)
    if update_first:  # the update overtakes the (older) snapshot on another topic
        await catalog.update_vendor(vendor_id, 3, scale=Scale.MENENGAH, region_code="33.26")
    product = await catalog.list_product(**listing)
    await catalog.known(product.product_id)
    if not update_first:
        assert await vendor_facts_of_next_order(client, opd, product.product_id) == {
            "vendor_scale": "kecil",
            "vendor_legal_form": "cv",
            "vendor_region_code": "33.75",
        }
        await catalog.update_vendor(vendor_id, 3, scale=Scale.MENENGAH, region_code="33.26")

    updated = {"vendor_scale": "menengah", "vendor_legal_form": "cv", "vendor_region_code": "33.26"}

    async def refreshed() -> bool:
        return await vendor_facts_of_next_order(client, opd, product.product_id) == updated

    await eventually(refreshed)
    # an older update of registration's, arriving late, is ignored
    await catalog.update_vendor(vendor_id, 2, scale=Scale.MIKRO)
    await catalog.update_vendor(vendor_id, 4, legal_form=LegalForm.PT)

    async def newest() -> bool:
        facts = await vendor_facts_of_next_order(client, opd, product.product_id)
        return bool(facts["vendor_legal_form"] == "pt")

    await eventually(newest)
    assert await vendor_facts_of_next_order(client, opd, product.product_id) == updated | {
        "vendor_legal_form": "pt"
    }
