"""`create_app`: the reporting service wired together."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from etalase_events.asyncapi import asyncapi_document
from etalase_events.topics import ALL_TOPICS
from etalase_platform.http import create_app as create_service_app
from etalase_platform.runtime import ServiceRuntime
from fastapi import FastAPI

from etalase_reporting.api import router
from etalase_reporting.dashboard.routes import router as dashboard_router
from etalase_reporting.ocds_api import router as ocds_router
from etalase_reporting.settings import Settings
from etalase_reporting.supervisor import ProjectionSupervisor
from etalase_reporting.workers import ProjectionWorkers, worker_count

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


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


def _asyncapi() -> dict[str, Any]:
    return asyncapi_document(
        service="reporting",
        title="Etalase reporting",
        publishes=[],
        subscribes=list(ALL_TOPICS),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    runtime = ReportingRuntime(
        settings=settings or Settings(), migrations_dir=MIGRATIONS, run_relay=False
    )
    return create_service_app(
        title="Etalase reporting",
        runtime=runtime,
        routers=[router, ocds_router, dashboard_router],
        asyncapi=_asyncapi,
    )
