"""The one region rule of api.md: a region covers itself and, for a 2-digit province, its
kab/kota (`32` covers `32` and `32.73`, not `3`'s or `33.01`). Stated once, in the three forms the
services need: a Python predicate (pure: domain modules use it), an SQLAlchemy condition and
the same condition as SQL text for queries written as text.

Codes are validated before they reach these (`deps.RegionFilter`, `etalase_events.primitives`),
so they hold no LIKE wildcards; the SQLAlchemy form escapes them all the same.
"""

from typing import Any

from sqlalchemy import ColumnElement, or_, true
from sqlmodel import col


def covers(region: str, code: str) -> bool:
    """Whether `region` (a province or a kab/kota) covers the kab/kota or province `code`."""
    return code == region or code.startswith(region + ".")


def covered_by(column: Any, region: str | None) -> ColumnElement[bool]:
    """`column` is covered by `region`, as `covers`; None restricts nothing."""
    if region is None:
        return true()
    return or_(col(column) == region, col(column).startswith(region + ".", autoescape=True))


def covered_by_sql(column: str, parameter: str = "region") -> str:
    """`covered_by` as SQL text over the bind parameter `:parameter` (NULL restricts nothing)."""
    bound = f":{parameter}"
    return f"(CAST({bound} AS text) IS NULL OR {column} = {bound} OR {column} LIKE {bound} || '.%')"
