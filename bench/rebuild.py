"""Reporting's rebuild (`POST /projections/rebuild`) while the services run: how long it takes to
go live from the start of the log, and every service's peak memory before and after it (the
memory target holds during a rebuild too)."""

import asyncio
import time
from typing import Any

import httpx
from etalase_platform.auth import mint_token
from etalase_platform.settings import DEV_JWT_SECRET

from bench.processes import SERVICES, Server

TIMEOUT_S = 300.0


async def measure(servers: dict[str, Server]) -> dict[str, Any]:
    before = {name: servers[name].peak_rss_so_far() for name in SERVICES}
    headers = {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, role='auditor')}"}
    async with httpx.AsyncClient(
        base_url=servers["reporting"].url, headers=headers, timeout=30.0
    ) as client:
        started = time.perf_counter()
        response = await client.post("/projections/rebuild")
        response.raise_for_status()
        started_with = response.json()
        generation = started_with["generation"]
        events = sum(sum(ends.values()) for ends in started_with["log_end"].values())
        while True:
            state = (await client.get("/projections")).raise_for_status().json()
            if state["live_generation"] == generation and state["building_generation"] is None:
                break
            if time.perf_counter() - started > TIMEOUT_S:
                raise RuntimeError(f"the rebuild did not go live in {TIMEOUT_S:.0f} s: {state}")
            await asyncio.sleep(0.25)
        seconds = time.perf_counter() - started
    return {
        "generation": generation,
        "log_events": events,
        "seconds": round(seconds, 2),
        "events_per_s": round(events / seconds, 1) if seconds else None,
        "peak_rss_mib_before": before,
        "peak_rss_mib_after": {name: servers[name].peak_rss_so_far() for name in SERVICES},
    }
