"""`make lint`'s drift check: each service's models agree with its migrations, and a model that
no longer matches them (a column, an index, a type, a CHECK constraint) fails the check, naming
what differs."""

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from etalase_catalog.bootstrap import MIGRATIONS as CATALOG
from etalase_catalog.db import CatalogTable
from etalase_platform import drift
from etalase_platform import tables as platform_tables
from etalase_platform.migrations import compared_metadata
from etalase_purchasing.bootstrap import MIGRATIONS as PURCHASING
from etalase_registration.bootstrap import MIGRATIONS as REGISTRATION
from sqlalchemy import CheckConstraint, Column, Index, Integer, MetaData, Text, text

from tests.helpers import DatabaseFactory, Infra

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
DRIFTED_ENV = """\
from etalase_catalog.db import CatalogTable
from etalase_events.models import Scale
from etalase_platform.migrations import run_migrations
from etalase_platform.models import TextEnum
from sqlalchemy import Column, MetaData, Text

drifted = MetaData()
for table in CatalogTable.metadata.tables.values():
    table.to_metadata(drifted)
drifted.tables["vendors"].append_column(Column("drifted", Text))
drifted.tables["vendors"].append_column(Column("drifted_scale", TextEnum(Scale)))
run_migrations(drifted)
"""


def _lint(*arguments: Path | str, server: str) -> subprocess.CompletedProcess[str]:
    """The command `make lint` runs."""
    return subprocess.run(
        [sys.executable, "-m", "etalase_platform.drift", *map(str, arguments)],
        env={**os.environ, "ETALASE_POSTGRES_URL": server},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


async def test_every_command_service_s_models_agree_with_its_migrations(infra: Infra) -> None:
    checked = await asyncio.to_thread(
        _lint, CATALOG, REGISTRATION, PURCHASING, server=infra.postgres
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.count("models and migrations agree") == 3


async def test_a_column_added_to_the_models_only_fails_the_check(
    infra: Infra, tmp_path: Path
) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(CATALOG / "versions", migrations / "versions")
    (migrations / "env.py").write_text(DRIFTED_ENV)
    checked = await asyncio.to_thread(_lint, migrations, server=infra.postgres)
    assert checked.returncode == 1, checked.stdout
    assert "models and migrations differ" in checked.stderr
    assert "add_column vendors.drifted TEXT" in checked.stderr


async def test_a_migration_drafted_from_the_drifted_models_makes_them_agree_again(
    infra: Infra, tmp_path: Path
) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(CATALOG / "versions", migrations / "versions")
    (migrations / "env.py").write_text(DRIFTED_ENV)
    shutil.copy(CATALOG / "script.py.mako", migrations)
    drafted = await asyncio.to_thread(
        _lint, "--revision", "vendors drift", migrations, server=infra.postgres
    )
    assert drafted.returncode == 0, drafted.stderr
    written = (migrations / "versions" / "0003_vendors_drift.py").read_text()
    assert "down_revision = '0002'" in written
    assert "op.add_column('vendors', sa.Column('drifted', sa.Text()" in written
    assert "op.add_column('vendors', sa.Column('drifted_scale', sa.Text()" in written
    assert "etalase" not in written.split('"""', 2)[2]  # states its types in SQLAlchemy's own
    checked = await asyncio.to_thread(_lint, migrations, server=infra.postgres)
    assert checked.returncode == 0, checked.stderr


async def test_a_column_an_index_a_type_and_a_check_the_migrations_lack_are_each_reported(
    new_database: DatabaseFactory,
) -> None:
    url = await new_database("drift")
    await drift.upgrade(CATALOG, url)
    assert await drift.differences(url, compared_metadata(CatalogTable.metadata)) == []

    drifted = MetaData()
    for table in CatalogTable.metadata.tables.values():
        table.to_metadata(drifted)
    products = drifted.tables["products"]
    products.append_column(Column("colour", Text))
    Index("products_name", products.c.name)
    products.append_constraint(CheckConstraint("unit <> ''", name="products_unit_given"))
    products.c.version.type = Text()  # Integer in the migrations
    found = [
        drift.describe(diff) for diff in await drift.differences(url, compared_metadata(drifted))
    ]
    assert "  add_column products.colour TEXT" in found
    assert "  add_index products_name on products (products.name)" in found
    assert "  add_constraint products_unit_given on products" in found
    assert any(
        line.startswith("  modify_type products.version") and "INTEGER()" in line for line in found
    ), found
    assert isinstance(CatalogTable.metadata.tables["products"].c.version.type, Integer)


def test_without_postgresql_the_check_says_what_to_do(tmp_path: Path) -> None:
    checked = _lint(CATALOG, server="postgresql://etalase:etalase@localhost:1/postgres")
    assert checked.returncode == 2
    assert "needs PostgreSQL" in checked.stderr and "make up" in checked.stderr


async def test_a_partial_index_s_predicate_and_a_check_s_text_are_compared_too(
    infra: Infra, new_database: DatabaseFactory
) -> None:
    url = await new_database("drift-definitions")
    await drift.upgrade(CATALOG, url)
    assert await drift.definition_differences(url, CatalogTable.metadata, infra.postgres) == []

    drifted = MetaData()
    for table in CatalogTable.metadata.tables.values():
        table.to_metadata(drifted)
    products = drifted.tables["products"]
    (displayed,) = (i for i in products.indexes if i.name == "products_tayang_category_price")
    displayed.dialect_options["postgresql"]["where"] = text("status = 'delisted'")
    (positive,) = (
        c
        for c in products.constraints
        if isinstance(c, CheckConstraint) and c.name == "products_price_positive"
    )
    positive.sqltext = text("price_idr >= 0")
    found = await drift.definition_differences(url, drifted, infra.postgres)
    assert len(found) == 2, found
    check, index = sorted(found)
    assert "check products_price_positive differs" in check and "price_idr >= 0" in check
    assert "index products_tayang_category_price differs" in index and "delisted" in index


async def test_the_platform_tables_are_compared_with_their_declaration_too(
    new_database: DatabaseFactory,
) -> None:
    url = await new_database("drift-platform")
    await drift.upgrade(CATALOG, url)
    declared = MetaData()
    for table in platform_tables.metadata.tables.values():
        table.to_metadata(declared)
    Index("outbox_by_type", declared.tables["outbox"].c.event_type)
    found = [
        drift.describe(diff)
        for diff in await drift.differences(url, [declared, CatalogTable.metadata])
    ]
    assert found == ["  add_index outbox_by_type on outbox (outbox.event_type)"], found
