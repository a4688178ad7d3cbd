"""End-to-end freshness: from `POST /orders` answering 201 to the order being counted by
`GET /compliance/opd`, at a fixed arrival rate.

A poller reads the compliance report of the benchmark's region over and over; when an OPD's
`placed.orders` grows from c to k, its orders c..k-1 (in the order their 201s arrived) were
first counted at that read. Orders of one OPD are serialised by purchasing on the budget row, so
201 order is close to commit order; the time of a read is when its answer arrived, so the
figures err on the late side by at most one poll round trip (reported next to them). A plain
consumer of the orders topic splits each order's way at its arrival on Kafka.
"""

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from bench.cpu import CpuMeter
from bench.load import Answer, client, open_model, percentile
from bench.rawhttp import RawClient
from bench.scenario import Scenario
from bench.watchers import CountWatcher, KafkaArrivals

MAX_IN_FLIGHT = 64
GIVE_UP_AFTER_S = 10.0
CATCH_UP_TIMEOUT_S = 300.0
SETTLE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Trip:
    placed_at: float
    """When the 201 was read."""
    on_kafka_at: float | None
    counted_at: float | None


def _durations(trips: list[Trip], start: str, end: str) -> list[float]:
    """Milliseconds between two moments of each trip that has both (never negative: a 201 can
    be read after its order already reached Kafka)."""
    found = []
    for trip in trips:
        began, ended = getattr(trip, start), getattr(trip, end)
        if began is not None and ended is not None:
            found.append(max(0.0, ended - began) * 1000)
    return found


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": percentile(values, 0.50),
        "p95_ms": percentile(values, 0.95),
        "p99_ms": percentile(values, 0.99),
        "max_ms": max(values, default=float("nan")),
    }


def _statuses(answers: list[Answer]) -> dict[str, int]:
    counted: dict[str, int] = defaultdict(int)
    for answer in answers:
        if answer.status != 201:
            counted[str(answer.status)] += 1
    return dict(counted)


async def measure(
    scenario: Scenario,
    *,
    kafka: str,
    purchasing_url: str,
    reporting_url: str,
    rate: float,
    warmup_s: float,
    duration_s: float,
    meter: CpuMeter,
) -> dict[str, Any]:
    arrivals = KafkaArrivals(kafka)
    async with (
        client(reporting_url, 4) as reporting,
        RawClient(purchasing_url, MAX_IN_FLIGHT) as purchasing,
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

        await arrivals.start()
        try:
            async with watcher.watching():
                started = time.perf_counter()
                cpu_before = await meter.snapshot()
                offered = await open_model(
                    purchasing.send,
                    scenario.next_order,
                    rate=rate,
                    duration_s=warmup_s + duration_s,
                    on_answer=on_answer,
                    max_in_flight=MAX_IN_FLIGHT,
                    give_up_after_s=GIVE_UP_AFTER_S,
                )
                sending_s = time.perf_counter() - started
                cpu_cores = meter.usage(cpu_before, await meter.snapshot())
            settled = await watcher.wait_for(scenario.ledger.counts(), SETTLE_TIMEOUT_S)
        finally:
            await arrivals.stop()

    measured = [
        trip
        for trip, answer in _trips(answers, before, watcher, arrivals)
        if answer.sent_at >= started + warmup_s
    ]
    total = _durations(measured, "placed_at", "counted_at")
    placed = [a for a in answers if a.status == 201]
    return {
        "rate_per_s": rate,
        "warmup_s": warmup_s,
        "duration_s": duration_s,
        "orders_offered": offered.offered,
        "orders_placed": len(placed),
        "orders_failed": len(answers) - len(placed),
        "failed_statuses": _statuses(answers),
        "orders_dropped": offered.dropped,
        "accepted_per_s": len(placed) / sending_s,
        "orders_measured": len(total),
        "orders_never_counted": len(measured) - len(total),
        "settled": settled,
        **_ms(total),
        "split_201_to_kafka": _ms(_durations(measured, "placed_at", "on_kafka_at")),
        "split_kafka_to_counted": _ms(_durations(measured, "on_kafka_at", "counted_at")),
        "post_p50_ms": percentile([a.latency * 1000 for a in placed], 0.50),
        "post_p99_ms": percentile([a.latency * 1000 for a in placed], 0.99),
        "poll_round_trip_p50_ms": percentile([t * 1000 for t in watcher.round_trips], 0.50),
        "generator_worst_lateness_ms": offered.worst_lateness_s * 1000,
        "cpu_cores": cpu_cores,
    }


def _trips(
    answers: list[Answer], before: dict[str, int], watcher: CountWatcher, arrivals: KafkaArrivals
) -> list[tuple[Trip, Answer]]:
    """Each placed order's trip: its n-th 201 of an OPD is taken to be the OPD's n-th count."""
    by_opd: dict[str, list[Answer]] = defaultdict(list)
    for answer in sorted(answers, key=lambda a: a.answered_at):
        if answer.status == 201:
            by_opd[answer.call.tag].append(answer)
    trips = []
    for opd, placed in by_opd.items():
        for index, answer in enumerate(placed):
            counted_at = watcher.reached_at[opd].get(before.get(opd, 0) + index + 1)
            on_kafka_at = arrivals.arrived.get(str(answer.body.get("order_id")))
            trips.append((Trip(answer.answered_at, on_kafka_at, counted_at), answer))
    return trips
