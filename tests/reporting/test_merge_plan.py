"""A catch-up into a new generation's empty tables finds each batch's facts by key from the
start, not only once autovacuum has analysed the tables: the merge of a batch of at least
`PLANNED_FROM_ORDERS` orders is planned for it. Kept from the first batch, the plan scanned every
fact for every batch, so a rebuild slowed with each batch (340 ms a batch at 50 batches, against
25 ms once analysed)."""

from datetime import UTC, datetime

import pytest
from etalase_platform.db import create_engine, session_factory
from etalase_reporting.projection.compliance import PLANNED_FROM_ORDERS, ComplianceProjector
from sqlalchemy import text

from tests.helpers import DatabaseFactory, eventually
from tests.reporting.support import deliveries, line, placed, projection_engine

pytestmark = pytest.mark.infra

BATCHES, ORDERS_PER_BATCH = 30, 700
_STATISTICS = text(
    "SELECT n_tup_ins, seq_scan FROM pg_stat_user_tables"
    " WHERE schemaname = 'reporting_g1' AND relname = 'order_facts'"
)


async def test_a_catch_up_into_empty_tables_finds_facts_by_key(
    new_database: DatabaseFactory,
) -> None:
    url = await new_database("merge_plan")
    engine = await projection_engine(url, pool_size=1)
    sessions = session_factory(engine)
    assert ORDERS_PER_BATCH >= PLANNED_FROM_ORDERS  # the catch-up's batches, not live traffic's
    async with engine.begin() as connection:
        # an ANALYZE during the test would replan a kept plan too: this test is about the time
        # before autovacuum's first one
        for table in ("order_facts", "compliance_deltas"):
            await connection.execute(
                text(f"ALTER TABLE reporting_g1.{table} SET (autovacuum_enabled = off)")
            )
    projector = ComplianceProjector("reporting_g1")
    at = datetime(2041, 3, 1, tzinfo=UTC)
    for batch in range(BATCHES):
        orders = [
            placed(f"o-{batch}-{n}", 2041, "33.75.1", "33.75", [line(1, 500)], at)
            for n in range(ORDERS_PER_BATCH)
        ]
        async with sessions() as session, session.begin():
            await projector.apply(session, deliveries(orders))
    async with sessions() as session:
        counted = (
            await session.execute(
                text("SELECT sum(p_orders), sum(p_total_idr) FROM reporting_g1.compliance_deltas")
            )
        ).one()
    assert tuple(counted) == (BATCHES * ORDERS_PER_BATCH, BATCHES * ORDERS_PER_BATCH * 500)
    # a backend reports its table statistics when it ends
    await engine.dispose()

    reader = create_engine(url)
    seq_scans: list[int] = []

    async def reported() -> bool:
        async with reader.connect() as connection:
            inserted, scans = (await connection.execute(_STATISTICS)).one()
        seq_scans[:] = [scans]
        return bool(inserted == BATCHES * ORDERS_PER_BATCH)

    try:
        await eventually(reported, timeout=15)
    finally:
        await reader.dispose()
    # the first batches find a table of a few pages, which a scan reads fastest
    assert seq_scans[0] <= BATCHES // 3, f"{seq_scans[0]} scans of order_facts, {BATCHES} batches"
