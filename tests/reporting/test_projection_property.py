"""Property: whatever the order of arrival, and however often each event is delivered, the
projection's figures equal an independent recomputation from the same events, now and as of any
day. Runs the real projector against a real database, batch by batch, one transaction each."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from etalase_events.models import Catalog, LegalForm, Scale
from etalase_platform.auth import Principal, Role
from etalase_platform.consumer import EventRejected
from etalase_platform.db import SessionFactory
from etalase_reporting import service
from etalase_reporting.domain import default_targets
from etalase_reporting.projection.compliance import ComplianceProjector
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reporting import oracle
from tests.reporting.support import (
    Sent,
    accepted,
    budget,
    cancelled,
    completed,
    deliveries,
    line,
    placed,
    reset_projection,
)

pytestmark = pytest.mark.infra

FISCAL_YEAR = 2030
OPDS = [
    ("71.71.1.01", "71.71"),
    ("71.71.2.02", "71.71"),
    ("71.02.1.01", "71.02"),
    ("71.1.01", "71"),  # a province government's own OPD
]
# 12:00 UTC is 19:00 WIB: offsets of a few hours cross the WIB day boundary (17:00 UTC)
START = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
AUDITOR = Principal(sub="auditor:test", role=Role.AUDITOR)

moments = st.integers(0, 4 * 24 * 60).map(lambda minutes: START + timedelta(minutes=minutes))
later = st.integers(0, 2 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes))


@st.composite
def order_lines(draw: st.DrawFn) -> list[Any]:
    count = draw(st.integers(1, 3))
    return [
        line(
            number,
            draw(st.integers(1, 900) | st.sampled_from([5_000_000_000, 15_000_000_000])),
            draw(st.sampled_from(list(Catalog))),
            domestic=draw(st.booleans()),
            tkdn=draw(st.sampled_from([None, "0", "24.99", "25", "30.5"])),
            bmp=draw(st.sampled_from([None, "0", "10", "14.99", "15"])),
            alternative=draw(st.booleans()),
        )
        for number in range(1, count + 1)
    ]


@st.composite
def order_events(draw: st.DrawFn, number: int) -> list[Sent]:
    order_id = f"order-{number}"
    opd_code, region_code = draw(st.sampled_from(OPDS))
    placed_at = draw(moments)
    events = [
        placed(
            order_id,
            FISCAL_YEAR,
            opd_code,
            region_code,
            draw(order_lines()),
            placed_at,
            scale=draw(st.sampled_from(list(Scale))),
            legal_form=draw(st.sampled_from([LegalForm.CV, LegalForm.PT, LegalForm.KOPERASI])),
            vendor_region_code=draw(st.sampled_from(["71.71", "71.02"])),
        )
    ]
    moment, sequence = placed_at, 2
    if draw(st.booleans()):
        moment += draw(later)
        events.append(accepted(order_id, moment, sequence))
        sequence += 1
    ending = draw(st.sampled_from(["open", "completed", "cancelled"]))
    if ending == "completed":
        events.append(completed(order_id, moment + draw(later), sequence))
    elif ending == "cancelled":
        events.append(cancelled(order_id, moment + draw(later), sequence))
    return events


@st.composite
def budget_events(draw: st.DrawFn) -> list[Sent]:
    events = []
    for opd_code, region_code in OPDS:
        for sequence in range(1, draw(st.integers(0, 2)) + 1):
            # 800 and 1600 make ties at the third decimal (1/800 = 0.125 %): rounding shows
            pagu = draw(st.integers(0, 3_000) | st.sampled_from([800, 1_600, 10**12]))
            events.append(budget(FISCAL_YEAR, opd_code, region_code, pagu, draw(moments), sequence))
    return events


@st.composite
def histories(draw: st.DrawFn) -> list[Sent]:
    orders = [e for n in range(draw(st.integers(0, 8))) for e in draw(order_events(n))]
    return draw(budget_events()) + orders


@st.composite
def arrivals(draw: st.DrawFn, events: list[Sent]) -> list[list[Sent]]:
    """The events with some redelivered, in any order across topics, cut into batches."""
    repeated = draw(st.lists(st.sampled_from(events), max_size=10)) if events else []
    stream = draw(st.permutations(events + repeated))
    batches, start = [], 0
    while start < len(stream):
        size = draw(st.integers(1, 12))
        batches.append(stream[start : start + size])
        start += size
    return batches


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_figures_equal_an_independent_recomputation(
    projection_sessions: SessionFactory, data: st.DataObject
) -> None:
    sessions = projection_sessions
    events = data.draw(histories())
    batches = data.draw(arrivals(events))
    days = data.draw(
        st.lists(st.dates(date(2030, 2, 28), date(2030, 3, 8)), min_size=2, max_size=3)
    )
    await reset_projection(sessions)
    projector = ComplianceProjector("reporting_g1")
    for batch in batches:
        async with sessions() as session, session.begin():
            await projector.apply(session, deliveries(batch))

    targets = default_targets()
    for as_of in [None, *days]:
        report = await service.opd_report(sessions, AUDITOR, targets, FISCAL_YEAR, None, as_of)
        assert report.model_dump(mode="json")["items"] == oracle.opd_report(
            events, FISCAL_YEAR, as_of
        ), f"as_of={as_of}"
        regions = await service.region_report(sessions, AUDITOR, targets, FISCAL_YEAR, None, as_of)
        body = regions.model_dump(mode="json")
        assert (body["items"], body["provinces"]) == oracle.region_report(
            events, FISCAL_YEAR, as_of
        ), f"as_of={as_of}"


async def test_an_amount_that_cannot_be_summed_is_rejected(
    projection_sessions: SessionFactory,
) -> None:
    """Rejected, so that the consumer dead-letters it instead of retrying it forever."""
    sessions = projection_sessions
    await reset_projection(sessions)
    poison = budget(FISCAL_YEAR, "71.71.1.01", "71.71", 10**20, START)
    with pytest.raises(EventRejected):
        async with sessions() as session, session.begin():
            await ComplianceProjector("reporting_g1").apply(session, deliveries([poison]))
