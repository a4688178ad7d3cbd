"""Set-based writes: a whole batch of rows in one statement, as parallel arrays through unnest."""

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import TextClause, text
from sqlmodel.ext.asyncio.session import AsyncSession

Column = tuple[str, str]
"""(name, PostgreSQL type)."""


def unnest_insert(table: str, columns: Sequence[Column], tail: str = "") -> TextClause:
    """`INSERT INTO table (...) SELECT * FROM unnest(...) <tail>`, one array parameter per
    column, named as the column."""
    names = ", ".join(name for name, _ in columns)
    arrays = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in columns)
    return text(f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {tail}")


async def insert_rows(
    session: AsyncSession,
    statement: TextClause,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    key_width: int = 1,
) -> None:
    """Execute `statement` (from `unnest_insert`) with `rows`, one tuple per row. Rows are sorted
    by their first `key_width` values (the key) so that concurrent writers lock shared rows in the
    same order and cannot deadlock."""
    if not rows:
        return
    ordered = sorted(rows, key=itemgetter(*range(key_width)))
    arrays = list(zip(*ordered, strict=True))
    await session.execute(statement, {name: list(arrays[i]) for i, (name, _) in enumerate(columns)})
