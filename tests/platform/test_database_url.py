"""`db.database_url`: one server URL, another database, the transport it names kept."""

import pytest
from etalase_platform.db import create_engine, database_url
from sqlalchemy import text

from tests.helpers import DatabaseFactory, Infra

SOCKET = "postgresql://etalase:secret@/postgres?host=/var/run/postgresql&port=5433"


def test_the_socket_query_is_kept_and_the_driver_named() -> None:
    assert database_url(SOCKET, "etalase_purchasing", driver="asyncpg") == (
        "postgresql+asyncpg://etalase:secret@/etalase_purchasing?host=/var/run/postgresql&port=5433"
    )
    assert database_url(SOCKET, "postgres") == SOCKET


def test_a_tcp_url_gets_the_database_only() -> None:
    tcp = "postgresql+asyncpg://etalase:secret@db.example:5432/etalase_catalog"
    assert database_url(tcp, "postgres") == "postgresql://etalase:secret@db.example:5432/postgres"


@pytest.mark.infra
async def test_a_new_database_is_reached_the_way_the_server_url_says(
    infra: Infra, new_database: DatabaseFactory
) -> None:
    """`make test`'s URLs name the local cluster's Unix socket: what the tests and the bench
    derive from them (a database per test) goes over it too, not over loopback TCP."""
    engine = create_engine(await new_database("transport"))
    try:
        async with engine.connect() as connection:
            address = await connection.scalar(text("SELECT inet_server_addr()"))
    finally:
        await engine.dispose()
    over_socket = "host=/" in infra.postgres
    assert (address is None) is over_socket, (infra.postgres, address)
