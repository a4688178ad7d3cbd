"""The region rule (a province covers its kab/kota) in its three forms, which must agree: the
Python predicate, the SQLAlchemy condition and the SQL text, the last two run by PostgreSQL."""

import pytest
from etalase_platform.db import create_engine
from etalase_platform.scope import covered_by, covered_by_sql, covers
from sqlalchemy import Column, MetaData, Table, Text, select, text

from tests.helpers import DatabaseFactory

CODES = ["32", "32.01", "32.73", "33", "33.01", "3", "320", "32.7", "32.73.01"]
REGIONS = ["32", "32.73", "33.01", "3", "99", "32.7"]


@pytest.mark.parametrize(
    ("region", "code", "expected"),
    [
        ("32", "32", True),
        ("32", "32.73", True),
        ("32.73", "32.73", True),
        ("32.73", "32", False),  # a kab/kota does not cover its province
        ("32", "33.01", False),
        ("3", "32.01", False),  # not a prefix of the digits: of the dotted code
        ("32", "320", False),
        ("32.7", "32.73", False),
    ],
)
def test_a_region_covers_itself_and_a_province_its_kab_kota(
    region: str, code: str, expected: bool
) -> None:
    assert covers(region, code) is expected


@pytest.mark.infra
async def test_the_sql_forms_select_what_the_predicate_says(new_database: DatabaseFactory) -> None:
    engine = create_engine(await new_database("scope"))
    codes = Table("codes", MetaData(), Column("code", Text, primary_key=True))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(codes.metadata.create_all)
            await connection.execute(codes.insert(), [{"code": code} for code in CODES])
            as_text = text(f"SELECT code FROM codes WHERE {covered_by_sql('code')}")
            for region in [*REGIONS, None]:
                expected = {c for c in CODES if region is None or covers(region, c)}
                condition = select(codes.c.code).where(covered_by(codes.c.code, region))
                found = set((await connection.execute(condition)).scalars())
                assert found == expected, region
                found = set((await connection.execute(as_text, {"region": region})).scalars())
                assert found == expected, region
    finally:
        await engine.dispose()
