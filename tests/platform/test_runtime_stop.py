"""A shutdown always finishes: a task that will not end when cancelled is left behind, logged."""

import asyncio
import logging
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from etalase_platform import runtime
from etalase_platform.runtime import ServiceRuntime
from etalase_platform.settings import ServiceSettings


async def test_a_task_that_swallows_its_cancel_does_not_hang_the_shutdown(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(runtime, "STOP_TIMEOUT_SECONDS", 0.2)
    service = ServiceRuntime(
        ServiceSettings(database_url="postgresql+asyncpg://nobody@localhost:1/none"),
        Path("unused"),
    )
    service.producer = AIOKafkaProducer(bootstrap_servers="localhost:1")  # never started
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue  # as a client library's cleanup may do

    service._spawn(stubborn, "stubborn")
    await asyncio.sleep(0)
    try:
        with caplog.at_level(logging.ERROR):
            await asyncio.wait_for(service.stop(), 5)
    finally:
        release.set()  # the next cancel (the loop's, at teardown) ends it
    assert "did not stop within 0.2 s" in caplog.text, caplog.text
