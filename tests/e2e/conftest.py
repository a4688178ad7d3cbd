"""One stack of real service processes for the end-to-end tests (started once, on fresh
databases, with their own consumer groups; Kafka and PostgreSQL are the suite's real ones)."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from etalase_platform.settings import DEV_JWT_SECRET

from tests.e2e.stack import SERVICES, Stack
from tests.helpers import DatabaseFactory, Infra

# Small reporting batches, so that its consumer lag is measured part-way through a burst.
REPORTING_BATCH = "20"


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
        yield running
    finally:
        await asyncio.to_thread(running.stop)
