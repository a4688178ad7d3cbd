"""Fixtures for tests that cross a process: real Kafka and real PostgreSQL.

Where they come from, in order: the addresses given (``KAFKA_BOOTSTRAP_SERVERS``,
``ETALASE_POSTGRES_URL``; `make test` starts local processes and sets both), else the local
defaults if they answer, else testcontainers when a Docker engine answers. Otherwise the run
fails: a missing Kafka or PostgreSQL is never a skip.
"""

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from etalase_platform.db import database_url, drop_databases

from tests.helpers import DatabaseFactory, Infra, TopicFactory

LOCAL_KAFKA = "localhost:9092"
LOCAL_POSTGRES = "postgresql://etalase:etalase@localhost:5432/postgres"


def _answers(address: str) -> bool:
    host, _, port = address.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host or "localhost", int(port)), timeout=1):
            return True
    except OSError:
        return False


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The fast tier (`-m "not infra"`) must run without Kafka or PostgreSQL, so a test that
    reaches the `infra` fixture, however indirectly, must carry the mark: collection fails
    otherwise, naming the tests, instead of the fast tier failing later on a connection."""
    unmarked = [
        item.nodeid
        for item in items
        if "infra" in getattr(item, "fixturenames", ()) and item.get_closest_marker("infra") is None
    ]
    if unmarked:
        listed = "\n  ".join(unmarked)
        raise pytest.UsageError(
            f"these tests use Kafka or PostgreSQL (the `infra` fixture) without the mark;"
            f" add `pytestmark = pytest.mark.infra` to their modules:\n  {listed}"
        )


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    postgres = os.environ.get("ETALASE_POSTGRES_URL")
    if kafka is None and _answers(LOCAL_KAFKA):
        kafka = LOCAL_KAFKA
    if postgres is None and _answers("localhost:5432"):
        postgres = LOCAL_POSTGRES
    if kafka and postgres:
        yield Infra(kafka, postgres)
        return
    if not _docker_answers():
        pytest.fail(
            "Kafka or PostgreSQL is not available: run the tests with `make test` (which starts"
            " both), or set KAFKA_BOOTSTRAP_SERVERS and ETALASE_POSTGRES_URL",
            pytrace=False,
        )
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with (
        KafkaContainer("apache/kafka:3.9.1") as kafka_container,
        PostgresContainer(
            "postgres:15", username="etalase", password="etalase", dbname="postgres"
        ) as pg_container,
    ):
        yield Infra(
            kafka or kafka_container.get_bootstrap_server(),
            postgres or pg_container.get_connection_url(driver=None),
        )


@pytest.fixture(scope="session")
async def new_database(infra: Infra) -> AsyncIterator[DatabaseFactory]:
    """Creates a fresh, empty database; returns its SQLAlchemy asyncpg URL."""
    created: list[str] = []
    run = uuid.uuid4().hex[:8]

    async def create(label: str) -> str:
        name = f"t_{run}_{label}_{len(created)}"
        connection = await asyncpg.connect(infra.postgres)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        created.append(name)
        return database_url(infra.postgres, name, driver="asyncpg")

    yield create

    await drop_databases(infra.postgres, created)


@pytest.fixture(scope="session")
async def new_topic(infra: Infra) -> TopicFactory:
    """Creates a uniquely named topic (and its DLQ) for one test."""

    async def create(label: str, partitions: int = 6) -> str:
        name = f"test.{label}.{uuid.uuid4().hex[:8]}"
        admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(t, partitions, 1) for t in (name, name + ".dlq")])
        finally:
            await admin.close()
        return name

    return create
