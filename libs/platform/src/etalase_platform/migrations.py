"""Alembic support shared by every service.

Each service keeps its own migration history; its first revision calls `create_platform_tables`
so that every service database holds the outbox, the consumer inbox and offsets, and the
idempotency keys, with the same shape everywhere. Their declaration is `etalase_platform.tables`;
`python -m etalase_platform.drift` (in `make lint`) fails when the migrations build anything else.
"""

import asyncio
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config
from sqlalchemy.pool import NullPool

from etalase_platform import tables
from etalase_platform.drift import autogenerate_options


def create_platform_tables() -> None:
    """The platform's tables as every service's first revision created them: history, so stated
    here and never read from `etalase_platform.tables` (a migration that followed the declaration
    would change what an old revision did, and no drift could be seen). `make lint` checks that
    the declaration and these statements agree; a change to the tables is a new function here,
    called by a new revision of each service."""
    op.create_table(
        "outbox",
        sa.Column("position", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.Text, nullable=False, unique=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("message_key", sa.Text, nullable=False),
        sa.Column("bucket", sa.SmallInteger, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("traceparent", sa.Text),
        sa.Column("tracestate", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "outbox_unpublished",
        "outbox",
        ["bucket", "position"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
    op.create_table(
        "consumer_offsets",
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("topic", sa.Text, primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True),
        sa.Column("next_offset", sa.BigInteger, nullable=False),
        sa.Column("last_event_time", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("body", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def drop_platform_tables() -> None:
    for table in ("idempotency_keys", "consumer_offsets", "inbox", "outbox"):
        op.drop_table(table)


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
        # the options of `alembic check` (make lint) and `revision --autogenerate`
        context.configure(connection=connection, target_metadata=compared, **autogenerate_options())
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
