"""What the purchasing service documents about itself."""

import httpx
import pytest

pytestmark = pytest.mark.infra


async def test_asyncapi_lists_the_topics_it_publishes_and_consumes(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/asyncapi")).json()

    assert document["asyncapi"] == "3.0.0"
    operations = {
        name: document["channels"][op["channel"]["$ref"].rsplit("/", 1)[1]]["address"]
        for name, op in document["operations"].items()
        if op["action"] == "send" and not name.endswith("_dlq")
    }
    assert sorted(operations.values()) == [
        "etalase.purchasing.budgets",
        "etalase.purchasing.orders",
    ]
    received = [
        document["channels"][op["channel"]["$ref"].rsplit("/", 1)[1]]["address"]
        for op in document["operations"].values()
        if op["action"] == "receive"
    ]
    assert sorted(received) == ["etalase.catalog.products", "etalase.registration.vendors"]
    assert "OrderPlaced.v1" in document["components"]["messages"]


async def test_it_is_ready_and_documents_its_routes(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/ready")).json()["status"] == "ready"
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/budgets/{fiscal_year}/{opd_code}", "/orders", "/orders/{order_id}/cancel"} <= set(
        paths
    )
    assert "Idempotency-Key" in {p["name"] for p in paths["/orders"]["post"]["parameters"]}
