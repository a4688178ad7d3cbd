"""Alembic support shared by every service.

Each service keeps its own migration history; its first revision calls `create_platform_tables`
so that every service database holds the outbox, the consumer inbox and offsets, and the
idempotency keys, with the same shape everywhere: the one declared in `etalase_platform.tables`.
"""

import asyncio
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config
from sqlalchemy.pool import NullPool

from etalase_platform import tables


def create_platform_tables() -> None:
    """The platform's tables and their indexes, as `etalase_platform.tables` declares them."""
    connection = op.get_bind()
    for table in tables.metadata.sorted_tables:
        table.create(connection)


def drop_platform_tables() -> None:
    connection = op.get_bind()
    for table in reversed(tables.metadata.sorted_tables):
        table.drop(connection)


def compared_metadata(service: sa.MetaData | Sequence[sa.MetaData]) -> list[sa.MetaData]:
    """A service's tables and the platform's: what its database should hold, for autogenerate
    and `alembic check`."""
    given = [service] if isinstance(service, sa.MetaData) else list(service)
    return [tables.metadata, *(m for m in given if m is not tables.metadata)]


def run_migrations(target_metadata: sa.MetaData | Sequence[sa.MetaData] | None = None) -> None:
    """The body of every service's ``env.py``: online migrations over asyncpg.

    Given the service's metadata, Alembic compares the platform's tables too
    (`compared_metadata`)."""
    config = context.config
    compared = None if target_metadata is None else compared_metadata(target_metadata)

    def run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=compared)
        with context.begin_transaction():
            # Several replicas may start at once on an empty database: one migrates, the
            # others wait here and then find nothing left to do.
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext('etalase-migrations'))")
            )
            context.run_migrations()

    async def run_async() -> None:
        engine = async_engine_from_config(
            config.get_section(config.config_ini_section) or {},
            prefix="sqlalchemy.",
            poolclass=NullPool,
        )
        async with engine.connect() as connection:
            await connection.run_sync(run)
        await engine.dispose()

    asyncio.run(run_async())
