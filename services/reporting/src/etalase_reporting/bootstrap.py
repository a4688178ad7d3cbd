"""Reporting as the platform runs it: its routes, the topics it consumes and its own runtime,
whose projection supervisor runs the consumers."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from etalase_events.topics import ALL_TOPICS
from etalase_platform import definition
from etalase_platform.runtime import ServiceRuntime
from fastapi import FastAPI

from etalase_reporting.api import router
from etalase_reporting.dashboard.routes import router as dashboard_router
from etalase_reporting.ocds.routes import router as ocds_router
from etalase_reporting.rebuild.supervisor import ProjectionSupervisor
from etalase_reporting.settings import Settings
from etalase_reporting.workers import ProjectionWorkers, worker_count

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
GC_THRESHOLDS = (50_000, 20, 100)
"""A batch keeps thousands of decoded events alive until it commits, and aiokafka holds the
prefetched records: with CPython's default thresholds (700, 10, 10) the cyclic collector walks
them again and again, which cost more CPU than decoding and projecting the events (measured: 91
vs 35 µs per event). Young collections every 50,000 allocations instead of 700 keep memory flat
(batches are freed by reference counting) and the projection 2.5x faster."""


@dataclass
class ReportingRuntime(ServiceRuntime):
    """The platform runtime plus the projection supervisor, whose consumers change with the
    generations (a rebuild adds some, a switch retires others), hence not fixed subscriptions."""

    supervisor: ProjectionSupervisor = field(init=False)
    workers: ProjectionWorkers | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        super().__post_init__()
        assert isinstance(self.settings, Settings)
        self.supervisor = ProjectionSupervisor(self, poll_seconds=self.settings.switch_poll_seconds)

    async def start(self, *, migrate: bool = True) -> None:
        await super().start(migrate=migrate)
        await self.supervisor.start()
        # projection workers (REPORTING_PROJECTION_PROCESSES), started once migrated
        assert isinstance(self.settings, Settings)
        count = await worker_count(self.settings, self.supervisor.log)
        if count > 0:
            self.workers = ProjectionWorkers(self.settings, count)
            await self.workers.start()

    async def stop(self) -> None:
        if self.workers is not None:
            await self.workers.stop()
        await self.supervisor.stop()
        await super().stop()

    async def details(self) -> dict[str, Any]:
        """Reporting serves its last projections whatever the broker does: how stale they are
        is the event time of the last event each applied (it stops moving in a broker outage,
        and the `kafka` dependency then says why)."""
        return {
            "projections": {
                name: {
                    "last_event_time": fresh.last_event_time.isoformat(),
                    "last_event_age_seconds": round(fresh.age_seconds, 3),
                }
                for name, fresh in (await self.supervisor.freshness()).items()
            }
        }


SERVICE = definition.ServiceDefinition(
    name="reporting",
    title="Etalase reporting",
    settings=Settings,
    migrations=MIGRATIONS,
    routers=[router, ocds_router, dashboard_router],
    subscribes=list(ALL_TOPICS),
    runtime=ReportingRuntime,
    gc_thresholds=GC_THRESHOLDS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return definition.create_app(SERVICE, settings)
