"""What the freshness benchmark watches: reporting's order counts per OPD, read back to back, and
the orders topic itself, so that an order's way from its 201 to its count splits into the
relay's part (201 → on Kafka) and reporting's (on Kafka → counted)."""

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import AsyncIterator

import httpx
from aiokafka import AIOKafkaConsumer
from etalase_events.topics import ORDERS

from bench.offsets import partitions_of
from bench.scenario import REGION, Scenario

POLL_PAUSE_S = 0.02  # between reads: the reads load reporting too


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

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """Reads back to back while the block runs."""
        stop = asyncio.Event()

        async def watch() -> None:
            while not stop.is_set():
                await self.read()
                await asyncio.sleep(POLL_PAUSE_S)

        task = asyncio.create_task(watch())
        try:
            yield
        finally:
            stop.set()
            await task


class KafkaArrivals:
    """When each order's first event reached a plain consumer of the orders topic (by its key,
    the order id), from the moment `start` returns."""

    def __init__(self, kafka: str) -> None:
        self._kafka = kafka
        self.arrived: dict[str, float] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self._kafka, group_id=None)
        await consumer.start()
        partitions = await partitions_of(self._kafka, [ORDERS])
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        self._consumer = consumer
        self._task = asyncio.create_task(self._run(consumer))

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batch = await consumer.getmany(timeout_ms=50)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    if record.key is not None:
                        self.arrived.setdefault(record.key.decode(), now)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
