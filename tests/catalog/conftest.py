"""One catalog app for the whole package (its own database and consumer group), a stand-in for
registration producing onto the real vendors topic, and a log of the real products topic."""

from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from etalase_catalog.bootstrap import create_app
from etalase_catalog.settings import Settings

from tests.catalog.support import ProductEventLog, Registry
from tests.helpers import DatabaseFactory, Infra, serve, unique


@pytest.fixture(scope="package")
async def product_events(infra: Infra) -> AsyncIterator[ProductEventLog]:
    log = ProductEventLog(infra.kafka)
    await log.start()
    yield log
    await log.stop()


@pytest.fixture(scope="package")
async def catalog(
    infra: Infra, new_database: DatabaseFactory, product_events: ProductEventLog
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=await new_database("catalog"),
        kafka_bootstrap_servers=infra.kafka,
        consumer_group=unique("catalog-test-"),
    )
    async with serve(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="package")
async def registry(infra: Infra) -> AsyncIterator[Registry]:
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka, acks="all")
    await producer.start()
    yield Registry(producer)
    await producer.stop()
