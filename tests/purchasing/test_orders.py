"""Placing orders through HTTP: the rules, the snapshots, and the OrderPlaced event."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from etalase_events.models import Catalog, LegalForm, OrderPlaced, ProductListed, Scale

from tests.helpers import bearer
from tests.purchasing.support import (
    REGION,
    YEAR,
    CatalogDouble,
    Published,
    buyer,
    fund,
    new_opd,
    order_body,
)

pytestmark = pytest.mark.infra


async def place(
    client: httpx.AsyncClient, opd: str, lines: list[tuple[str, int]], **extra: Any
) -> httpx.Response:
    return await client.post("/orders", json=order_body(opd, lines, **extra), headers=buyer(opd))


async def vendor_products(
    catalog: CatalogDouble, count: int = 2, **fields: Any
) -> list[ProductListed]:
    """`count` displayed products of one new vendor, known to purchasing."""
    vendor_id = str(uuid.uuid4())
    products = [
        await catalog.list_product(vendor_id=vendor_id, price_idr=100_000 * (i + 1), **fields)
        for i in range(count)
    ]
    await catalog.known(*(p.product_id for p in products))
    return products


async def test_an_order_is_placed_with_snapshots_and_published(
    client: httpx.AsyncClient, catalog: CatalogDouble, published: Published
) -> None:
    vendor: dict[str, Any] = {
        "vendor_id": str(uuid.uuid4()),
        "vendor_scale": Scale.KECIL,
        "vendor_legal_form": LegalForm.KOPERASI,
        "vendor_region_code": "33.26",
    }
    vendor_id = vendor["vendor_id"]
    kain = await catalog.list_product(
        **vendor,
        catalog=Catalog.LOKAL,
        category="kain",
        name="Kain batik tulis",
        price_idr=425_000,
        tkdn_pct=Decimal("42.50"),
        bmp_pct=Decimal("7.25"),
    )
    map_ = await catalog.list_product(
        **vendor,
        catalog=Catalog.TOKO_DARING,
        catalog_region_code=None,
        category=f"map-{uuid.uuid4()}",
        name="Map batik",
        price_idr=12_500,
        domestic=False,
    )
    await catalog.known(kain.product_id, map_.product_id)
    opd = await fund(client, 10_000_000)

    response = await place(
        client, opd, [(kain.product_id, 3), (map_.product_id, 40)], rup_code="RUP-2025-0042"
    )

    assert response.status_code == 201, response.text
    order = response.json()
    line_1 = {
        "line_no": 1,
        "product_id": kain.product_id,
        "name": "Kain batik tulis",
        "category": "kain",
        "catalog": "lokal",
        "quantity": 3,
        "unit_price_idr": 425_000,
        "subtotal_idr": 1_275_000,
        "domestic": True,
        "tkdn_pct": 42.5,
        "bmp_pct": 7.25,
        "pdn_alternative_available": False,
        "pdn_alternatives": [],
    }
    line_2 = {
        "line_no": 2,
        "product_id": map_.product_id,
        "name": "Map batik",
        "category": map_.category,
        "catalog": "toko_daring",
        "quantity": 40,
        "unit_price_idr": 12_500,
        "subtotal_idr": 500_000,
        "domestic": False,
        "tkdn_pct": None,
        "bmp_pct": None,
        "pdn_alternative_available": False,
        "pdn_alternatives": [],
    }
    facts = {
        "order_id": order["order_id"],
        "opd_code": opd,
        "region_code": REGION,
        "fiscal_year": YEAR,
        "rup_code": "RUP-2025-0042",
        "vendor_id": vendor_id,
        "vendor_scale": "kecil",
        "vendor_legal_form": "koperasi",
        "vendor_region_code": "33.26",
        "lines": [line_1, line_2],
        "total_idr": 1_775_000,
    }
    assert order == facts | {
        "status": "placed",
        "version": 1,
        "placed_at": order["placed_at"],
        "accepted_at": None,
        "completed_at": None,
        "cancelled_at": None,
        "cancel_reason": None,
    }

    (event,) = await published.wait_for(order["order_id"], 1)
    assert (event.envelope.type, event.envelope.source, event.envelope.sequence) == (
        "OrderPlaced.v1",
        "etalase/purchasing",
        1,
    )
    assert event.envelope.data == facts | {"placed_at": event.envelope.data["placed_at"]}
    placed_at = datetime.fromisoformat(event.envelope.data["placed_at"])
    assert placed_at == datetime.fromisoformat(order["placed_at"]) == event.envelope.time
    assert isinstance(event.event, OrderPlaced)
    assert published.headers[event.envelope.id]["event-type"] == b"OrderPlaced.v1"

    fetched = await client.get(f"/orders/{order['order_id']}", headers=buyer(opd))
    assert fetched.json() == order
    budget = await client.get("/budgets", params={"fiscal_year": YEAR}, headers=buyer(opd))
    assert budget.json()["items"][0]["committed_idr"] == 1_775_000


async def test_a_line_is_flagged_when_its_category_holds_a_pdn_wajib_product(
    client: httpx.AsyncClient, catalog: CatalogDouble, published: Published
) -> None:
    category = f"kursi-{uuid.uuid4()}"
    # the alternative: TKDN 30 + BMP 10 = 40; another vendor's
    wajib = await catalog.list_product(category=category, tkdn_pct=Decimal(30), bmp_pct=Decimal(10))
    # TKDN + BMP = 50, but TKDN < 25: not PDN wajib, so it has an alternative
    (low, *_) = await vendor_products(
        catalog, 1, category=category, tkdn_pct=Decimal("24.99"), bmp_pct=Decimal(15)
    )
    (elsewhere, *_) = await vendor_products(catalog, 1, tkdn_pct=Decimal(10))
    await catalog.known(wajib.product_id)
    opd = await fund(client, 100_000_000)

    flagged = await place(client, opd, [(low.product_id, 1)])
    meets_itself = await place(client, opd, [(wajib.product_id, 1)])
    other_category = await place(client, opd, [(elsewhere.product_id, 1)])

    assert flagged.json()["lines"][0]["pdn_alternative_available"] is True
    assert meets_itself.json()["lines"][0]["pdn_alternative_available"] is False
    assert other_category.json()["lines"][0]["pdn_alternative_available"] is False
    (event,) = await published.wait_for(flagged.json()["order_id"], 1)
    assert event.envelope.data["lines"][0]["pdn_alternative_available"] is True

    # once the alternative is no longer displayed, there is none
    await catalog.delist(wajib.product_id)
    await catalog.hidden(wajib.product_id)
    unflagged = await place(client, opd, [(low.product_id, 1)])
    assert unflagged.json()["lines"][0]["pdn_alternative_available"] is False


async def test_the_pagu_is_never_exceeded_and_a_cancellation_frees_it(
    client: httpx.AsyncClient, catalog: CatalogDouble
) -> None:
    one, two = await vendor_products(catalog)  # Rp100,000 and Rp200,000
    opd = await fund(client, 500_000)
    assert (await place(client, opd, [(two.product_id, 2)])).status_code == 201

    over = await place(client, opd, [(one.product_id, 1), (two.product_id, 1)])

    assert over.status_code == 409
    assert over.json() | {"detail": None, "type": None, "title": None} == {
        "type": None,
        "title": None,
        "detail": None,
        "status": 409,
        "rule": "pagu_exceeded",
        "order_total_idr": 300_000,
        "pagu_idr": 500_000,
        "committed_idr": 400_000,
        "remaining_idr": 100_000,
    }
    exact = await place(client, opd, [(one.product_id, 1)])
    assert exact.status_code == 201  # to the last rupiah
    refused = await place(client, opd, [(one.product_id, 1)])
    assert refused.status_code == 409
    cancelled = await client.post(
        f"/orders/{exact.json()['order_id']}/cancel",
        json={"reason": "salah pesan"},
        headers=buyer(opd),
    )
    assert cancelled.status_code == 200
    assert (await place(client, opd, [(one.product_id, 1)])).status_code == 201


async def test_an_order_needs_a_budget_for_its_year(
    client: httpx.AsyncClient, catalog: CatalogDouble
) -> None:
    (product, *_) = await vendor_products(catalog, 1)
    opd = await fund(client, 10_000_000, year=YEAR - 1)

    response = await place(client, opd, [(product.product_id, 1)])

    assert response.status_code == 409
    assert response.json()["rule"] == "budget_missing"
    assert opd in response.json()["detail"]


async def test_an_unknown_product_is_a_conflict_naming_it(
    client: httpx.AsyncClient, catalog: CatalogDouble
) -> None:
    (product, *_) = await vendor_products(catalog, 1)
    opd = await fund(client, 10_000_000)
    never_listed = str(uuid.uuid4())

    response = await place(client, opd, [(product.product_id, 1), (never_listed, 1)])

    assert response.status_code == 409
    assert response.json()["rule"] == "product_unknown"
    assert response.json()["product_ids"] == [never_listed]
    assert never_listed in response.json()["detail"]


async def test_products_of_two_vendors_are_refused(
    client: httpx.AsyncClient, catalog: CatalogDouble
) -> None:
    (mine, *_) = await vendor_products(catalog, 1)
    (theirs, *_) = await vendor_products(catalog, 1)
    opd = await fund(client, 10_000_000)

    response = await place(client, opd, [(mine.product_id, 1), (theirs.product_id, 1)])

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["lines"]


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([], "lines"),
        ([("P0", 0)], "lines.0.quantity"),
        ([("P0", -2)], "lines.0.quantity"),
        ([("P0", 1.5)], "lines.0.quantity"),
        ([("P0", 2.0)], "lines.0.quantity"),
        ([("P0", "2")], "lines.0.quantity"),
        ([("P0", 1), ("P1", 10**10)], "lines.1.quantity"),
        ([("P0", 1), ("P1", 1), ("P0", 3)], "lines.2.product_id"),  # a product on two lines
        ([("", 1)], "lines.0.product_id"),
    ],
)
async def test_malformed_lines_are_refused_naming_the_field(
    client: httpx.AsyncClient, catalog: CatalogDouble, lines: list[tuple[str, Any]], field: str
) -> None:
    products = await vendor_products(catalog)
    ids = {"P0": products[0].product_id, "P1": products[1].product_id}
    opd = await fund(client, 10_000_000)

    response = await place(client, opd, [(ids.get(p, p), q) for p, q in lines])

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fiscal_year": 1999}, "fiscal_year"),
        ({"fiscal_year": "2025"}, "fiscal_year"),
        ({"opd_code": None}, "opd_code"),
        ({"lines": None}, "lines"),
    ],
)
async def test_a_malformed_order_is_refused_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    opd = new_opd()
    response = await client.post(
        "/orders", json=order_body(opd, [("p", 1)]) | body, headers=buyer(opd)
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ("own buyer", 201),
        (bearer("buyer", opd=f"{REGION}.other", region=REGION), 403),
        (bearer("admin", region=REGION), 403),
        (bearer("auditor"), 403),
        (bearer("desk", region=REGION), 403),
        (bearer("vendor", vendor_id="any"), 403),
        ({}, 401),
    ],
)
async def test_only_a_buyer_of_the_opd_places_its_orders(
    client: httpx.AsyncClient, catalog: CatalogDouble, headers: Any, status: int
) -> None:
    (product, *_) = await vendor_products(catalog, 1)
    opd = await fund(client, 10_000_000)
    response = await client.post(
        "/orders",
        json=order_body(opd, [(product.product_id, 1)]),
        headers=buyer(opd) if headers == "own buyer" else headers,
    )
    assert response.status_code == status, response.text
