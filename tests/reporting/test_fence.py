"""A batch that two processes apply at once (a partition that changed hands mid-batch) is
counted once: the second transaction waits for the first, then skips what it applied."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from etalase_platform.consumer import Delivery, Projector
from etalase_platform.db import SessionFactory
from etalase_reporting.projection.compliance import ComplianceProjector
from etalase_reporting.projection.fence import FencedProjector
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


async def _store_offsets(session: AsyncSession, batch: Sequence[Delivery]) -> None:
    """What the consumer does at the end of the batch's transaction."""
    await session.execute(
        text(
            "INSERT INTO consumer_offsets (consumer, topic, partition, next_offset)"
            " VALUES (:consumer, :topic, 0, :next) ON CONFLICT (consumer, topic, partition)"
            " DO UPDATE SET next_offset = greatest(consumer_offsets.next_offset,"
            " excluded.next_offset)"
        ),
        {"consumer": CONSUMER, "topic": batch[0].topic, "next": batch[-1].offset + 1},
    )


async def _apply(sessions: SessionFactory, projector: Projector, batch: list[Delivery]) -> None:
    async with sessions() as session, session.begin():
        await projector.apply(session, batch)
        await _store_offsets(session, batch)


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
    projector = FencedProjector(ComplianceProjector("reporting_g1"), CONSUMER)
    await _reset(projection_sessions)
    await _apply(projection_sessions, projector, batch)
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
        async with projection_sessions() as first, first.begin():
            await projector.apply(first, batch)
            await _store_offsets(first, batch)
            # the new owner reads the same records while the old owner's batch is uncommitted
            second = asyncio.create_task(_apply(projection_sessions, projector, batch))
            await asyncio.sleep(0.5)
        await second
        assert await _deltas(projection_sessions) == once
