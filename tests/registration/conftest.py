"""One registration app per test module, on its own database and consumer group."""

from collections.abc import AsyncIterator

import httpx
import pytest
from etalase_registration.bootstrap import create_app
from etalase_registration.settings import Settings

from tests.helpers import DatabaseFactory, Infra, serve, unique
from tests.registration.support import VendorTopic


@pytest.fixture(scope="module")
async def vendor_topic(infra: Infra) -> AsyncIterator[VendorTopic]:
    """Started before the module's app, so it sees every event the module causes."""
    topic = VendorTopic(infra.kafka)
    await topic.start()
    yield topic
    await topic.stop()


@pytest.fixture(scope="module")
async def client(
    infra: Infra, new_database: DatabaseFactory, vendor_topic: VendorTopic
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=await new_database("registration"),
        kafka_bootstrap_servers=infra.kafka,
        consumer_group=unique("registration-test-"),
    )
    async with serve(create_app(settings)) as http:
        yield http
