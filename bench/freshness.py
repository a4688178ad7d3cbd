"""End-to-end freshness: from `POST /orders` answering 201 to the order being counted by
`GET /compliance/opd`, at a fixed arrival rate.

A poller reads the compliance report of the benchmark's region over and over; when an OPD's
`placed.orders` grows from c to k, its orders c..k-1 (in the order their 201s arrived) were
first counted at that read. Orders of one OPD are serialised by purchasing on the budget row, so
201 order is close to commit order; the time of a read is when its answer arrived, so the
figures err on the late side by at most one poll round trip (reported next to them).
"""

import asyncio
import time
from collections import defaultdict
from typing import Any

import httpx

from bench.cpu import CpuMeter
from bench.load import Answer, client, open_model, percentile
from bench.scenario import REGION, Scenario

POLL_PAUSE_S = 0.02  # between reads: the reads load reporting too
MAX_IN_FLIGHT = 64
GIVE_UP_AFTER_S = 10.0
CATCH_UP_TIMEOUT_S = 300.0
SETTLE_TIMEOUT_S = 30.0


class CountWatcher:
    """When each OPD's order count first reached each value."""

    def __init__(self, reporting: httpx.AsyncClient, scenario: Scenario) -> None:
        self._reporting = reporting
        self._scenario = scenario
        self._ours = set(scenario.opds)
        self.counts: dict[str, int] = defaultdict(int)
        self.reached_at: dict[str, dict[int, float]] = defaultdict(dict)
        self.round_trips: list[float] = []

    async def read(self) -> None:
        sent_at = time.perf_counter()
        response = await self._reporting.get(
            "/compliance/opd",
            params={"fiscal_year": self._scenario.fiscal_year, "region_code": REGION},
            headers=self._scenario.auditor,
        )
        answered_at = time.perf_counter()
        response.raise_for_status()
        self.round_trips.append(answered_at - sent_at)
        for item in response.json()["items"]:
            opd = item["opd_code"]
            if opd not in self._ours:
                continue
            count = int(item["placed"]["orders"])
            for reached in range(self.counts[opd] + 1, count + 1):
                self.reached_at[opd][reached] = answered_at
            self.counts[opd] = max(self.counts[opd], count)

    async def wait_for(self, expected: dict[str, int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while any(self.counts[opd] < n for opd, n in expected.items()):
            if time.monotonic() > deadline:
                return False
            await self.read()
            await asyncio.sleep(POLL_PAUSE_S)
        return True

    async def watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.read()
            await asyncio.sleep(POLL_PAUSE_S)


async def measure(
    scenario: Scenario,
    *,
    purchasing_url: str,
    reporting_url: str,
    rate: float,
    warmup_s: float,
    duration_s: float,
    meter: CpuMeter,
) -> dict[str, Any]:
    async with (
        client(reporting_url, 4) as reporting,
        client(purchasing_url, MAX_IN_FLIGHT) as purchasing,
    ):
        watcher = CountWatcher(reporting, scenario)
        # reporting first reads the order topic from its beginning, then every earlier order
        if not await watcher.wait_for(scenario.ledger.counts(), CATCH_UP_TIMEOUT_S):
            raise RuntimeError("reporting did not count the orders placed before the run")
        before = scenario.ledger.counts()
        answers: list[Answer] = []

        def on_answer(answer: Answer) -> None:
            scenario.ledger.record(answer)
            answers.append(answer)

        stop = asyncio.Event()
        watching = asyncio.create_task(watcher.watch(stop))
        started = time.perf_counter()
        cpu_before = await meter.snapshot()
        offered = await open_model(
            purchasing,
            scenario.next_order,
            rate=rate,
            duration_s=warmup_s + duration_s,
            on_answer=on_answer,
            max_in_flight=MAX_IN_FLIGHT,
            give_up_after_s=GIVE_UP_AFTER_S,
        )
        sending_s = time.perf_counter() - started
        cpu_cores = meter.usage(cpu_before, await meter.snapshot())
        stop.set()
        await watching
        settled = await watcher.wait_for(scenario.ledger.counts(), SETTLE_TIMEOUT_S)

    latencies, missing = _latencies(answers, before, watcher, measured_from=started + warmup_s)
    placed = [a for a in answers if a.status == 201]
    return {
        "rate_per_s": rate,
        "warmup_s": warmup_s,
        "duration_s": duration_s,
        "orders_offered": offered.offered,
        "orders_placed": len(placed),
        "orders_failed": len(answers) - len(placed),
        "orders_dropped": offered.dropped,
        "accepted_per_s": len(placed) / sending_s,
        "orders_measured": len(latencies),
        "orders_never_counted": missing,
        "settled": settled,
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=float("nan")),
        "post_p50_ms": percentile([a.latency * 1000 for a in placed], 0.50),
        "post_p99_ms": percentile([a.latency * 1000 for a in placed], 0.99),
        "poll_round_trip_p50_ms": percentile([t * 1000 for t in watcher.round_trips], 0.50),
        "generator_worst_lateness_ms": offered.worst_lateness_s * 1000,
        "cpu_cores": cpu_cores,
    }


def _latencies(
    answers: list[Answer],
    before: dict[str, int],
    watcher: CountWatcher,
    *,
    measured_from: float,
) -> tuple[list[float], int]:
    """Milliseconds from each measured order's 201 to its first count; and how many were never
    counted (those make the run fail its target, whatever the percentiles say)."""
    by_opd: dict[str, list[Answer]] = defaultdict(list)
    for answer in sorted(answers, key=lambda a: a.answered_at):
        if answer.status == 201:
            by_opd[answer.call.tag].append(answer)
    latencies, missing = [], 0
    for opd, placed in by_opd.items():
        for index, answer in enumerate(placed):
            counted_at = watcher.reached_at[opd].get(before.get(opd, 0) + index + 1)
            if answer.sent_at < measured_from:
                continue
            if counted_at is None:
                missing += 1
            else:
                latencies.append(max(0.0, counted_at - answer.answered_at) * 1000)
    return latencies, missing
