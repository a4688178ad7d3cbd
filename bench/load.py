"""Load generators: a closed loop of N httpx clients (throughput, where wrk is missing) and an open
model at a fixed arrival rate (latency under a given load) over any client's `send`.

Closed loop: each client sends its next request when the previous one answered; requests finishing
in the warm-up are not counted. Open model: request i is sent at start + i / rate whatever the
server is doing, so a slow server is not excused by the generator slowing down with it.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.cpu import CpuMeter, Snapshot


@dataclass(frozen=True)
class Call:
    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    tag: str = ""
    """Passed back to the caller with the answer (e.g. the OPD an order is for)."""


@dataclass(frozen=True)
class Answer:
    call: Call
    status: int
    sent_at: float
    answered_at: float
    """`time.perf_counter()` when the response was read."""
    body: Any

    @property
    def latency(self) -> float:
        return self.answered_at - self.sent_at


NextCall = Callable[[], Call]
OnAnswer = Callable[[Answer], None]


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def client(base_url: str, connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=base_url, timeout=60.0, limits=limits)


async def send(http: httpx.AsyncClient, call: Call) -> Answer:
    sent_at = time.perf_counter()
    try:
        response = await http.post(call.path, json=call.body, headers=call.headers)
        status, body = response.status_code, response.json() if response.content else None
    except httpx.HTTPError as error:
        status, body = 0, repr(error)
    return Answer(call, status, sent_at, time.perf_counter(), body)


@dataclass(frozen=True)
class Throughput:
    per_s: float
    ok: int
    errors: int
    error_statuses: dict[int, int]
    latency_p50_ms: float
    latency_p99_ms: float
    cpu_cores: dict[str, float]
    """Cores used in the window by each server, PostgreSQL, Kafka, the generator and the rest."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "per_s": self.per_s,
            "ok": self.ok,
            "errors": self.errors,
            "error_statuses": {str(k): v for k, v in self.error_statuses.items()},
            "latency_p50_ms": self.latency_p50_ms,
            "latency_p99_ms": self.latency_p99_ms,
            "cpu_cores": self.cpu_cores,
        }


async def closed_loop(
    http: httpx.AsyncClient,
    next_call: NextCall,
    *,
    clients: int,
    warmup_s: float,
    measure_s: float,
    meter: CpuMeter,
    expect: int = 201,
    on_answer: OnAnswer | None = None,
) -> Throughput:
    started = time.perf_counter()
    window = (started + warmup_s, started + warmup_s + measure_s)
    counted: list[Answer] = []
    cpu_at_window: list[Snapshot] = []

    async def one_client() -> None:
        while time.perf_counter() < window[1]:
            answer = await send(http, next_call())
            if on_answer is not None:
                on_answer(answer)
            if window[0] <= answer.answered_at < window[1]:
                counted.append(answer)

    async def mark_window() -> None:
        await asyncio.sleep(warmup_s)
        cpu_at_window.append(await meter.snapshot())
        await asyncio.sleep(measure_s)
        cpu_at_window.append(await meter.snapshot())

    await asyncio.gather(mark_window(), *(one_client() for _ in range(clients)))
    ok = [a for a in counted if a.status == expect]
    statuses: dict[int, int] = {}
    for answer in counted:
        if answer.status != expect:
            statuses[answer.status] = statuses.get(answer.status, 0) + 1
    latencies = [a.latency * 1000 for a in ok]
    return Throughput(
        per_s=len(ok) / measure_s,
        ok=len(ok),
        errors=len(counted) - len(ok),
        error_statuses=statuses,
        latency_p50_ms=percentile(latencies, 0.50),
        latency_p99_ms=percentile(latencies, 0.99),
        cpu_cores=meter.usage(cpu_at_window[0], cpu_at_window[1]),
    )


@dataclass(frozen=True)
class OpenRun:
    offered: int
    dropped: int
    """Requests not sent because they were already `give_up_after_s` late: the server could not
    keep up with the rate (their absence is reported, never hidden)."""
    worst_lateness_s: float
    """The most a send fell behind its schedule (beyond the in-flight cap's queueing)."""


async def open_model(
    send_call: Callable[[Call], Awaitable[Answer]],
    next_call: NextCall,
    *,
    rate: float,
    duration_s: float,
    on_answer: OnAnswer,
    max_in_flight: int,
    give_up_after_s: float,
) -> OpenRun:
    """Sends `rate * duration_s` requests on schedule through `send_call`, at most
    `max_in_flight` at once (the client's connections)."""
    started = time.perf_counter()
    total = round(rate * duration_s)
    slots = asyncio.Semaphore(max_in_flight)
    tasks: list[asyncio.Task[None]] = []
    dropped = 0
    worst_lateness = 0.0

    async def fire(call: Call, due: float) -> None:
        nonlocal dropped
        async with slots:
            if time.perf_counter() - due > give_up_after_s:
                dropped += 1
                return
            answer = await send_call(call)
        on_answer(answer)

    for i in range(total):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            worst_lateness = max(worst_lateness, -delay)
        tasks.append(asyncio.create_task(fire(next_call(), due)))
    await asyncio.gather(*tasks)
    return OpenRun(offered=total, dropped=dropped, worst_lateness_s=worst_lateness)
