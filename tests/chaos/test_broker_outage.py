"""A broker outage is not a write outage: purchasing stays ready and takes orders into its
outbox, reporting stays ready on its last projections, and the orders reach reporting once the
broker is back."""

import httpx
import pytest

from chaos.checks import counted_orders
from chaos.load import Ledger, OrderLoad, World, headers
from chaos.stack import PrivateStack
from tests.helpers import eventually

pytestmark = pytest.mark.infra

ORDERS_DURING_OUTAGE = 10


async def test_orders_taken_while_the_broker_is_stopped_reach_reporting_after(
    private: tuple[PrivateStack, World, Ledger],
) -> None:
    stack, world, ledger = private
    load = OrderLoad(stack.url("purchasing"), world, ledger, clients=1)
    await load.until_known()
    await stack.stop_broker()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            purchasing = await http.get(f"{stack.url('purchasing')}/health/ready")
            reporting = await http.get(f"{stack.url('reporting')}/health/ready")
            projections = await http.get(
                f"{stack.url('reporting')}/projections", headers=headers("auditor")
            )
            opd = world.opds[0]
            body = {
                "opd_code": opd,
                "fiscal_year": world.fiscal_year,
                "lines": [{"product_id": world.products[0][0], "quantity": 2}],
            }
            statuses = [await load.place(http, opd, body) for _ in range(ORDERS_DURING_OUTAGE)]
            metrics = (await http.get(f"{stack.url('purchasing')}/metrics")).text
    finally:
        await stack.start_broker()

    assert purchasing.status_code == 200, purchasing.text
    assert purchasing.json()["dependencies"]["kafka"]["status"] == "down"
    assert 'etalase_dependency_up{dependency="kafka",service="purchasing"} 0.0' in metrics
    assert statuses == [201] * ORDERS_DURING_OUTAGE
    assert reporting.status_code == 200, reporting.text
    assert reporting.json()["dependencies"]["kafka"]["status"] == "down"
    stale = reporting.json()["projections"]["compliance"]
    assert stale["last_event_age_seconds"] >= 0 and stale["last_event_time"]
    assert projections.status_code == 503, projections.text
    assert projections.json()["dependency"] == "kafka"

    async def all_counted() -> bool:
        counted = await counted_orders(stack.url("reporting"), world)
        ids = {order_id for orders in counted.values() for order_id, _ in orders}
        return set(ledger.acknowledged) <= ids

    await eventually(all_counted, timeout=120, interval=1.0)
