"""Knowing when the events have arrived: outbox backlogs and consumer lags from each service's
/metrics, and reporting's own account of its projections (/projections).
"""

import asyncio
import re
from dataclasses import dataclass

from demo.api import SERVICES, Api
from demo.progress import Log

_SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})?\s+(?P<value>\S+)"
)
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def parse_metrics(text: str) -> list[Sample]:
    """The samples of a Prometheus text exposition (comments skipped)."""
    samples = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if not match or line.startswith("#"):
            continue
        labels = dict(_LABEL.findall(match["labels"] or ""))
        samples.append(Sample(match["name"], labels, float(match["value"])))
    return samples


async def backlog(api: Api) -> dict[str, float]:
    """Per service: unpublished outbox rows plus records its consumers have not applied yet."""
    found: dict[str, float] = {}
    for service in SERVICES:
        samples = parse_metrics(await api.text(service, "/metrics"))
        found[service] = sum(
            s.value
            for s in samples
            if s.name in ("etalase_outbox_backlog", "etalase_consumer_lag")
            and s.labels.get("service", service) == service
        )
    return found


async def projection_lag(api: Api) -> int:
    """Records reporting's live projections have yet to apply (log end minus applied)."""
    token = api.token("auditor", sub="demo-auditor")
    report = await api.json("reporting", "GET", "/projections", "projections", token=token)
    live = report.get("live_generation")
    items = [i for i in report["items"] if live is None or i.get("generation") == live]
    return sum(int(item["lag"]) for item in items)


async def settle(api: Api, log: Log, *, timeout: float = 300.0) -> None:
    """Waits until every service has published and applied everything: twice in a row, a second
    apart, because the gauges are refreshed about once a second."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet_rounds = 0
    last_said = 0.0
    while quiet_rounds < 2:
        pending = await backlog(api)
        lag = await projection_lag(api)
        busy = {name: int(count) for name, count in pending.items() if count}
        if lag:
            busy["reporting projections"] = lag
        quiet_rounds = 0 if busy else quiet_rounds + 1
        if busy and loop.time() - last_said > 5:
            last_said = loop.time()
            log.say(f"  waiting for events to propagate: {busy}")
        if loop.time() > deadline:
            raise TimeoutError(f"events still propagating after {timeout:.0f}s: {busy}")
        await asyncio.sleep(1.1)
