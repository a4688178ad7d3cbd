"""What one order contributes to which WIB day, through the projector into a real database."""

from datetime import UTC, date, datetime

import pytest
from etalase_platform.db import SessionFactory
from etalase_reporting.projection.compliance import ComplianceProjector
from sqlalchemy import text

from tests.reporting.support import (
    Sent,
    cancelled,
    completed,
    deliveries,
    line,
    placed,
    reset_projection,
)

pytestmark = pytest.mark.infra

OPD = ("33.75.1", "33.75")


async def _project(sessions: SessionFactory, *batches: list[Sent]) -> dict[date, tuple[int, ...]]:
    """Apply the batches (one transaction each) to empty tables; (activity, p_orders,
    p_total_idr, r_orders, r_total_idr) by day, leaving out days whose changes cancel out."""
    await reset_projection(sessions)
    projector = ComplianceProjector("reporting_g1")
    for batch in batches:
        async with sessions() as session, session.begin():
            await projector.apply(session, deliveries(batch))
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT day, activity, p_orders, p_total_idr, r_orders, r_total_idr"
                " FROM reporting_g1.compliance_deltas ORDER BY day"
            )
        )
        return {row[0]: tuple(row[1:]) for row in rows if any(row[1:])}


def _order(at: datetime) -> Sent:
    return placed("o-1", 2041, *OPD, [line(1, 500)], at)


async def test_a_cancelled_order_counts_as_placed_until_its_cancellation_day(
    projection_sessions: SessionFactory,
) -> None:
    order = _order(datetime(2041, 3, 1, tzinfo=UTC))
    cancel = cancelled("o-1", datetime(2041, 3, 4, tzinfo=UTC))
    assert await _project(projection_sessions, [order, cancel]) == {
        date(2041, 3, 1): (1, 1, 500, 0, 0),
        date(2041, 3, 4): (1, -1, -500, 0, 0),
    }


async def test_days_are_wib_days(projection_sessions: SessionFactory) -> None:
    # 17:00 UTC is midnight in Jakarta
    order = _order(datetime(2041, 3, 1, 16, 59, tzinfo=UTC))
    done = completed("o-1", datetime(2041, 3, 1, 17, 0, tzinfo=UTC))
    assert await _project(projection_sessions, [order], [done]) == {
        date(2041, 3, 1): (1, 1, 500, 0, 0),
        date(2041, 3, 2): (1, 0, 0, 1, 500),
    }


async def test_arrival_order_and_repetition_change_nothing(
    projection_sessions: SessionFactory,
) -> None:
    order = _order(datetime(2041, 3, 1, tzinfo=UTC))
    done = completed("o-1", datetime(2041, 3, 2, tzinfo=UTC))
    forward = await _project(projection_sessions, [order, done])
    assert await _project(projection_sessions, [done], [order, done], [order]) == forward
    assert await _project(projection_sessions, [done, order, done, order]) == forward


async def test_nothing_counts_before_the_order_is_placed(
    projection_sessions: SessionFactory,
) -> None:
    done = completed("o-1", datetime(2041, 3, 2, tzinfo=UTC))
    assert await _project(projection_sessions, [done]) == {}


async def test_the_earliest_placed_event_wins_whichever_arrives_first(
    projection_sessions: SessionFactory,
) -> None:
    """Two OrderPlaced for one order (a producer's retry with a new id): the lower sequence
    counts, and on a tie the lower event id — as in the provenance the figures cite."""
    first = placed("o-1", 2041, *OPD, [line(1, 500)], datetime(2041, 3, 1, tzinfo=UTC))
    retry = placed("o-1", 2041, *OPD, [line(1, 900)], datetime(2041, 3, 3, tzinfo=UTC))
    lower, higher = sorted([first, retry], key=lambda sent: sent.event_id)
    expected = await _project(projection_sessions, [lower])
    assert expected != await _project(projection_sessions, [higher])
    for arrival in ([higher], [lower]), ([lower], [higher]), ([higher, lower],), ([lower, higher],):
        assert await _project(projection_sessions, *arrival) == expected, arrival
