"""Reporting during a database outage: not ready, its operations endpoint a 503 naming the
database rather than a 500, and its freshness gauge unknown rather than stale. (Its broker's
outage is in tests/chaos/test_broker_outage.py.)"""

import httpx
import pytest
from etalase_platform.db import create_engine, session_factory

from tests.helpers import bearer, eventually

pytestmark = pytest.mark.infra


async def test_ready_says_how_fresh_the_projections_are(reporting: httpx.AsyncClient) -> None:
    body = (await reporting.get("/health/ready")).json()
    assert body["status"] == "ready"
    assert body["dependencies"]["postgresql"]["status"] == "up"
    for fresh in body["projections"].values():
        assert fresh["last_event_age_seconds"] >= 0


async def test_projections_is_a_503_while_the_database_is_down(
    reporting: httpx.AsyncClient,
) -> None:
    runtime = reporting._transport.app.state.runtime  # type: ignore[attr-defined]
    healthy = (runtime.engine, runtime.sessions)
    runtime.engine = create_engine("postgresql+asyncpg://nobody:x@127.0.0.1:1/none")
    runtime.sessions = session_factory(runtime.engine)
    try:
        projections = await reporting.get("/projections", headers=bearer("auditor"))
        ready = await reporting.get("/health/ready")

        async def freshness_unknown() -> bool:
            metrics = (await reporting.get("/metrics")).text
            gauge = "etalase_projection_last_event_age_seconds"
            return f'{gauge}{{consumer="compliance",service="reporting"}} NaN' in metrics

        await eventually(freshness_unknown, timeout=20)
    finally:
        await runtime.engine.dispose()
        runtime.engine, runtime.sessions = healthy
    assert projections.status_code == 503, projections.text
    assert projections.headers["retry-after"]
    assert projections.json()["dependency"] == "postgresql"
    assert ready.status_code == 503
    assert ready.json()["dependencies"]["postgresql"]["status"] == "down"
