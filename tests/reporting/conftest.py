"""One reporting service for the API tests of this package (its own database and groups)."""

from collections.abc import AsyncIterator

import httpx
import pytest
from etalase_reporting.bootstrap import create_app
from etalase_reporting.settings import Settings

from tests.helpers import DatabaseFactory, Infra, serve, unique


@pytest.fixture(scope="package")
async def reporting(
    infra: Infra, new_database: DatabaseFactory
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=await new_database("reporting"),
        kafka_bootstrap_servers=infra.kafka,
        consumer_group=unique("test.reporting."),
    )
    async with serve(create_app(settings)) as client:
        yield client
