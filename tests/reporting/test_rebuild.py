"""A rebuild replays the log from its beginning beside the live tables, switches over when caught
up, and serves identical figures; meanwhile every answer is the live one, never half-built."""

import asyncio
from typing import Any

import httpx
import pytest

from tests.helpers import Infra, bearer, eventually
from tests.reporting.scenario import Scenario
from tests.reporting.support import fresh_scope, produce, wait_applied

pytestmark = pytest.mark.infra

AUDITOR = bearer("auditor")


async def _figures(client: httpx.AsyncClient, s: Scenario) -> list[Any]:
    """Everything the scenario's figures can be read as."""
    fy = s.fiscal_year
    reads: list[tuple[str, dict[str, str | int]]] = [
        ("/compliance/regions", {"fiscal_year": fy, "province": s.province}),
        (f"/compliance/opd/{fy}/{s.dinkes}/orders", {}),
        (f"/compliance/opd/{fy}/{s.disdik}/orders", {"as_of": "2041-03-02"}),
    ]
    for as_of in (None, "2041-02-28", "2041-03-01", "2041-03-02", "2041-03-03"):
        params: dict[str, str | int] = {"fiscal_year": fy, "region_code": s.province}
        if as_of:
            params["as_of"] = as_of
        reads.append(("/compliance/opd", params))
    bodies = []
    for path, params in reads:
        response = await client.get(path, params=params, headers=AUDITOR)
        assert response.status_code == 200, response.text
        bodies.append(response.json())
    return bodies


async def _projections(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/projections", headers=AUDITOR)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_a_rebuild_yields_identical_figures(
    infra: Infra, reporting: httpx.AsyncClient
) -> None:
    scenario = Scenario.build(*await fresh_scope(reporting, infra.kafka))
    await wait_applied(reporting, await produce(infra.kafka, scenario.arrival()))
    before = await _figures(reporting, scenario)
    live = (await _projections(reporting))["live_generation"]

    started, again = await asyncio.gather(
        reporting.post("/projections/rebuild", headers=AUDITOR),
        reporting.post("/projections/rebuild", headers=AUDITOR),
    )
    assert sorted([started.status_code, again.status_code]) == [202, 409]
    accepted, refused = (started, again) if started.status_code == 202 else (again, started)
    assert refused.json()["rule"] == "rebuild_in_progress"
    generation = accepted.json()["generation"]
    assert generation > live
    assert accepted.json()["status"] == "building"

    async def switched_over() -> bool:
        assert await _figures(reporting, scenario) == before  # served from the live tables
        return bool((await _projections(reporting))["live_generation"] == generation)

    await eventually(switched_over, timeout=300)  # replays the whole shared log
    assert await _figures(reporting, scenario) == before
    status = await _projections(reporting)
    assert {item["generation"] for item in status["items"]} == {generation}
    assert {g["generation"]: g["status"] for g in status["generations"]}[live] == "retired"


async def test_projection_progress_shows_offsets_log_end_and_lag(
    reporting: httpx.AsyncClient,
) -> None:
    status = await _projections(reporting)
    live = [item for item in status["items"] if item["generation"] == status["live_generation"]]
    projections = {item["projection"] for item in live}
    assert projections == {"compliance", "vendors", "catalog", "documents"}
    for item in live:
        assert item["lag"] == max(item["log_end"] - (item["next_offset"] or 0), 0)
        if item["next_offset"] is not None:
            assert item["applied_offset"] == item["next_offset"] - 1


async def test_only_auditors_start_rebuilds(reporting: httpx.AsyncClient) -> None:
    admin = bearer("admin", region="33.75")
    assert (await reporting.post("/projections/rebuild", headers=admin)).status_code == 403
    assert (await reporting.post("/projections/rebuild")).status_code == 401
