"""Orders racing for one pagu, and retried requests (`Idempotency-Key`)."""

import asyncio
from collections import Counter

import httpx
import pytest

from tests.helpers import unique
from tests.purchasing.support import (
    YEAR,
    CatalogDouble,
    Published,
    admin,
    buyer,
    fund,
    order_body,
)

pytestmark = pytest.mark.infra

PRICE = 200_000


@pytest.fixture(scope="module")
async def product_id(catalog: CatalogDouble) -> str:
    product = await catalog.list_product(price_idr=PRICE)
    await catalog.known(product.product_id)
    return product.product_id


async def orders_of(client: httpx.AsyncClient, opd: str) -> list[dict[str, object]]:
    response = await client.get("/orders", params={"limit": 500}, headers=buyer(opd))
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_twenty_parallel_orders_against_a_pagu_for_five_place_exactly_five(
    client: httpx.AsyncClient, product_id: str, published: Published
) -> None:
    opd = await fund(client, 5 * 3 * PRICE)
    body = order_body(opd, [(product_id, 3)])

    responses = await asyncio.gather(
        *(client.post("/orders", json=body, headers=buyer(opd)) for _ in range(20))
    )

    assert Counter(r.status_code for r in responses) == {201: 5, 409: 15}
    assert {r.json()["rule"] for r in responses if r.status_code == 409} == {"pagu_exceeded"}
    placed = {r.json()["order_id"] for r in responses if r.status_code == 201}
    assert {o["order_id"] for o in await orders_of(client, opd)} == placed
    budget = (await client.get("/budgets", headers=buyer(opd))).json()["items"][0]
    assert (budget["committed_idr"], budget["remaining_idr"]) == (5 * 3 * PRICE, 0)
    for order_id in placed:
        (event,) = await published.wait_for(order_id, 1)
        assert event.envelope.type == "OrderPlaced.v1"


async def test_a_retried_order_is_placed_once_and_answered_as_the_first_time(
    client: httpx.AsyncClient, product_id: str, published: Published
) -> None:
    opd = await fund(client, 100 * PRICE)
    headers = buyer(opd) | {"Idempotency-Key": unique("order-")}
    body = order_body(opd, [(product_id, 2)])

    first = await client.post("/orders", json=body, headers=headers)
    retry = await client.post("/orders", json=body, headers=headers)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert [o["order_id"] for o in await orders_of(client, opd)] == [first.json()["order_id"]]
    other_body = await client.post(
        "/orders", json=order_body(opd, [(product_id, 3)]), headers=headers
    )
    assert other_body.status_code == 422  # the same key for another request
    assert len(await orders_of(client, opd)) == 1
    fresh_key = await client.post(
        "/orders", json=body, headers=buyer(opd) | {"Idempotency-Key": unique()}
    )
    assert fresh_key.status_code == 201 and len(await orders_of(client, opd)) == 2
    assert len(await published.wait_for(first.json()["order_id"], 1)) == 1


async def test_concurrent_retries_place_one_order(
    client: httpx.AsyncClient, product_id: str
) -> None:
    opd = await fund(client, 100 * PRICE)
    headers = buyer(opd) | {"Idempotency-Key": unique("order-")}
    body = order_body(opd, [(product_id, 1)])

    responses = await asyncio.gather(
        *(client.post("/orders", json=body, headers=headers) for _ in range(10))
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["order_id"] for r in responses}) == 1
    assert len(await orders_of(client, opd)) == 1


async def test_a_refused_request_does_not_use_up_its_key(
    client: httpx.AsyncClient, product_id: str
) -> None:
    opd = await fund(client, 100 * PRICE, year=YEAR - 2)  # no budget for YEAR yet
    headers = buyer(opd) | {"Idempotency-Key": unique("order-")}
    body = order_body(opd, [(product_id, 1)])
    assert (await client.post("/orders", json=body, headers=headers)).status_code == 409

    allocated = await client.put(
        f"/budgets/{YEAR}/{opd}",
        json={"opd_name": "Dinas", "region_code": opd[:5], "pagu_idr": PRICE},
        headers=admin(),
    )
    assert allocated.status_code == 200
    assert (await client.post("/orders", json=body, headers=headers)).status_code == 201


async def test_the_same_key_from_another_buyer_is_another_request(
    client: httpx.AsyncClient, product_id: str
) -> None:
    key = {"Idempotency-Key": unique("shared-")}
    mine, theirs = await fund(client, 10 * PRICE), await fund(client, 10 * PRICE)

    a = await client.post(
        "/orders", json=order_body(mine, [(product_id, 1)]), headers=buyer(mine) | key
    )
    b = await client.post(
        "/orders", json=order_body(theirs, [(product_id, 1)]), headers=buyer(theirs) | key
    )

    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["order_id"] != b.json()["order_id"]
