"""What an operator watches: under a burst of orders that reporting cannot consume at once, its
consumer lag on /metrics rises above 0, then everything drains back to 0."""

import asyncio

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.stack import Stack
from tests.e2e.support import open_market, place_order
from tests.helpers import eventually

pytestmark = pytest.mark.infra

BURST = 250


async def _gauge(http: httpx.AsyncClient, url: str, name: str, service: str) -> list[float]:
    """Every sample of gauge `name` that `service` exports on its /metrics."""
    text = (await http.get(f"{url}/metrics")).text
    return [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and sample.labels.get("service") == service
    ]


async def test_consumer_lag_rises_under_a_burst_and_returns_to_zero(stack: Stack) -> None:
    market = await open_market(stack, opds=8)
    reporting, purchasing = stack.urls["reporting"], stack.urls["purchasing"]
    async with httpx.AsyncClient(timeout=30) as http:
        await place_order(http, stack, market)  # purchasing now knows the product

        async def lag_is_measured() -> bool:
            return bool(await _gauge(http, reporting, "etalase_consumer_lag", "reporting"))

        await eventually(lag_is_measured)

        # Reporting is paused (SIGSTOP) while the orders are placed, so their events wait in
        # Kafka; resumed, it works through them in batches and measures its lag as it goes.
        slots = asyncio.Semaphore(16)

        async def one_order(n: int) -> None:
            async with slots:
                await place_order(http, stack, market, market.opd_codes[n % len(market.opd_codes)])

        stack.pause("reporting")
        try:
            await asyncio.gather(*(one_order(n) for n in range(BURST)))
        finally:
            stack.resume("reporting")
        peaks = {"lag": 0.0, "backlog": 0.0}

        async def lag_rose() -> bool:
            backlog = await _gauge(http, purchasing, "etalase_outbox_backlog", "purchasing")
            lag = await _gauge(http, reporting, "etalase_consumer_lag", "reporting")
            peaks["backlog"] = max(peaks["backlog"], *backlog)
            peaks["lag"] = max(peaks["lag"], sum(lag))
            return peaks["lag"] > 0

        await eventually(lag_rose, interval=0.02)

        async def drained() -> bool:
            backlog = await _gauge(http, purchasing, "etalase_outbox_backlog", "purchasing")
            lag = await _gauge(http, reporting, "etalase_consumer_lag", "reporting")
            return backlog == [0.0] and bool(lag) and sum(lag) == 0

        await eventually(drained)
    print(f"peaks: reporting lag {peaks['lag']:.0f}, purchasing backlog {peaks['backlog']:.0f}")
