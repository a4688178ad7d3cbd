"""One stack of real service processes for the end-to-end tests (started once, on fresh
databases, with their own consumer groups; Kafka and PostgreSQL are the suite's real ones)."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from etalase_platform.settings import DEV_JWT_SECRET
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.stack import SERVICES, Stack
from tests.helpers import DatabaseFactory, Infra, bearer

# Small reporting batches, so that a burst takes it several batches (its lag is measured after
# each); large enough to replay the shared topics' history quickly.
REPORTING_BATCH = "50"


@pytest.fixture(scope="session")
async def stack(
    infra: Infra, new_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    databases = {service: await new_database(f"e2e_{service}") for service in SERVICES}
    running = Stack(tmp_path_factory.mktemp("e2e-stack"))
    extra = {
        "ETALASE_JWT_SECRET": DEV_JWT_SECRET,
        "ETALASE_ENV": "test",
        "REPORTING_CONSUMER_BATCH_SIZE": REPORTING_BATCH,
    }
    try:
        await asyncio.to_thread(running.start, infra.kafka, databases, extra)
        await _replayed(running)
        yield running
    finally:
        await asyncio.to_thread(running.stop)


async def _replayed(stack: Stack, timeout: float = 900.0) -> None:
    """Fresh consumers read the shared topics from the start (every earlier test and demo run);
    the tests begin once all have caught up, so that their own waits measure their own events."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(timeout=30) as http:
        while (behind := await _behind(http, stack)) > 0:
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail(f"the services are still {behind} records behind after {timeout:.0f}s")
            await asyncio.sleep(0.5)


async def _behind(http: httpx.AsyncClient, stack: Stack) -> float:
    """Records not yet applied: reporting's projections, and every consumer's lag gauge (a
    consumer not yet assigned its partitions counts as behind)."""
    response = await http.get(stack.urls["reporting"] + "/projections", headers=bearer("auditor"))
    response.raise_for_status()
    report = response.json()
    live = report.get("live_generation")
    behind = float(sum(i["lag"] for i in report["items"] if i.get("generation") in (live, None)))
    if not report["items"]:
        return 1.0
    for service in ("catalog", "purchasing", "reporting"):
        text = (await http.get(stack.urls[service] + "/metrics")).text
        lags = [
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "etalase_consumer_lag" and sample.labels.get("service") == service
        ]
        behind += sum(lags) if lags else 1.0
    return behind
