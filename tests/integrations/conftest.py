"""The reference OPD consumer's FastStream app on an in-memory broker (`TestKafkaBroker`) with
its own, real PostgreSQL database."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from etalase_events.codec import KafkaRecord
from etalase_opd_consumer.app import create_app
from etalase_opd_consumer.settings import Settings
from faststream import FastStream, TestApp
from faststream.kafka import KafkaBroker, TestKafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.helpers import DatabaseFactory
from tests.integrations.support import opd


@dataclass
class Harness:
    app: FastStream
    broker: KafkaBroker
    engine: AsyncEngine
    opd_code: str

    async def deliver(self, record: KafkaRecord, headers: dict[str, str] | None = None) -> None:
        """Hands one record to the consumer as the broker would (`headers` replaces the
        record's own)."""
        if headers is None:
            headers = {name: value.decode() for name, value in record.headers}
        await self.broker.publish(record.value, topic=record.topic, key=record.key, headers=headers)


async def _harness(database_url: str, **settings: Any) -> AsyncIterator[Harness]:
    opd_code = settings.pop("opd_code", None) or opd()
    app = create_app(Settings(database_url=database_url, opd_code=opd_code, **settings))
    engine = create_async_engine(database_url)
    broker = app.broker
    assert isinstance(broker, KafkaBroker)
    async with TestKafkaBroker(broker) as test_broker, TestApp(app):
        yield Harness(app, test_broker, engine, opd_code)
    await engine.dispose()


@pytest.fixture
async def consumer(new_database: DatabaseFactory) -> AsyncIterator[Harness]:
    async for harness in _harness(await new_database("opd")):
        yield harness


@pytest.fixture
async def consumer_2025(new_database: DatabaseFactory) -> AsyncIterator[Harness]:
    """A consumer that keeps fiscal year 2025 only."""
    async for harness in _harness(await new_database("opd"), fiscal_year=2025):
        yield harness
