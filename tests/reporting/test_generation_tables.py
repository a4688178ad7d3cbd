"""The reporting tables as PostgreSQL sees them against their declarations in `tables`.

`generation_schema.json` is the catalog of a generation created by the hand-written DDL the
tables were declared from, so a declaration that drifts from it (a type, a default, an index)
fails here; a deliberate change of the tables updates the snapshot (ETALASE_UPDATE_SNAPSHOT=1)
and needs a rebuild when deployed.
"""

import json
import os
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from etalase_platform.db import SessionFactory, create_engine, upgrade_to_head
from etalase_platform.migrations import compared_metadata
from etalase_reporting.bootstrap import MIGRATIONS
from etalase_reporting.tables import REGISTRY
from sqlalchemy import text
from sqlalchemy.engine import Connection

from tests.helpers import DatabaseFactory

pytestmark = pytest.mark.infra

SNAPSHOT = Path(__file__).with_name("generation_schema.json")


async def catalog(sessions: SessionFactory, schema: str) -> dict[str, Any]:
    """The tables of `schema` with the schema's name taken out of every definition."""
    async with sessions() as session:
        columns = await session.execute(
            text(
                "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text,"
                " column_default::text, numeric_precision::int, numeric_scale::int"
                " FROM information_schema.columns WHERE table_schema = :schema"
                " ORDER BY table_name, ordinal_position"
            ),
            {"schema": schema},
        )
        constraints = await session.execute(
            text(
                "SELECT conrelid::regclass::text AS tbl, contype::text,"
                " pg_get_constraintdef(oid) AS definition"
                " FROM pg_constraint WHERE connamespace = CAST(:schema AS regnamespace)"
                " ORDER BY 1, 2, 3"
            ),
            {"schema": schema},
        )
        indexes = await session.execute(
            text(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = :schema"
                " ORDER BY tablename, indexname"
            ),
            {"schema": schema},
        )
        tables: dict[str, Any] = {}
        for row in columns:
            table = tables.setdefault(row.table_name, {"columns": [], "constraints": []})
            table["columns"].append(
                [
                    row.column_name,
                    row.data_type,
                    row.is_nullable,
                    row.column_default,
                    row.numeric_precision,
                    row.numeric_scale,
                ]
            )
        for row in constraints:
            name = row.tbl.removeprefix(f"{schema}.")
            tables[name]["constraints"].append([row.contype, row.definition])
        index_list = [
            [row.tablename, row.indexname, row.indexdef.replace(f"{schema}.", "<schema>.")]
            for row in indexes
        ]
    return {"tables": tables, "indexes": index_list}


async def test_a_generation_has_the_tables_of_the_snapshot(
    projection_sessions: SessionFactory,
) -> None:
    found = await catalog(projection_sessions, "reporting_g1")
    if os.environ.get("ETALASE_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(found, indent=1) + "\n")
    assert found == json.loads(SNAPSHOT.read_text())


async def test_the_migrations_build_the_declared_registry(new_database: DatabaseFactory) -> None:
    """projection_generations (and the platform's tables) as `tables.REGISTRY` declares them."""
    url = await new_database("reporting_registry")
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(url, pool_size=1)

    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection)
        # alembic compares a list of MetaData (as env.py's compared_metadata), its stub says one
        return list(compare_metadata(context, compared_metadata(REGISTRY)))  # type: ignore[arg-type]

    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()
