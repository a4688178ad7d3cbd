"""Async database access: one engine per service database, sessions, Alembic upgrades."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SessionFactory = async_sessionmaker[AsyncSession]
DROP_ATTEMPTS = 60  # seconds, one attempt a second
log = logging.getLogger(__name__)


def database_url(server_url: str, database: str, *, driver: str | None = None) -> str:
    """`server_url` naming `database` instead, with `driver` (`asyncpg` for SQLAlchemy) or as
    libpq and asyncpg read it. The query is kept: it carries a Unix socket's directory
    (`?host=/var/run/postgresql&port=5432`), as the local cluster's URLs do."""
    parts = urlsplit(server_url)
    scheme = f"postgresql+{driver}" if driver else "postgresql"
    return urlunsplit((scheme, parts.netloc, "/" + database, parts.query, ""))


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    # hide_parameters: a failed statement's message (logged by the 500 handler) would otherwise
    # carry its bound values, personal data included (NPWP, e-mail, phone)
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # no ping per checkout (a round trip per transaction): a connection the server closed
        # fails its statement, the pool drops it, and callers answer 503 or retry
        pool_pre_ping=False,
        hide_parameters=True,
    )


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def session_transaction(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A session in a transaction: committed when the block ends, rolled back if it raises."""
    async with sessions() as session, session.begin():
        yield session


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


async def upgrade_to_head(migrations_dir: Path, database_url: str) -> None:
    """Run a service's migrations. Alembic's env runs its own event loop, hence the thread."""
    config = alembic_config(migrations_dir, database_url)
    await asyncio.to_thread(command.upgrade, config, "head")


async def drop_databases(server_url: str, names: list[str]) -> None:
    """Drops the scratch databases `names` (tests, benchmarks) on the server of `server_url`, a
    libpq URL. An autovacuum worker can hold a database a few moments (and FORCE may not
    end it: it runs as the superuser), so a refused drop is retried, then left with a warning."""
    connection = await asyncpg.connect(server_url)
    try:
        for name in names:
            for attempt in range(DROP_ATTEMPTS):
                try:
                    await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    break
                except asyncpg.PostgresError as error:
                    if attempt == DROP_ATTEMPTS - 1:
                        log.warning("could not drop database %s: %s", name, error)
                    await asyncio.sleep(1.0)
    finally:
        await connection.close()
