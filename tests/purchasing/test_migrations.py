"""Migration 0002 backfills each budget's committed spend from the orders already placed."""

import asyncio

import asyncpg
import pytest
from alembic import command
from etalase_platform.db import alembic_config
from etalase_purchasing.bootstrap import MIGRATIONS

from tests.helpers import DatabaseFactory

pytestmark = pytest.mark.infra


def _libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_committed_spend_is_backfilled_from_orders_not_cancelled(
    new_database: DatabaseFactory,
) -> None:
    url = await new_database("purchasing-migration")
    config = alembic_config(MIGRATIONS, url)
    await asyncio.to_thread(command.upgrade, config, "0001")
    connection = await asyncpg.connect(_libpq(url))
    try:
        await connection.execute(
            "INSERT INTO budgets (fiscal_year, opd_code, opd_name, region_code, pagu_idr, version,"
            " allocated_at) VALUES (2026, '33.75.1.02', 'Dinas', '33.75', 1000000, 1, now()),"
            " (2026, '33.75.1.03', 'Dinas', '33.75', 1000000, 1, now())"
        )
        for number, (opd, total, status) in enumerate(
            [
                ("33.75.1.02", 100, "placed"),
                ("33.75.1.02", 200, "accepted"),
                ("33.75.1.02", 400, "completed"),
                ("33.75.1.02", 800, "cancelled"),
            ]
        ):
            await connection.execute(
                "INSERT INTO orders (order_id, opd_code, region_code, fiscal_year, vendor_id,"
                " vendor_scale, vendor_legal_form, vendor_region_code, lines, total_idr, status,"
                " version, placed_at) VALUES ($1, $2, '33.75', 2026, 'v', 'kecil', 'cv', '33.75',"
                " '[]', $3, $4, 1, now())",
                f"o-{number}",
                opd,
                total,
                status,
            )
        await asyncio.to_thread(command.upgrade, config, "head")
        rows = await connection.fetch("SELECT opd_code, committed_idr FROM budgets ORDER BY 1")
    finally:
        await connection.close()
    assert [(row["opd_code"], row["committed_idr"]) for row in rows] == [
        ("33.75.1.02", 700),
        ("33.75.1.03", 0),
    ]
