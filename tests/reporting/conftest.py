"""One reporting service for the API tests of this package (its own database and groups)."""

from collections.abc import AsyncIterator

import httpx
import pytest
from etalase_platform.db import SessionFactory, create_engine, session_factory, upgrade_to_head
from etalase_reporting.bootstrap import MIGRATIONS, create_app
from etalase_reporting.rebuild.generations import Status, create_generation, lock
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


@pytest.fixture(scope="module")
async def projection_sessions(new_database: DatabaseFactory) -> AsyncIterator[SessionFactory]:
    """Sessions of a migrated reporting database whose live generation is `reporting_g1`, for
    tests that drive the projector directly (one database per test module)."""
    url = await new_database("reporting_projection")
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(url, pool_size=2)
    factory = session_factory(engine)
    async with factory() as session, session.begin():
        await lock(session)
        await create_generation(session, Status.LIVE, {})
    yield factory
    await engine.dispose()
