"""The four services as real processes (`python -m etalase_<service>.main`, so uvicorn as
deployed), on fresh databases and the suite's real Kafka, shared by the HTTP-edge tests.

`ETALASE_EDGE_URLS` (a JSON file `{"registration": "http://…", …}`) points these tests at
services already running instead, e.g. an older build to show what it got wrong."""

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from etalase_platform.settings import DEV_JWT_SECRET

from tests.e2e.stack import SERVICES, Stack
from tests.helpers import DatabaseFactory, Infra


@pytest.fixture(scope="package")
async def services(
    infra: Infra, new_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    stack = Stack(tmp_path_factory.mktemp("http-stack"))
    if running := os.environ.get("ETALASE_EDGE_URLS"):
        stack.urls = json.loads(await asyncio.to_thread(Path(running).read_text))
        yield stack
        return
    databases = {service: await new_database(f"http_{service}") for service in SERVICES}
    extra = {"ETALASE_JWT_SECRET": DEV_JWT_SECRET, "ETALASE_ENV": "test"}
    try:
        await asyncio.to_thread(stack.start, infra.kafka, databases, extra)
        yield stack
    finally:
        await asyncio.to_thread(stack.stop)
