"""One purchasing app for the whole package (own database, own consumer group), a producer of
catalog and registration events onto the real topics, and a recorder of what purchasing
publishes on its own topics."""

from collections.abc import AsyncIterator

import httpx
import pytest
from etalase_events.topics import BUDGETS, ORDERS
from etalase_platform.settings import DEV_JWT_SECRET
from etalase_purchasing.bootstrap import create_app
from etalase_purchasing.settings import Settings

from tests.helpers import DatabaseFactory, Infra, serve, unique
from tests.purchasing.support import CatalogDouble, Published


@pytest.fixture(scope="package")
async def published(infra: Infra) -> AsyncIterator[Published]:
    """Started before the app, so that nothing it publishes is missed."""
    recorder = Published(infra.kafka, (ORDERS, BUDGETS))
    await recorder.start()
    yield recorder
    await recorder.stop()


@pytest.fixture(scope="package")
async def client(
    infra: Infra, new_database: DatabaseFactory, published: Published
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=await new_database("purchasing"),
        kafka_bootstrap_servers=infra.kafka,
        consumer_group=unique("test.purchasing."),
        jwt_secret=DEV_JWT_SECRET,
        environment="test",
    )
    async with serve(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="package")
async def catalog(infra: Infra, client: httpx.AsyncClient) -> AsyncIterator[CatalogDouble]:
    """Plays catalog and registration: their events, and probes of what purchasing has seen."""
    producer = CatalogDouble(infra.kafka, client)
    await producer.start()
    yield producer
    await producer.stop()
