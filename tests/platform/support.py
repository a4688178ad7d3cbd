"""A minimal service for the plumbing tests: events on a test topic, effects in a table."""

from collections.abc import Sequence
from pathlib import Path

from etalase_events.models import VendorVerified
from etalase_platform.consumer import Delivery
from etalase_platform.db import session_factory, upgrade_to_head
from etalase_platform.outbox import OutboxRelay, enqueue
from etalase_platform.telemetry import setup_tracing
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.helpers import DatabaseFactory

MIGRATIONS = Path(__file__).parent / "migrations"


async def outbox_database(new_database: DatabaseFactory, label: str) -> str:
    """A new database with the platform's tables (the outbox among them); its URL."""
    url = await new_database(label)
    await upgrade_to_head(MIGRATIONS, url)
    return url


async def enqueue_verified(
    engine: AsyncEngine, events: Sequence[tuple[str, int]], topic: str
) -> None:
    """Writes a VendorVerified per (subject, sequence) to the outbox, in one transaction."""
    async with session_factory(engine)() as session, session.begin():
        for subject, sequence in events:
            await enqueue(
                session, verified(subject), source="t", subject=subject, sequence=sequence,
                topic=topic,
            )  # fmt: skip


async def relay_all(relay: OutboxRelay, rows: int) -> list[int]:
    """Runs the relay's rounds until `rows` rows are published; what each round published."""
    rounds: list[int] = []
    while sum(rounds) < rows:
        rounds.append(await relay.publish_batch())
        assert rounds[-1] > 0, "the relay left rows unpublished"
    return rounds


def recorded_spans() -> InMemorySpanExporter:
    """Tracing set up as in a service, with every span it ends also kept here for the test."""
    setup_tracing("tests", otlp_endpoint=None, trace_file=None)
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def verified(vendor_id: str) -> VendorVerified:
    from datetime import UTC, datetime

    return VendorVerified(vendor_id=vendor_id, verified_at=datetime.now(UTC))


class RecordEffects:
    """Writes one row per applied event; the tests count them to prove exactly-once."""

    def __init__(self, source: str) -> None:
        self.source = source

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        mine = [d for d in deliveries if d.decoded.attributes.source == self.source]
        if not mine:
            return
        await session.execute(
            text(
                "INSERT INTO effects (event_id, subject, sequence) SELECT * FROM"
                " unnest(CAST(:ids AS text[]), CAST(:subjects AS text[]), CAST(:seqs AS int[]))"
            ),
            {
                "ids": [d.event_id for d in mine],
                "subjects": [d.decoded.attributes.subject for d in mine],
                "seqs": [d.sequence for d in mine],
            },
        )
