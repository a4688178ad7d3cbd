"""One order, one trace: purchasing's HTTP request, its outbox relay's publish, and reporting's
handling of the event are spans of the same trace, across processes and Kafka."""

from typing import Any

import httpx
import pytest

from tests.e2e.stack import Stack
from tests.e2e.support import FISCAL_YEAR, open_market, place_order, read_spans
from tests.helpers import bearer, eventually

pytestmark = pytest.mark.infra

ORDERS_TOPIC = "etalase.purchasing.orders"


def _ancestors(span: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    chain = []
    while span.get("parent_id") in by_id:
        span = by_id[span["parent_id"]]
        chain.append(span)
    return chain


def _attribute(span: dict[str, Any], *names: str) -> Any:
    """The first of `names` the span carries (HTTP semconv names changed across versions)."""
    return next((span["attributes"][n] for n in names if n in span["attributes"]), None)


async def test_an_order_is_one_trace_from_http_request_to_reporting_consumer(stack: Stack) -> None:
    market = await open_market(stack)
    async with httpx.AsyncClient(timeout=30) as http:
        order = await place_order(http, stack, market)

        async def reporting_counted_it() -> bool:
            response = await http.get(
                f"{stack.urls['reporting']}/compliance/opd/{FISCAL_YEAR}/{market.opd_code}/orders",
                headers=bearer("auditor"),
            )
            return response.status_code == 200 and any(
                item["order_id"] == order["order_id"] for item in response.json()["items"]
            )

        await eventually(reporting_counted_it)

    files = [stack.trace_file(service) for service in ("purchasing", "reporting")]
    found: dict[str, Any] = {}

    async def the_trace_is_exported() -> bool:
        spans = read_spans(*files)
        publish = [
            s for s in spans
            if s["kind"] == "PRODUCER"
            and s["attributes"].get("messaging.kafka.message.key") == order["order_id"]
        ]  # fmt: skip
        if not publish:
            return False
        trace = [s for s in spans if s["trace_id"] == publish[0]["trace_id"]]
        consumers = [
            s for s in trace
            if s["service"] == "reporting" and s["name"] == f"{ORDERS_TOPIC} process"
        ]  # fmt: skip
        found.update(publish=publish[0], trace=trace, consumers=consumers)
        return bool(consumers)

    # spans are exported in batches a fraction of a second after they end
    await eventually(the_trace_is_exported)
    trace, publish = found["trace"], found["publish"]
    by_id = {span["span_id"]: span for span in trace}

    servers = [s for s in _ancestors(publish, by_id) if s["kind"] == "SERVER"]
    assert servers, "the publish span descends from no HTTP server span"
    server = servers[-1]
    assert server["service"] == "purchasing"
    assert _attribute(server, "http.route") == "/orders"
    assert _attribute(server, "http.request.method", "http.method") == "POST"
    assert _attribute(server, "http.response.status_code", "http.status_code") == 201

    # the request's database work (ops.md): its statements are CLIENT spans of the request
    statements = [
        s for s in trace
        if s["kind"] == "CLIENT" and s["attributes"].get("db.system") == "postgresql"
    ]  # fmt: skip
    placed = [s for s in statements if "INSERT INTO orders" in s["attributes"]["db.statement"]]
    assert placed, "the order's INSERT is not a span of its trace"
    assert placed[0]["service"] == "purchasing"
    assert server in _ancestors(placed[0], by_id)
    assert placed[0]["attributes"]["db.name"]

    assert publish["service"] == "purchasing"
    assert publish["attributes"]["messaging.system"] == "kafka"
    assert publish["attributes"]["messaging.operation.type"] == "publish"
    assert publish["attributes"]["messaging.destination.name"] == ORDERS_TOPIC

    consumer = found["consumers"][0]
    assert consumer["kind"] == "CONSUMER"
    assert consumer["trace_id"] == server["trace_id"] == publish["trace_id"]
    assert publish in _ancestors(consumer, by_id), "reporting's span is not the publish's child"
    attributes = consumer["attributes"]
    assert attributes["messaging.system"] == "kafka"
    assert attributes["messaging.operation.type"] == "process"
    assert attributes["messaging.destination.name"] == ORDERS_TOPIC
    assert attributes["messaging.consumer.group.name"].startswith(stack.groups["reporting"])
    assert attributes["messaging.destination.partition.id"].isdigit()
    assert attributes["cloudevents.event_type"] == "OrderPlaced.v1"
    assert {span["service"] for span in trace} >= {"purchasing", "reporting"}
