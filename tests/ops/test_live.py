"""The observability of real processes: the four services on a private broker, scraped by the
demo's Prometheus (deploy/prometheus.sh) with the alert rules loaded and their `for:` cut short."""

import asyncio
import json
import os
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import bearer, screenshot_path
from tests.ops.conftest import Observed
from tests.ops.observability import (
    GENERATED,
    dashboard_metric_names,
    exported_series,
    rule_metric_names,
)
from tests.registration.support import registration

pytestmark = pytest.mark.infra

SCREENSHOT = screenshot_path("prometheus-alerts.png")
LOG_FIELDS = {"time", "level", "service", "message", "trace_id", "span_id"}


async def _exported(http: httpx.AsyncClient, observed: Observed) -> set[str]:
    names: set[str] = set()
    for url in observed.stack.urls.values():
        response = await http.get(f"{url}/metrics")
        response.raise_for_status()
        names |= exported_series(text_string_to_metric_families(response.text))
    return names


async def test_every_metric_the_rules_and_the_dashboard_name_is_exported(
    observed: Observed,
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        exported = await _exported(http, observed)
    used = (rule_metric_names() | dashboard_metric_names()) - GENERATED
    assert used - exported == set()


async def test_a_traced_request_leads_to_its_json_log_lines(observed: Observed) -> None:
    trace_id = secrets.token_hex(16)
    headers = {**bearer("desk", region="33.75"), "traceparent": f"00-{trace_id}-{'1' * 16}-01"}
    async with httpx.AsyncClient(timeout=10) as http:
        created = await http.post(
            f"{observed.stack.urls['registration']}/vendors", json=registration(), headers=headers
        )
        assert created.status_code == 201, created.text
    await asyncio.sleep(0.5)  # the process writes its line after answering
    lines = _log_lines(observed.stack.log_file("registration"))
    ours = [line for line in lines if line["trace_id"] == trace_id]
    assert ours, "no log line carries the request's trace id"
    assert any(line.get("url.path") == "/vendors" for line in ours)
    assert all(len(line["span_id"]) == 16 for line in ours)
    for service in observed.stack.urls:
        entries = _log_lines(observed.stack.log_file(service))
        assert entries and {entry["service"] for entry in entries} == {service}


def _log_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a service's output, each of which must be one JSON object."""
    entries = []
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        assert set(entry) >= LOG_FIELDS, line
        entries.append(entry)
    return entries


async def test_a_stopped_broker_fires_the_outbox_alert_and_its_return_resolves_it(
    observed: Observed,
) -> None:
    """The outbox alert reads only the outbox gauges, which come from the service's database:
    it fires whatever the service's readiness says about the broker."""
    prometheus = observed.prometheus.url
    registration_url = observed.stack.urls["registration"]
    async with httpx.AsyncClient(timeout=10) as http:
        await _until(lambda: _targets_up(http, prometheus), "all four targets scraped", 30)
        assert await _outbox_alert(http, prometheus) is None
        await asyncio.to_thread(observed.kafka.stop)
        try:
            # Chromium starts while the alert builds up: on a busy machine that takes seconds.
            browser = asyncio.create_task(_browser())
            created = await http.post(
                f"{registration_url}/vendors",
                json=registration(),
                headers=bearer("desk", region="33.75"),
            )
            assert created.status_code == 201, created.text
            seen: list[str] = []

            async def firing() -> bool:
                state = await _outbox_alert(http, prometheus)
                if state and state not in seen:
                    seen.append(state)
                return state == "firing"

            await _until(firing, "EtalaseOutboxBacklog firing", 120, interval=0.2)
            assert seen == ["pending", "firing"]
            await _screenshot(await browser, f"{prometheus}/classic/alerts")
        finally:
            if not browser.done():
                browser.cancel()
            await asyncio.to_thread(observed.kafka.start)

        async def resolved() -> bool:
            return await _outbox_alert(http, prometheus) is None

        # bounds, not expectations: a JVM restarting on two busy cores can take minutes
        await _until(resolved, "EtalaseOutboxBacklog resolved", 240)
        backlog = await http.get(f"{prometheus}/api/v1/query", params={"query": _BACKLOG})
        assert backlog.json()["data"]["result"][0]["value"][1] == "0"


_BACKLOG = 'etalase_outbox_backlog{service="registration"}'


async def _until(check: Any, what: str, timeout: float, interval: float = 0.5) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"not within {timeout:.0f}s: {what}")
        await asyncio.sleep(interval)


async def _targets_up(http: httpx.AsyncClient, prometheus: str) -> bool:
    targets = (await http.get(f"{prometheus}/api/v1/targets")).json()["data"]["activeTargets"]
    return len(targets) == 4 and all(t["health"] == "up" for t in targets)


async def _outbox_alert(http: httpx.AsyncClient, prometheus: str) -> str | None:
    """The state of registration's EtalaseOutboxBacklog alert; None when not active."""
    response = await http.get(f"{prometheus}/api/v1/alerts")
    response.raise_for_status()
    for alert in response.json()["data"]["alerts"]:
        labels = alert["labels"]
        if labels["alertname"] == "EtalaseOutboxBacklog" and labels["service"] == "registration":
            state: str = alert["state"]
            return state
    return None


async def _browser() -> Any:
    from playwright.async_api import async_playwright

    playwright = await async_playwright().start()
    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    return playwright, await playwright.chromium.launch(executable_path=executable)


async def _screenshot(started: Any, url: str) -> None:
    """Prometheus's alerts page, with the firing alert opened and its annotations shown, into
    docs/images with ETALASE_UPDATE_SCREENSHOTS=1 (headless Chromium: the system's)."""
    playwright, browser = started
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    try:
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await page.goto(url)
        await page.get_by_text("Show annotations").click()
        await page.get_by_text("EtalaseOutboxBacklog", exact=False).first.click()
        await page.wait_for_timeout(300)
        await page.screenshot(path=str(SCREENSHOT), full_page=True)
    finally:
        await browser.close()
        await playwright.stop()
