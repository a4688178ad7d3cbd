"""What every service runs besides its HTTP routes: the database, the producer, the outbox relay
and its consumers, started and stopped together by the app's lifespan."""

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy.ext.asyncio import AsyncEngine

from etalase_platform import metrics
from etalase_platform.consumer import IdempotentConsumer, purge_inbox
from etalase_platform.consumer import Subscription as Subscription  # declared with the consumer
from etalase_platform.db import (
    SessionFactory,
    create_engine,
    ping,
    session_factory,
    upgrade_to_head,
)
from etalase_platform.outages import KAFKA, POSTGRESQL, log_failure
from etalase_platform.outbox import OutboxRelay, backlog, kafka_producer, purge_published
from etalase_platform.settings import ServiceSettings
from etalase_platform.telemetry import setup_tracing, trace_statements

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 10.0
"""How long each step of a shutdown may take (well inside Kubernetes' 30 s grace period)."""
HEALTH_CHECK_TIMEOUT_SECONDS = 2.0
DEPENDENCY_POLL_SECONDS = 5.0


@dataclass(frozen=True)
class Health:
    problems: list[str]
    """What keeps the service from doing its job: not ready when any."""
    dependencies: dict[str, dict[str, Any]]
    details: dict[str, Any]

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": "unavailable" if self.problems else "ready"}
        if self.problems:
            body["problems"] = self.problems
        return {**body, "dependencies": self.dependencies, **self.details}


async def _check(probe: Awaitable[object]) -> str | None:
    """None when `probe` succeeds in time, else what went wrong."""
    try:
        await asyncio.wait_for(probe, HEALTH_CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return f"no answer within {HEALTH_CHECK_TIMEOUT_SECONDS:.0f}s"
    except Exception as error:
        return repr(error)
    return None


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    migrations_dir: Path
    subscriptions: Sequence[Subscription] = ()
    run_relay: bool = True
    engine: AsyncEngine = field(init=False)
    sessions: SessionFactory = field(init=False)
    producer: AIOKafkaProducer = field(init=False)
    consumers: list[IdempotentConsumer] = field(init=False, default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.engine = create_engine(self.settings.database_url)
        self.sessions = session_factory(self.engine)

    @property
    def service(self) -> str:
        return self.settings.service_name

    async def start(self, *, migrate: bool = True) -> None:
        setup_tracing(
            self.service,
            otlp_endpoint=self.settings.otlp_endpoint,
            trace_file=self.settings.trace_file,
            zipkin_endpoint=self.settings.zipkin_endpoint,
        )
        trace_statements(self.engine)
        if migrate:
            await upgrade_to_head(self.migrations_dir, self.settings.database_url)
        self.producer = kafka_producer(self.settings.kafka_bootstrap_servers, self.service)
        await self.producer.start()
        if self.run_relay:
            relay = OutboxRelay(
                self.engine,
                self.producer,
                service=self.service,
                batch_size=self.settings.relay_batch_size,
                idle_poll_seconds=self.settings.relay_idle_poll_seconds,
            )
            self._spawn(relay.run_forever, "outbox-relay")
            self._spawn(self._watch_outbox, "outbox-metrics")
        self._spawn(self._purge_history, "purge-history")
        self._spawn(self._watch_dependencies, "dependency-metrics")
        for subscription in self.subscriptions:
            consumer = self.consumer(subscription)
            await consumer.start()
            self.consumers.append(consumer)
            self._spawn(consumer.run_forever, f"consumer-{subscription.name}")

    def consumer(
        self, subscription: Subscription, *, group_id: str | None = None
    ) -> IdempotentConsumer:
        return IdempotentConsumer(
            name=subscription.name,
            service=self.service,
            topics=subscription.topics,
            projector=subscription.projector,
            sessions=self.sessions,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=group_id or f"{self.settings.group_id}.{subscription.name}",
            dlq_producer=self.producer,
            batch_size=self.settings.consumer_batch_size,
            inbox=subscription.inbox,
            fetch_max_bytes=self.settings.consumer_fetch_max_bytes,
            max_partition_fetch_bytes=self.settings.consumer_max_partition_fetch_bytes,
        )

    async def stop(self) -> None:
        """Every step bounded by `STOP_TIMEOUT_SECONDS`: a task that does not end when cancelled
        (a client library swallowing the cancel in its cleanup) is logged and left behind, so
        that a shutdown always finishes and says what hung, instead of hanging the process."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            ended, stuck = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT_SECONDS)
            for task in ended:  # their errors were logged by `_spawn`; collected, not raised
                task.cancelled() or task.exception()
            for task in stuck:
                log.error(
                    "%s did not stop within %s s; shutting down without it",
                    task.get_name(),
                    STOP_TIMEOUT_SECONDS,
                )
        self._tasks.clear()
        for consumer in self.consumers:
            try:
                await asyncio.wait_for(consumer.stop(), STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                log.error(
                    "%s: consumer %s did not stop within %s s; shutting down without it",
                    self.service,
                    consumer.name,
                    STOP_TIMEOUT_SECONDS,
                )
        self.consumers.clear()
        await self.producer.stop()
        await self.engine.dispose()

    async def health(self) -> "Health":
        """Each dependency's state, and whether the service can do its job (its database
        answers). The broker is reported but not required: writes go to the outbox, which the
        relay publishes when the broker is back, and reads come from the database."""
        with suppress_instrumentation():  # probes every few seconds: not worth a trace
            database, kafka = await asyncio.gather(
                _check(ping(self.engine)), _check(self.producer.client.fetch_all_metadata())
            )
        checks: dict[str, dict[str, Any]] = {
            POSTGRESQL: {"status": "up" if database is None else "down", "required": True},
            KAFKA: {"status": "up" if kafka is None else "down", "required": False},
        }
        for name, error in ((POSTGRESQL, database), (KAFKA, kafka)):
            metrics.DEPENDENCY_UP.labels(self.service, name).set(0 if error else 1)
            if error is not None:
                checks[name]["detail"] = error
        problems = [f"database: {database}"] if database is not None else []
        details: dict[str, Any] = {}
        if database is None:  # the details come from the database too
            try:
                details = await asyncio.wait_for(self.details(), HEALTH_CHECK_TIMEOUT_SECONDS)
            except Exception as error:
                log_failure(log, "%s: health details unavailable", error, self.service)
        return Health(problems=problems, dependencies=checks, details=details)

    async def details(self) -> dict[str, Any]:
        """What a service adds to its health report (reporting: how fresh its projections are)."""
        return {}

    def _spawn(self, work: Callable[[], "asyncio.Future[None] | object"], name: str) -> None:
        async def guarded() -> None:
            while True:
                try:
                    await work()  # type: ignore[misc]
                    return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("%s: %s crashed; restarting", self.service, name)
                    await asyncio.sleep(1)

        self._tasks.append(asyncio.create_task(guarded(), name=f"{self.service}:{name}"))

    async def _purge_history(self) -> None:
        """Keeps the outbox and the inbox from growing without end."""
        while True:
            with suppress_instrumentation():
                await purge_published(self.engine, hours=self.settings.outbox_retention_hours)
                await purge_inbox(self.engine, days=self.settings.inbox_retention_days)
            await asyncio.sleep(600)

    async def _watch_outbox(self) -> None:
        """The backlog gauges, or NaN (unknown) while the outbox cannot be read: a stale count
        during a database outage would look like a healthy, drained outbox."""
        while True:
            try:
                with suppress_instrumentation():
                    count, age = await asyncio.wait_for(
                        backlog(self.engine), HEALTH_CHECK_TIMEOUT_SECONDS
                    )
                metrics.OUTBOX_BACKLOG.labels(self.service).set(count)
                metrics.OUTBOX_OLDEST_AGE.labels(self.service).set(age)
                metrics.OUTBOX_BACKLOG_KNOWN.labels(self.service).set(1)
            except Exception as error:
                metrics.OUTBOX_BACKLOG.labels(self.service).set(math.nan)
                metrics.OUTBOX_OLDEST_AGE.labels(self.service).set(math.nan)
                metrics.OUTBOX_BACKLOG_KNOWN.labels(self.service).set(0)
                log_failure(log, "%s: the outbox backlog is unknown", error, self.service)
            await asyncio.sleep(1)

    async def _watch_dependencies(self) -> None:
        """Keeps `etalase_dependency_up` current when nothing probes the service."""
        while True:
            await self.health()
            await asyncio.sleep(DEPENDENCY_POLL_SECONDS)
