"""One reporting service for the API tests of this package (its own database and groups)."""

from collections.abc import AsyncIterator

import httpx
import pytest
from etalase_platform.db import SessionFactory, session_factory
from etalase_reporting.bootstrap import create_app
from etalase_reporting.settings import Settings

from tests.helpers import DatabaseFactory, Infra, serve, unique
from tests.reporting.support import projection_engine


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


@pytest.fixture(scope="module")
async def projection_sessions(new_database: DatabaseFactory) -> AsyncIterator[SessionFactory]:
    """Sessions of a migrated reporting database whose live generation is `reporting_g1`, for
    tests that drive the projector directly (one database per test module)."""
    engine = await projection_engine(await new_database("reporting_projection"), pool_size=2)
    yield session_factory(engine)
    await engine.dispose()
