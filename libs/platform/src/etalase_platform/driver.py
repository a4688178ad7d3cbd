"""Statements run on the session's asyncpg connection, past SQLAlchemy's execution.

SQLAlchemy Core's execution of a built statement (its cache lookup, execution context and result)
cost 108-118 µs of client CPU per statement against asyncpg's 35-39 for the same one on the
same connection (2026-12-04, one row of pg_class, 5,000 each); the order write path runs five.
`DriverStatement` compiles a SQLAlchemy statement once, at import, to asyncpg's `$n` form, and
runs it on the connection of the caller's session, inside that session's transaction. Its span
is the one SQLAlchemy's statements get (`telemetry.statement_span`); its errors are asyncpg's,
which `outages` maps to 503 as it maps SQLAlchemy's.

Values go to asyncpg as they are: JSON and JSONB take the document as text and are read back
decoded (the codecs SQLAlchemy's asyncpg dialect registers on every connection); rows are
asyncpg `Record`s, read by column name (`row["name"]`).
"""

import contextlib
from collections.abc import Mapping
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import ClauseElement

from etalase_platform.outages import POSTGRESQL, DependencyUnavailable, unavailable_dependency
from etalase_platform.telemetry import database_attributes, statement_span

_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]


class DriverStatement:
    """A statement compiled once, run on a session's asyncpg connection with named values."""

    def __init__(self, statement: ClauseElement) -> None:
        compiled: Any = statement.compile(dialect=_DIALECT)  # a SQLCompiler
        self.sql = compiled.string
        self.parameters: tuple[str, ...] = tuple(compiled.positiontup or ())
        """The names of the values, in the order of `$1`, `$2`, ..."""

    async def fetch(self, session: AsyncSession, values: Mapping[str, Any]) -> list[Any]:
        return list(await self._run(session, values, "fetch"))

    async def fetchrow(self, session: AsyncSession, values: Mapping[str, Any]) -> Any:
        """The first row, or None."""
        return await self._run(session, values, "fetchrow")

    async def execute(self, session: AsyncSession, values: Mapping[str, Any]) -> None:
        await self._run(session, values, "execute")

    async def _run(self, session: AsyncSession, values: Mapping[str, Any], how: str) -> Any:
        arguments = [values[name] for name in self.parameters]
        driver = None
        span = None
        try:
            driver, database = await _in_transaction(session)
            span = statement_span(self.sql, database)
            result = await getattr(driver, how)(self.sql, *arguments)
        except Exception as error:
            if span is not None:
                span.end(error)
            broken = await _discard_if_broken(session, driver, error)
            if broken and unavailable_dependency(error) is None:
                # asyncpg's InternalClientError, when the server's goodbye arrives during a
                # statement, is a dead connection too (SQLAlchemy's dialect calls it a
                # disconnect for the same reason): a 503, not a 500
                raise DependencyUnavailable(POSTGRESQL) from error
            raise
        except BaseException as error:  # a cancel: the pool's reset deals with the connection
            if span is not None:
                span.end(error)
            raise
        if span is not None:
            span.end()
        return result


_BROKEN = (
    asyncpg.PostgresConnectionError,  # class 08, a connection lost mid-query
    asyncpg.OperatorInterventionError,  # 57P01-03: the server is shutting down
    asyncpg.InterfaceError,  # the connection is closed
    asyncpg.InternalClientError,  # the protocol's state after a connection died mid-operation
    OSError,
)


async def _discard_if_broken(session: AsyncSession, driver: Any, error: BaseException) -> bool:
    """Takes a connection that failed for being broken out of the pool, and says whether it
    did. SQLAlchemy does so for its own statements (its dialect sees the disconnect); it does
    not see the driver's, and would hand the dead connection to every later transaction."""
    causes: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and len(causes) < 5:
        causes.append(cause)
        cause = cause.__cause__
    if not any(isinstance(c, _BROKEN) for c in causes) and not (driver and driver.is_closed()):
        return False
    session.info.pop(_FOUND, None)
    with contextlib.suppress(Exception):
        connection = await session.connection()
        await connection.invalidate()
    return True


_FOUND = "etalase.driver"
"""The key, in `session.info`, of the transaction last begun and its connection: looking them up
through the session costs two greenlet switches, 21 µs a statement."""


async def _in_transaction(session: AsyncSession) -> tuple[Any, Mapping[str, str | int]]:
    """The session's asyncpg connection, its transaction begun, and the database's span
    attributes. SQLAlchemy's asyncpg adapter begins the transaction lazily, at its first
    statement, and its commit is a no-op while none is begun: a statement sent to the driver
    first would commit on its own, and a rollback would not undo it. So the adapter is asked to
    begin, as its own first statement would (read-only if the session's connection is, e.g.
    `postgresql_readonly`). Pinned by uv.lock; tests/platform/test_driver.py fails if
    SQLAlchemy changes how it begins."""
    found = session.info.get(_FOUND)
    if found is not None and found[0] is session.sync_session.get_transaction():
        return found[1], found[2]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    adapted: Any = raw.dbapi_connection
    if adapted._transaction is None:
        await adapted._start_transaction()
    database = database_attributes(connection.engine.url)
    session.info[_FOUND] = (session.sync_session.get_transaction(), raw.driver_connection, database)
    return raw.driver_connection, database
