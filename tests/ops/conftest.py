"""One stack of the four services on a private broker, scraped by a Prometheus with the alert
rules loaded (started once for the module that asks for it)."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from etalase_platform.settings import DEV_JWT_SECRET

from tests.e2e.stack import SERVICES, Stack, free_port
from tests.helpers import DatabaseFactory
from tests.ops.infra import PrivateKafka, Prometheus


@dataclass
class Observed:
    kafka: PrivateKafka
    stack: Stack
    prometheus: Prometheus


@pytest.fixture(scope="module")
async def observed(
    new_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Observed]:
    kafka = PrivateKafka.on_free_ports(tmp_path_factory.mktemp("ops-kafka"))
    started = asyncio.create_task(asyncio.to_thread(kafka.start))
    stack = Stack(tmp_path_factory.mktemp("ops-stack"))
    prometheus: Prometheus | None = None
    try:
        databases = {service: await new_database(f"ops_{service}") for service in SERVICES}
        await started
        await asyncio.to_thread(kafka.create_topics)
        extra = {"ETALASE_JWT_SECRET": DEV_JWT_SECRET, "ETALASE_ENV": "test"}
        await asyncio.to_thread(stack.start, kafka.bootstrap, databases, extra)
        targets = {s: url.removeprefix("http://") for s, url in stack.urls.items()}
        prometheus = Prometheus(tmp_path_factory.mktemp("ops-prometheus"), free_port(), targets)
        await asyncio.to_thread(prometheus.start)
        yield Observed(kafka, stack, prometheus)
    finally:
        if prometheus is not None:
            await asyncio.to_thread(prometheus.stop)
        await asyncio.to_thread(stack.stop)
        await asyncio.to_thread(kafka.stop)
