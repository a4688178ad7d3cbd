"""Runs the consumers of the live generation and of a rebuild, and switches over when it is ready.

Every instance of the service reconciles, about twice a second, the consumers it runs with the
generations table: consumers for the live and the building generation, none for retired ones. A
rebuild only adds a `building` row; whichever instance first sees it caught up promotes it.

The switch waits until the rebuild has applied everything up to the log end captured when it
started, and no less than the live generation on any partition. It checks the latter with the
live tables locked against writes (SHARE mode: reads go on), so no live batch can commit in
between: the figures served never go backwards, and a query sees the old tables or the new,
never a mix.
"""

import asyncio
import contextlib
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from etalase_platform import metrics, offsets
from etalase_platform.consumer import IdempotentConsumer
from etalase_platform.outages import log_failure
from etalase_platform.problems import Conflict
from etalase_platform.runtime import ServiceRuntime
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_reporting.projection.registry import PROJECTIONS, TOPICS, consumer_names, subscriptions
from etalase_reporting.rebuild.generations import (
    Generation,
    LogEnd,
    Status,
    all_generations,
    complete_projection_tables,
    create_generation,
    drop_generation,
    freeze,
    lock,
    promote,
)
from etalase_reporting.rebuild.kafka_log import LogReader

log = logging.getLogger(__name__)

Offsets = dict[tuple[str, str, int], int]
"""(projection, topic, partition) → next offset to apply."""


@dataclass
class _Running:
    consumers: list[IdempotentConsumer] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


@dataclass(frozen=True)
class PartitionProgress:
    projection: str
    generation: int
    status: Status
    topic: str
    partition: int
    next_offset: int | None
    log_end: int
    lag: int
    last_event_time: datetime | None


@dataclass(frozen=True)
class Freshness:
    last_event_time: datetime
    age_seconds: float


class ProjectionSupervisor:
    def __init__(
        self,
        runtime: ServiceRuntime,
        *,
        poll_seconds: float = 0.5,
        retired_grace: timedelta = timedelta(minutes=5),
    ) -> None:
        self._runtime = runtime
        self._poll_seconds = poll_seconds
        self._retired_grace = retired_grace
        self._log: LogReader | None = None
        self._running: dict[int, _Running] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def log(self) -> LogReader:
        assert self._log is not None, "the supervisor is not started"
        return self._log

    async def start(self) -> None:
        # aiokafka clients belong to the running event loop: made here, not in __init__
        settings = self._runtime.settings
        self._log = LogReader(settings.kafka_bootstrap_servers, f"{self._runtime.service}.log")
        await self._log.start()
        await self._ensure_live()
        await self.reconcile()
        self._task = asyncio.create_task(self._watch(), name="reporting:supervisor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for number in list(self._running):
            await self._stop(number)
        if self._log is not None:
            await self._log.stop()

    async def rebuild(self) -> Generation:
        """Start a generation replaying the log from its beginning, beside the live one."""
        log_end = await self.log.offsets(TOPICS)
        async with self._runtime.sessions() as session, session.begin():
            await lock(session)
            for generation in await all_generations(session):
                if generation.status is Status.BUILDING:
                    raise Conflict(
                        f"generation {generation.number} is already being rebuilt",
                        rule="rebuild_in_progress",
                        generation=generation.number,
                    )
            generation = await create_generation(session, Status.BUILDING, log_end)
        self._wake.set()
        return generation

    async def generations(self) -> list[Generation]:
        async with self._runtime.sessions() as session:
            return await all_generations(session)

    async def progress(self) -> list[PartitionProgress]:
        """Per active generation, projection and partition: applied, log end, lag."""
        active = [g for g in await self.generations() if g.status is not Status.RETIRED]
        names = [name for g in active for name in consumer_names(g.number)]
        async with self._runtime.sessions() as session:
            rows = await offsets.stored(session, names)
            stored = {(r.consumer, r.topic, r.partition): r for r in rows}
        log_now = await self.log.offsets(TOPICS)
        progress = []
        for generation in active:
            for projection in PROJECTIONS:
                name = projection.consumer_name(generation.number)
                for topic in projection.topics:
                    for partition, (begin, end) in log_now.get(topic, {}).items():
                        row = stored.get((name, topic, partition))
                        position = row.next_offset if row else begin
                        progress.append(
                            PartitionProgress(
                                projection=projection.name,
                                generation=generation.number,
                                status=generation.status,
                                topic=topic,
                                partition=partition,
                                next_offset=row.next_offset if row else None,
                                log_end=end,
                                lag=max(end - position, 0),
                                last_event_time=row.last_event_time if row else None,
                            )
                        )
        return progress

    async def reconcile(self) -> None:
        generations = await self.generations()
        active = {g.number: g for g in generations if g.status is not Status.RETIRED}
        for number in [n for n in self._running if n not in active]:
            await self._stop(number)
        for number, generation in active.items():
            if number not in self._running:
                await self._start(generation)
        live = next((g for g in active.values() if g.status is Status.LIVE), None)
        building = next((g for g in active.values() if g.status is Status.BUILDING), None)
        metrics.PROJECTION_REBUILD_STARTED.labels(self._runtime.service).set(
            building.started_at.timestamp() if building is not None else 0
        )
        if building is not None and await self._switch_when_ready(building, live):
            log.info("reporting: generation %d is live", building.number)
            self._wake.set()  # stop the retired generation's consumers now
        await self._drop_expired([g for g in generations if g.status is Status.RETIRED])
        if live is not None:
            await self._record_freshness(live)

    async def freshness(self, live: Generation | None = None) -> dict[str, Freshness]:
        """Per live projection: the event time of the last event it applied, and its age."""
        if live is None:
            live = next((g for g in await self.generations() if g.status is Status.LIVE), None)
            if live is None:
                return {}
        async with self._runtime.sessions() as session:
            found = await offsets.latest_event_times(session, consumer_names(live.number))
        fresh = {}
        for projection in PROJECTIONS:
            latest = found.get(projection.consumer_name(live.number))
            if latest is not None:
                fresh[projection.name] = Freshness(*latest)
        return fresh

    async def _record_freshness(self, live: Generation) -> None:
        """Seconds since the event time of the last event each live projection applied."""
        for name, fresh in (await self.freshness(live)).items():
            gauge = metrics.PROJECTION_FRESHNESS.labels(self._runtime.service, name)
            gauge.set(fresh.age_seconds)

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            self._wake.clear()
            try:
                await self.reconcile()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log_failure(log, "reporting: reconciling the projections failed; retrying", error)
                # unknown while the offsets cannot be read: a stale age would look fresh
                for projection in PROJECTIONS:
                    metrics.PROJECTION_FRESHNESS.labels(self._runtime.service, projection.name).set(
                        math.nan
                    )

    async def _ensure_live(self) -> None:
        async with self._runtime.sessions() as session, session.begin():
            await lock(session)
            if not await all_generations(session):
                await create_generation(session, Status.LIVE, {})

    async def _start(self, generation: Generation) -> None:
        running = _Running()
        group = self._runtime.settings.group_id
        try:
            async with self._runtime.sessions() as session, session.begin():
                await lock(session)
                await complete_projection_tables(session, generation.schema)
            for projection, subscription in subscriptions(generation.number, generation.schema):
                consumer = self._runtime.consumer(
                    subscription,
                    group_id=f"{group}.{projection.name}.g{generation.number}.{generation.token}",
                )
                await consumer.start()
                running.consumers.append(consumer)
                running.tasks.append(
                    asyncio.create_task(self._run(consumer), name=f"reporting:{consumer.name}")
                )
        except BaseException:
            await _halt(running)  # all or nothing: the next reconcile starts them again
            raise
        self._running[generation.number] = running

    async def _stop(self, number: int) -> None:
        await _halt(self._running.pop(number))

    async def _run(self, consumer: IdempotentConsumer) -> None:
        while True:
            try:
                await consumer.run_forever()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reporting: consumer %s crashed; restarting", consumer.name)
                await asyncio.sleep(1)

    async def _switch_when_ready(self, building: Generation, live: Generation | None) -> bool:
        async with self._runtime.sessions() as session, session.begin():
            await lock(session)
            statuses = {g.number: g.status for g in await all_generations(session)}
            if statuses.get(building.number) is not Status.BUILDING:
                return False  # another instance switched it already
            rebuilt = await _offsets(session, building.number)
            if not _reached(rebuilt, building.log_end):
                return False
            current: Offsets = {}
            if live is not None:
                await freeze(session, live.schema)
                current = await _offsets(session, live.number)
            if any(rebuilt.get(key, 0) < offset for key, offset in current.items()):
                return False
            await promote(session, building, live)
            return True

    async def _drop_expired(self, retired: list[Generation]) -> None:
        """Drop retired tables once no query can still be reading them."""
        horizon = datetime.now(UTC) - self._retired_grace
        for generation in retired:
            if generation.retired_at is None or generation.retired_at > horizon:
                continue
            async with self._runtime.sessions() as session, session.begin():
                await lock(session)
                await drop_generation(session, generation, consumer_names(generation.number))


async def _halt(running: _Running) -> None:
    for task in running.tasks:
        task.cancel()
    for task in running.tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    for consumer in running.consumers:
        await consumer.stop()


async def _offsets(session: AsyncSession, generation: int) -> Offsets:
    projection_of = {p.consumer_name(generation): p.name for p in PROJECTIONS}
    rows = await offsets.stored(session, list(projection_of))
    return {(projection_of[r.consumer], r.topic, r.partition): r.next_offset for r in rows}


def _reached(applied: Offsets, log_end: LogEnd) -> bool:
    for projection in PROJECTIONS:
        for topic in projection.topics:
            for partition, (begin, end) in log_end.get(topic, {}).items():
                if end > begin and applied.get((projection.name, topic, partition), 0) < end:
                    return False
    return True
