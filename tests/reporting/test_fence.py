"""A batch that two processes apply at once (a partition that changed hands mid-batch) is
counted once by a consumer without an inbox: the platform's store makes the second transaction
wait for the first, then skip what it applied."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from etalase_platform.consumer import Delivery, Projector
from etalase_platform.db import SessionFactory
from etalase_platform.store import ConsumerStore
from etalase_reporting.projection.compliance import ComplianceProjector
from opentelemetry import trace
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.reporting.support import (
    accepted,
    completed,
    deliveries,
    line,
    placed,
    reset_projection,
)

pytestmark = pytest.mark.infra

CONSUMER = "compliance.g1"
AT = datetime(2041, 3, 1, 2, tzinfo=UTC)


def _batch() -> list[Delivery]:
    events = []
    for number in range(5):
        order_id = f"fence-{number}"
        events += [
            placed(order_id, 2041, "33.75.1", "33.75", [line(1, 1000 + number)], AT),
            accepted(order_id, AT + timedelta(hours=1)),
            completed(order_id, AT + timedelta(days=1)),
        ]
    return deliveries(events, topic="etalase.purchasing.orders")


class _HeldOpen:
    """The projector, then a wait before the transaction goes on to commit."""

    def __init__(self, projector: Projector) -> None:
        self._projector = projector
        self.applied = asyncio.Event()
        self.release = asyncio.Event()

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        await self._projector.apply(session, deliveries)
        self.applied.set()
        await self.release.wait()


def _store(sessions: SessionFactory, projector: Projector) -> ConsumerStore:
    """The store of a consumer without an inbox, as the compliance projection has."""
    return ConsumerStore(
        sessions,
        projector,
        trace.get_tracer("test"),
        consumer=CONSUMER,
        service="reporting",
        keeps_inbox=False,
    )


def _next_offsets(batch: Sequence[Delivery]) -> dict[tuple[str, int], int]:
    return {(batch[0].topic, 0): batch[-1].offset + 1}


async def _deltas(sessions: SessionFactory) -> list[Any]:
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT day, activity, p_orders, p_total_idr, r_orders, r_total_idr"
                " FROM reporting_g1.compliance_deltas ORDER BY day"
            )
        )
        return [tuple(row) for row in rows]


async def _reset(sessions: SessionFactory) -> None:
    await reset_projection(sessions)
    async with sessions() as session, session.begin():
        await session.execute(
            text("DELETE FROM consumer_offsets WHERE consumer = :c"), {"c": CONSUMER}
        )


async def test_a_batch_applied_by_two_transactions_at_once_counts_once(
    projection_sessions: SessionFactory,
) -> None:
    batch = _batch()
    await _reset(projection_sessions)
    await _store(projection_sessions, ComplianceProjector("reporting_g1")).apply(
        batch, _next_offsets(batch)
    )
    once = await _deltas(projection_sessions)
    assert once and sum(row[2] for row in once) == 5  # five orders placed

    for stored_before in (False, True):  # the partition's first batch, and a later one
        await _reset(projection_sessions)
        if stored_before:
            async with projection_sessions() as session, session.begin():
                await session.execute(
                    text(
                        "INSERT INTO consumer_offsets (consumer, topic, partition, next_offset)"
                        " VALUES (:c, :t, 0, 0)"
                    ),
                    {"c": CONSUMER, "t": batch[0].topic},
                )
        old_owner = _HeldOpen(ComplianceProjector("reporting_g1"))
        first = asyncio.create_task(
            _store(projection_sessions, old_owner).apply(batch, _next_offsets(batch))
        )
        await old_owner.applied.wait()
        # the new owner reads the same records while the old owner's batch is uncommitted
        new_owner = _store(projection_sessions, ComplianceProjector("reporting_g1"))
        second = asyncio.create_task(new_owner.apply(batch, _next_offsets(batch)))
        await asyncio.sleep(0.5)
        assert not second.done()  # it waits for the old owner's transaction
        old_owner.release.set()
        await first
        await second
        assert await _deltas(projection_sessions) == once
