"""Statements run on the session's asyncpg connection, past SQLAlchemy's execution.

SQLAlchemy Core's execution of a built statement (its cache lookup, execution context and result)
cost 108-118 µs of client CPU per statement against asyncpg's 35-39 for the same one on the
same connection (2026-12-04, one row of pg_class, 5,000 each); the order write path runs five.
`DriverStatement` compiles a SQLAlchemy statement once, at import, to asyncpg's `$n` form, and
runs it on the connection of the caller's session, inside that session's transaction. Its span
is the one SQLAlchemy's statements get (`telemetry.statement_span`); its errors are asyncpg's,
which `outages` maps to 503 as it maps SQLAlchemy's.

A write path whose every statement is a `DriverStatement` runs them in `transaction(engine)`: a
transaction on a pooled connection's driver with no ORM session around it. The session's
transaction (its begin, its connection lookup, the adapter's lazy BEGIN and its commit, each
through a greenlet) cost 250-310 µs more client CPU than the driver's own for the same five
statements (2026-12-04, 4,000 transactions each; `bench/findings.md`). `Transactional` is either.

Values go to asyncpg as they are: JSON and JSONB take the document as text and are read back
decoded (the codecs SQLAlchemy's asyncpg dialect registers on every connection); rows are
asyncpg `Record`s, read by column name (`row["name"]`).
"""

import contextlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql.expression import ClauseElement

from etalase_platform.outages import POSTGRESQL, DependencyUnavailable, unavailable_dependency
from etalase_platform.telemetry import database_attributes, statement_span

_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class DriverTransaction:
    """A transaction begun on a pooled connection's asyncpg driver (`transaction`)."""

    connection: AsyncConnection
    driver: Any
    database: Mapping[str, str | int]
    """The span attributes of the connection's database."""

    async def begin(self) -> None:
        """Begun already, by `transaction`."""

    async def discard(self) -> None:
        """Takes a closed connection (the server ended it, or it was lost) out of the pool.
        SQLAlchemy does so when its own statement finds one; it does not see the driver's, and
        would hand the dead connection to every later transaction."""
        with contextlib.suppress(Exception):
            await self.connection.invalidate()


Transactional = AsyncSession | DriverTransaction
"""Where a `DriverStatement` runs: a session's transaction, or a `transaction` of the driver."""


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[DriverTransaction]:
    """A transaction on one of `engine`'s pooled connections, committed when the block ends and
    rolled back when it raises. A connection found closed is taken out of the pool, and its
    failure is an outage (503), as a session's would be."""
    async with engine.connect() as connection:  # a pool timeout raises here, as a session's does
        raw = await connection.get_raw_connection()
        begun = DriverTransaction(connection, raw.driver_connection, database_attributes(engine))
        try:
            async with begun.driver.transaction():
                yield begun
        except Exception as error:
            if not begun.driver.is_closed():
                raise
            await begun.discard()
            if unavailable_dependency(error) is None:
                raise DependencyUnavailable(POSTGRESQL) from error
            raise


class DriverStatement:
    """A statement compiled once, run on the asyncpg connection of a session's transaction or of
    a `transaction`, with named values."""

    def __init__(self, statement: ClauseElement) -> None:
        compiled: Any = statement.compile(dialect=_DIALECT)  # a SQLCompiler
        self.sql = compiled.string
        self.parameters: tuple[str, ...] = tuple(compiled.positiontup or ())
        """The names of the values, in the order of `$1`, `$2`, ..."""

    async def fetch(self, target: Transactional, values: Mapping[str, Any]) -> list[Any]:
        return list(await self._run(target, values, "fetch"))

    async def fetchrow(self, target: Transactional, values: Mapping[str, Any]) -> Any:
        """The first row, or None."""
        return await self._run(target, values, "fetchrow")

    async def execute(self, target: Transactional, values: Mapping[str, Any]) -> None:
        await self._run(target, values, "execute")

    async def _run(self, target: Transactional, values: Mapping[str, Any], how: str) -> Any:
        arguments = [values[name] for name in self.parameters]
        # a session's connection is checked out here: a pool timeout raises as SQLAlchemy's does
        found = target if isinstance(target, DriverTransaction) else await _connection_of(target)
        span = None
        try:
            await found.begin()
            span = statement_span(self.sql, found.database)
            result = await getattr(found.driver, how)(self.sql, *arguments)
        except BaseException as error:
            if span is not None:
                span.fail(error)
            if isinstance(error, Exception) and found.driver.is_closed():
                await found.discard()
                if unavailable_dependency(error) is None:
                    # asyncpg's InternalClientError, when the server's goodbye arrives during a
                    # statement: a dead connection all the same (a 503, not a 500)
                    raise DependencyUnavailable(POSTGRESQL) from error
            raise
        if span is not None:
            span.end()
        return result


@dataclass(frozen=True)
class _Found(DriverTransaction):
    """A session transaction's connection, also as SQLAlchemy's adapter."""

    session: AsyncSession
    transaction: object
    adapted: Any

    async def begin(self) -> None:
        """SQLAlchemy's asyncpg adapter begins the transaction lazily, at its first statement,
        and its commit is a no-op while none is begun: a statement sent to the driver first
        would commit on its own, and a rollback would not undo it. So the adapter is asked to
        begin, as its own first statement would (read-only if the session's connection is,
        e.g. `postgresql_readonly`). Pinned by uv.lock; tests/platform/test_driver.py fails if
        SQLAlchemy changes how it begins."""
        if self.adapted._transaction is None:
            await self.adapted._start_transaction()

    async def discard(self) -> None:
        self.session.info.pop(_FOUND, None)
        await super().discard()


_FOUND = "etalase.driver"
"""The key, in `session.info`, of the `_Found` of the session's transaction: looking the
connection up through the session costs two greenlet switches, 21 µs a statement."""


async def _connection_of(session: AsyncSession) -> _Found:
    found: _Found | None = session.info.get(_FOUND)
    transaction = session.sync_session.get_transaction()
    if found is not None and found.transaction is transaction:
        return found
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    found = _Found(
        connection,
        raw.driver_connection,
        database_attributes(connection.engine),
        session,
        session.sync_session.get_transaction(),
        raw.dbapi_connection,
    )
    session.info[_FOUND] = found
    return found
