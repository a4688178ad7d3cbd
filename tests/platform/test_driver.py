"""`etalase_platform.driver`: a statement run on the driver is part of its session's transaction
(committed with it, rolled back with it, read-only with it) and a span of the request's trace,
as a statement SQLAlchemy runs is. The driver's own `transaction` commits and rolls back the same
way, and a connection lost in either is an outage the pool recovers from."""

import asyncio
import uuid

import asyncpg
import pytest
from etalase_platform.db import create_engine, session_factory
from etalase_platform.driver import DriverStatement, transaction
from etalase_platform.outages import unavailable_dependency
from etalase_platform.telemetry import tracer
from opentelemetry import trace
from sqlalchemy import text

from tests.helpers import DatabaseFactory
from tests.platform.support import recorded_spans

pytestmark = pytest.mark.infra

_INSERT = DriverStatement(text("INSERT INTO notes (body) VALUES (:body)"))
_COUNT = DriverStatement(text("SELECT count(*) AS n FROM notes WHERE body = :body"))


async def test_a_driver_statement_commits_and_rolls_back_with_its_session(
    new_database: DatabaseFactory,
) -> None:
    engine = create_engine(await new_database("driver"))
    sessions = session_factory(engine)
    kept, undone = uuid.uuid4().hex, uuid.uuid4().hex
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (body text NOT NULL)"))
        async with sessions() as session:
            async with session.begin():
                await _INSERT.execute(session, {"body": kept})  # the transaction's first statement
            # the same session's next transaction: its own begin, on whichever connection
            with pytest.raises(RuntimeError):
                async with session.begin():
                    await _INSERT.execute(session, {"body": undone})
                    assert (await _COUNT.fetchrow(session, {"body": undone}))["n"] == 1
                    raise RuntimeError("the caller fails after the write")
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            async with sessions() as session, session.begin():
                await session.connection(execution_options={"postgresql_readonly": True})
                await _INSERT.execute(session, {"body": undone})
        async with sessions() as session:
            assert (await _COUNT.fetchrow(session, {"body": kept}))["n"] == 1
            assert [row["n"] for row in await _COUNT.fetch(session, {"body": undone})] == [0]
    finally:
        await engine.dispose()


async def test_a_driver_statement_inside_a_sampled_span_is_its_client_span(
    new_database: DatabaseFactory,
) -> None:
    exporter = recorded_spans()
    engine = create_engine(await new_database("driver-spans"))
    sessions = session_factory(engine)
    marker = uuid.uuid4().hex
    ok = DriverStatement(text(f"SELECT CAST(:one AS int) AS ok_{marker}"))
    missing = DriverStatement(text(f"SELECT * FROM missing_{marker} WHERE a = :one"))
    try:
        with tracer("tests").start_as_current_span("request") as request:
            async with sessions() as session, session.begin():
                assert (await ok.fetchrow(session, {"one": 1}))[0] == 1
            async with sessions() as session, session.begin():
                with pytest.raises(asyncpg.UndefinedTableError):
                    await missing.fetch(session, {"one": 1})
    finally:
        await engine.dispose()

    ours = {
        str((span.attributes or {}).get("db.statement")): span
        for span in exporter.get_finished_spans()
        if marker in str((span.attributes or {}).get("db.statement", ""))
    }
    assert sorted(ours) == sorted([ok.sql, missing.sql])
    for span in ours.values():
        assert span.kind is trace.SpanKind.CLIENT and span.name == "SELECT"
        assert span.parent is not None
        assert span.parent.span_id == request.get_span_context().span_id
        assert span.attributes is not None and span.attributes["db.system"] == "postgresql"
        assert span.attributes["db.name"] == engine.url.database
    assert ours[ok.sql].status.status_code is trace.StatusCode.UNSET
    assert ours[missing.sql].status.status_code is trace.StatusCode.ERROR


@pytest.mark.parametrize("noticed_s", [0.2, 0.0], ids=["noticed", "racing"])
async def test_a_connection_the_server_dropped_is_discarded_not_pooled_again(
    new_database: DatabaseFactory, noticed_s: float
) -> None:
    """Noticed: the client read the server's goodbye (57P01) while idle, and the next statement
    finds the connection closed. Racing: the goodbye arrives during the next BEGIN, and asyncpg
    says another operation is in progress. Either is an outage (503), and the pool recovers."""
    url = await new_database("driver-drop")
    engine, admin = create_engine(url, pool_size=1), create_engine(url)
    sessions = session_factory(engine)
    ping = DriverStatement(text("SELECT pg_backend_pid() AS pid, :n AS n"))
    try:
        async with sessions() as session, session.begin():
            pid = (await ping.fetchrow(session, {"n": "1"}))["pid"]
        # the server ends the pooled connection (a restart, an idle timeout, an operator)
        async with admin.connect() as connection:
            await connection.execute(text(f"SELECT pg_terminate_backend({int(pid)})"))
        await asyncio.sleep(noticed_s)
        with pytest.raises(Exception) as failure:
            async with sessions() as session, session.begin():
                await ping.fetchrow(session, {"n": "2"})
        assert unavailable_dependency(failure.value) == "postgresql"  # a 503, not a 500
        async with sessions() as session, session.begin():  # a new connection, not the dead one
            row = await ping.fetchrow(session, {"n": "3"})
        assert row["pid"] != pid and row["n"] == "3"
    finally:
        await engine.dispose()
        await admin.dispose()


async def test_a_driver_transaction_commits_when_its_block_ends_and_rolls_back_when_it_raises(
    new_database: DatabaseFactory,
) -> None:
    url = await new_database("driver-transaction")
    engine, admin = create_engine(url, pool_size=1), create_engine(url)
    kept, undone = uuid.uuid4().hex, uuid.uuid4().hex
    backend = DriverStatement(text("SELECT pg_backend_pid() AS pid"))
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (body text NOT NULL)"))
        async with transaction(engine) as begun:
            await _INSERT.execute(begun, {"body": kept})
        with pytest.raises(RuntimeError):
            async with transaction(engine) as begun:
                await _INSERT.execute(begun, {"body": undone})
                assert (await _COUNT.fetchrow(begun, {"body": undone}))["n"] == 1
                pid = (await backend.fetchrow(begun, {}))["pid"]
                raise RuntimeError("the caller fails after the write")
        async with admin.connect() as connection:
            counts = await connection.execute(
                text("SELECT body, count(*) FROM notes GROUP BY body")
            )
            assert {body: n for body, n in counts.all()} == {kept: 1}
            # the pooled connection went back with no transaction left open on it
            state = await connection.execute(
                text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
            assert state.scalar_one() == "idle"
    finally:
        await engine.dispose()
        await admin.dispose()


@pytest.mark.parametrize("noticed_s", [0.2, 0.0], ids=["noticed", "racing"])
async def test_a_driver_transaction_on_a_dropped_connection_is_an_outage_and_the_pool_recovers(
    new_database: DatabaseFactory, noticed_s: float
) -> None:
    url = await new_database("driver-transaction-drop")
    engine, admin = create_engine(url, pool_size=1), create_engine(url)
    ping = DriverStatement(text("SELECT pg_backend_pid() AS pid, :n AS n"))
    try:
        async with transaction(engine) as begun:
            pid = (await ping.fetchrow(begun, {"n": "1"}))["pid"]
        async with admin.connect() as connection:
            await connection.execute(text(f"SELECT pg_terminate_backend({int(pid)})"))
        await asyncio.sleep(noticed_s)
        with pytest.raises(Exception) as failure:
            async with transaction(engine) as begun:
                await ping.fetchrow(begun, {"n": "2"})
        assert unavailable_dependency(failure.value) == "postgresql"  # a 503, not a 500
        async with transaction(engine) as begun:  # a new connection, not the dead one
            row = await ping.fetchrow(begun, {"n": "3"})
        assert row["pid"] != pid and row["n"] == "3"
    finally:
        await engine.dispose()
        await admin.dispose()
