"""The reporting service as a real process (`python -m etalase_reporting.main`: its own database,
consumer group and port), fed by the scenario's events through the shared Kafka topics."""

import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.dashboard.scenario import FISCAL_YEAR, Scenario
from tests.e2e.stack import ROOT, free_port
from tests.helpers import DatabaseFactory, Infra, bearer
from tests.reporting.support import log_ends, produce, wait_applied


@dataclass(frozen=True)
class Reporting:
    url: str
    scenario: Scenario
    log: Path

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30)


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"reporting exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url + "/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"reporting not ready:\n{log.read_text(errors='replace')[-3000:]}")


async def _fresh_province(client: httpx.AsyncClient) -> str:
    """A province that no event in the shared topics has used for the scenario's year."""
    auditor = bearer("auditor")
    for _ in range(200):
        province = str(random.randint(60, 99))
        reads: list[tuple[str, dict[str, str | int]]] = [
            ("/compliance/regions", {"fiscal_year": FISCAL_YEAR, "province": province}),
            ("/stats/vendors", {"region_code": province}),
        ]
        bodies = [(await client.get(p, params=q, headers=auditor)).json() for p, q in reads]
        if not any(body["items"] for body in bodies):
            return province
    raise RuntimeError("no unused province left in 60-99 for the dashboard test")


@pytest.fixture(scope="package")
async def reporting(
    infra: Infra, new_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Reporting]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("dashboard") / "reporting.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": infra.kafka,
            "REPORTING_DATABASE_URL": await new_database("dashboard"),
            "REPORTING_HTTP_PORT": str(port),
            "REPORTING_HTTP_HOST": "127.0.0.1",
            "REPORTING_CONSUMER_GROUP": f"dashboard-{uuid.uuid4().hex[:8]}",
        }
    )
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: ASYNC220 (started once, before any test runs)
            [sys.executable, "-m", "etalase_reporting.main"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_ready(process, url, log)
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            await wait_applied(client, await log_ends(infra.kafka))
            scenario = Scenario.build(await _fresh_province(client))
            await wait_applied(client, await produce(infra.kafka, scenario.events))
        yield Reporting(url, scenario, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
