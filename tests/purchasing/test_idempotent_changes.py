"""Accept, complete and cancel take an `Idempotency-Key`: a client that lost the answer retries
and gets the first answer, and the order changes once."""

import httpx
import pytest

from tests.helpers import unique
from tests.purchasing.support import CatalogDouble, Published, buyer, fund, order_body
from tests.purchasing.test_lifecycle import PlacedOrder, act

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
async def product_id(catalog: CatalogDouble) -> str:
    product = await catalog.list_product(price_idr=125_000)
    await catalog.known(product.product_id)
    return product.product_id


@pytest.fixture
async def order(client: httpx.AsyncClient, product_id: str) -> PlacedOrder:
    opd = await fund(client, 100_000_000)
    response = await client.post(
        "/orders", json=order_body(opd, [(product_id, 1)]), headers=buyer(opd)
    )
    assert response.status_code == 201, response.text
    return PlacedOrder(response.json())


async def _twice(
    client: httpx.AsyncClient, order: PlacedOrder, action: str, headers: dict[str, str]
) -> tuple[httpx.Response, httpx.Response]:
    keyed = {**headers, "Idempotency-Key": unique("k-")}
    return await act(client, order, action, keyed), await act(client, order, action, keyed)


@pytest.mark.parametrize("steps", [["cancel"], ["accept", "complete"], ["accept", "cancel"]])
async def test_a_retried_change_gets_the_first_answer_and_changes_nothing(
    client: httpx.AsyncClient, order: PlacedOrder, published: Published, steps: list[str]
) -> None:
    for step in steps:
        first, retry = await _twice(
            client, order, step, order.vendor if step == "accept" else order.buyer
        )
        assert first.status_code == retry.status_code == 200, retry.text
        assert retry.json() == first.json()
        assert retry.headers["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first.headers
    current = (await client.get(f"/orders/{order.id}", headers=order.buyer)).json()
    assert current == first.json()
    assert current["version"] == 1 + len(steps)
    events = await published.wait_for(order.id, 1 + len(steps))
    assert [e.envelope.sequence for e in events] == list(range(1, 2 + len(steps)))


async def test_the_same_key_for_another_change_is_422_and_a_new_key_is_a_409(
    client: httpx.AsyncClient, order: PlacedOrder
) -> None:
    keyed = {**order.buyer, "Idempotency-Key": unique("k-")}
    assert (await act(client, order, "cancel", keyed)).status_code == 200
    other = await client.post(
        f"/orders/{order.id}/cancel", json={"reason": "another reason"}, headers=keyed
    )
    assert other.status_code == 422
    fresh = await act(client, order, "cancel", {**order.buyer, "Idempotency-Key": unique("k-")})
    assert fresh.status_code == 409


async def test_a_refused_change_is_not_remembered(
    client: httpx.AsyncClient, order: PlacedOrder
) -> None:
    keyed = {**order.buyer, "Idempotency-Key": unique("k-")}
    assert (await act(client, order, "complete", keyed)).status_code == 409  # not accepted yet
    assert (await act(client, order, "accept", order.vendor)).status_code == 200
    assert (await act(client, order, "complete", keyed)).status_code == 200
