"""Accept, complete, cancel; who may do them and who may read orders."""

from typing import Any

import httpx
import pytest

from tests.helpers import bearer
from tests.purchasing.support import (
    REGION,
    YEAR,
    CatalogDouble,
    Published,
    buyer,
    fund,
    order_body,
)

pytestmark = pytest.mark.infra


class PlacedOrder:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.id: str = body["order_id"]
        self.opd: str = body["opd_code"]
        self.vendor_id: str = body["vendor_id"]

    @property
    def buyer(self) -> dict[str, str]:
        return buyer(self.opd)

    @property
    def vendor(self) -> dict[str, str]:
        return bearer("vendor", vendor_id=self.vendor_id)


@pytest.fixture(scope="module")
async def product_id(catalog: CatalogDouble) -> str:
    product = await catalog.list_product(price_idr=250_000)
    await catalog.known(product.product_id)
    return product.product_id


@pytest.fixture
async def order(client: httpx.AsyncClient, product_id: str) -> PlacedOrder:
    opd = await fund(client, 100_000_000)
    response = await client.post(
        "/orders", json=order_body(opd, [(product_id, 2)]), headers=buyer(opd)
    )
    assert response.status_code == 201, response.text
    return PlacedOrder(response.json())


async def act(
    client: httpx.AsyncClient, order: PlacedOrder, action: str, headers: dict[str, str]
) -> httpx.Response:
    body = {"reason": "anggaran direvisi"} if action == "cancel" else None
    return await client.post(f"/orders/{order.id}/{action}", json=body, headers=headers)


async def test_an_order_is_accepted_then_completed_and_each_step_is_published(
    client: httpx.AsyncClient, order: PlacedOrder, published: Published
) -> None:
    accepted = await act(client, order, "accept", order.vendor)
    completed = await act(client, order, "complete", order.buyer)

    assert accepted.status_code == completed.status_code == 200
    assert (accepted.json()["status"], accepted.json()["version"]) == ("accepted", 2)
    done = completed.json()
    assert (done["status"], done["version"]) == ("completed", 3)
    assert done["accepted_at"] == accepted.json()["accepted_at"]
    assert done["completed_at"] is not None and done["lines"] == order.body["lines"]
    placed, accept_event, complete_event = await published.wait_for(order.id, 3)
    assert [e.envelope.type for e in (placed, accept_event, complete_event)] == [
        "OrderPlaced.v1",
        "OrderAccepted.v1",
        "OrderCompleted.v1",
    ]
    assert [e.envelope.sequence for e in (placed, accept_event, complete_event)] == [1, 2, 3]
    assert accept_event.envelope.data == {
        "order_id": order.id,
        "accepted_at": accept_event.envelope.data["accepted_at"],
    }
    assert complete_event.envelope.data == {
        "order_id": order.id,
        "completed_at": complete_event.envelope.data["completed_at"],
    }
    assert complete_event.envelope.data["completed_at"].endswith("Z")
    # a completed order is still spend: it counts against the pagu
    budgets = await client.get("/budgets", headers=order.buyer)
    assert budgets.json()["items"][0]["committed_idr"] == 500_000


@pytest.mark.parametrize("accept_first", [False, True])
async def test_a_placed_or_accepted_order_is_cancelled_with_its_reason(
    client: httpx.AsyncClient, order: PlacedOrder, published: Published, accept_first: bool
) -> None:
    if accept_first:
        assert (await act(client, order, "accept", order.vendor)).status_code == 200

    cancelled = await act(client, order, "cancel", order.buyer)

    assert cancelled.status_code == 200
    body = cancelled.json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "anggaran direvisi")
    events = await published.wait_for(order.id, 2 + accept_first)
    last = events[-1]
    assert (last.envelope.type, last.envelope.sequence) == ("OrderCancelled.v1", body["version"])
    assert last.envelope.data == {
        "order_id": order.id,
        "reason": "anggaran direvisi",
        "cancelled_at": last.envelope.data["cancelled_at"],
    }
    budgets = await client.get("/budgets", headers=order.buyer)
    assert budgets.json()["items"][0]["committed_idr"] == 0


@pytest.mark.parametrize(
    ("steps", "action"),
    [
        ([], "complete"),
        (["accept"], "accept"),
        (["accept", "complete"], "accept"),
        (["accept", "complete"], "complete"),
        (["accept", "complete"], "cancel"),
        (["cancel"], "accept"),
        (["cancel"], "complete"),
        (["cancel"], "cancel"),
    ],
)
async def test_transitions_the_status_forbids_are_conflicts(
    client: httpx.AsyncClient, order: PlacedOrder, steps: list[str], action: str
) -> None:
    for step in steps:
        headers = order.vendor if step == "accept" else order.buyer
        assert (await act(client, order, step, headers)).status_code == 200
    headers = order.vendor if action == "accept" else order.buyer

    response = await act(client, order, action, headers)

    assert response.status_code == 409
    assert response.json()["rule"] == "transition_forbidden"
    assert response.json()["status"] == 409  # the HTTP status: the order's is `order_status`
    current = await client.get(f"/orders/{order.id}", headers=order.buyer)
    assert current.json()["version"] == 1 + len(steps)


async def test_a_cancellation_needs_a_reason(client: httpx.AsyncClient, order: PlacedOrder) -> None:
    for body in (None, {}, {"reason": ""}, {"reason": "   "}):
        response = await client.post(f"/orders/{order.id}/cancel", json=body, headers=order.buyer)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] in ("reason", "body")


async def test_an_unknown_order_is_not_found(client: httpx.AsyncClient) -> None:
    for action in ("accept", "complete"):
        response = await client.post(
            f"/orders/nope/{action}", headers=bearer("vendor", vendor_id="v")
        )
        assert response.status_code == 404
    assert (await client.get("/orders/nope", headers=bearer("auditor"))).status_code == 404


OTHER_BUYER = bearer("buyer", opd=f"{REGION}.lain", region=REGION)
OTHER_VENDOR = bearer("vendor", vendor_id="someone-else")
STAFF = {
    "admin in region": (bearer("admin", region=REGION), 403),
    "desk": (bearer("desk", region=REGION), 403),
    "auditor": (bearer("auditor"), 403),
    "other buyer": (OTHER_BUYER, 403),
    "other vendor": (OTHER_VENDOR, 403),
    "no token": ({}, 401),
}


@pytest.mark.parametrize("who", ["own buyer", *STAFF])
async def test_only_the_orders_vendor_accepts_it(
    client: httpx.AsyncClient, order: PlacedOrder, who: str
) -> None:
    headers, status = STAFF.get(who, (order.buyer, 403))
    assert (await act(client, order, "accept", headers)).status_code == status
    assert (await act(client, order, "accept", order.vendor)).status_code == 200


@pytest.mark.parametrize("action", ["complete", "cancel"])
@pytest.mark.parametrize("who", ["own vendor", *STAFF])
async def test_only_a_buyer_of_the_opd_completes_or_cancels(
    client: httpx.AsyncClient, order: PlacedOrder, action: str, who: str
) -> None:
    assert (await act(client, order, "accept", order.vendor)).status_code == 200
    headers, status = STAFF.get(who, (order.vendor, 403))
    assert (await act(client, order, action, headers)).status_code == status
    assert (await act(client, order, action, order.buyer)).status_code == 200


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("own buyer", 200),
        ("own vendor", 200),
        ("admin in region", 200),
        ("admin of the province", 200),
        ("admin of another region", 403),
        ("auditor in region", 200),
        ("auditor everywhere", 200),
        ("auditor of another province", 403),
        ("other buyer", 403),
        ("other vendor", 403),
        ("desk", 403),
        ("no token", 401),
    ],
)
async def test_an_order_is_read_within_scope(
    client: httpx.AsyncClient, order: PlacedOrder, who: str, status: int
) -> None:
    headers = {
        "own buyer": order.buyer,
        "own vendor": order.vendor,
        "admin in region": bearer("admin", region=REGION),
        "admin of the province": bearer("admin", region="33"),
        "admin of another region": bearer("admin", region="33.74"),
        "auditor in region": bearer("auditor", region=REGION),
        "auditor everywhere": bearer("auditor"),
        "auditor of another province": bearer("auditor", region="35"),
        "other buyer": OTHER_BUYER,
        "other vendor": OTHER_VENDOR,
        "desk": bearer("desk", region=REGION),
        "no token": {},
    }[who]
    response = await client.get(f"/orders/{order.id}", headers=headers)
    assert response.status_code == status
    if status == 200:
        assert response.json() == order.body


async def test_orders_are_listed_within_scope_by_opd_year_and_status(
    client: httpx.AsyncClient, product_id: str
) -> None:
    opd = await fund(client, 100_000_000)
    ids = []
    for _ in range(3):
        response = await client.post(
            "/orders", json=order_body(opd, [(product_id, 1)]), headers=buyer(opd)
        )
        ids.append(response.json()["order_id"])
    await client.post(f"/orders/{ids[0]}/cancel", json={"reason": "batal"}, headers=buyer(opd))

    async def listed(headers: dict[str, str], **params: Any) -> httpx.Response:
        return await client.get("/orders", params=params, headers=headers)

    own = await listed(buyer(opd), fiscal_year=YEAR, status="placed", limit=1)
    assert own.json()["total"] == 2 and len(own.json()["items"]) == 1
    page_2 = await listed(buyer(opd), fiscal_year=YEAR, status="placed", limit=1, offset=1)
    assert {own.json()["items"][0]["order_id"], page_2.json()["items"][0]["order_id"]} == set(
        ids[1:]
    )
    assert (await listed(buyer(opd))).json()["total"] == 3
    assert (await listed(buyer(opd), fiscal_year=YEAR + 1)).json()["total"] == 0
    for scoped in (bearer("admin", region="33"), bearer("auditor", region=REGION)):
        assert (await listed(scoped, opd_code=opd)).json()["total"] == 3
    assert (await listed(bearer("auditor"), opd_code=opd, status="cancelled")).json()["items"][0][
        "order_id"
    ] == ids[0]
    vendor = bearer("vendor", vendor_id=own.json()["items"][0]["vendor_id"])
    vendors = await listed(vendor, opd_code=opd)
    assert vendors.json()["total"] == 3
    assert (await listed(OTHER_VENDOR, opd_code=opd)).json()["total"] == 0
    assert (await listed(bearer("admin", region="33.74"))).json()["total"] == 0

    assert (await listed(OTHER_BUYER, opd_code=opd)).status_code == 403
    assert (await listed(bearer("admin", region="33.74"), opd_code=opd)).status_code == 403
    assert (await listed(bearer("desk", region=REGION))).status_code == 403
    assert (await listed(buyer(opd), status="lost")).status_code == 422
    assert (await listed(buyer(opd), limit=0)).status_code == 422
