"""What the benchmarks run on: the Kafka and PostgreSQL given by the environment, fresh databases
and topics of their own, free ports, and a description of the machine for the report."""

import asyncio
import os
import platform
import re
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from etalase_platform.db import database_url, drop_databases

REPO = Path(__file__).resolve().parents[1]
DEFAULT_KAFKA = "localhost:9092"
DEFAULT_POSTGRES = "postgresql://etalase:etalase@localhost:5432/postgres"


@dataclass
class Infra:
    kafka: str
    postgres: str
    """A server-level libpq URL whose role may create databases (`ETALASE_POSTGRES_URL`)."""
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    created_databases: list[str] = field(default_factory=list)

    @classmethod
    def from_environment(cls) -> "Infra":
        return cls(
            kafka=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_KAFKA),
            postgres=os.environ.get("ETALASE_POSTGRES_URL", DEFAULT_POSTGRES),
        )

    async def new_database(self, label: str) -> str:
        """A fresh, empty database; returns its SQLAlchemy asyncpg URL."""
        name = f"bench_{self.run_id}_{label}"
        connection = await asyncpg.connect(self.postgres)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        self.created_databases.append(name)
        return database_url(self.postgres, name, driver="asyncpg")

    async def drop_databases(self) -> None:
        await drop_databases(self.postgres, self.created_databases)
        self.created_databases.clear()

    async def new_topic(self, label: str, partitions: int = 6) -> str:
        name = f"bench.{label}.{self.run_id}.{uuid.uuid4().hex[:4]}"
        admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(name, partitions, 1)])
        finally:
            await admin.close()
        return name

    async def delete_topics(self, names: list[str]) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka)
        await admin.start()
        try:
            await admin.delete_topics(names)
        finally:
            await admin.close()


def libpq_url(url: str) -> str:
    """`postgresql+asyncpg://…` as asyncpg itself wants it."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _kafka_version() -> str:
    """The broker announces its version in its log at start; else the version deploy/ pins."""
    log = REPO / ".run" / "kafka" / "kafka.log"
    if log.exists():
        with log.open(errors="replace") as lines:
            for line in lines:
                found = re.search(r"Kafka version: (\S+)", line)
                if found:
                    return found.group(1)
    script = REPO / "deploy" / "kafka.sh"
    if script.exists():
        pinned = re.search(r"^KAFKA_VERSION=(\S+)", script.read_text(), re.MULTILINE)
        if pinned:
            return f"{pinned.group(1)} (pinned in deploy/kafka.sh)"
    return "unknown"


def _memory_gib() -> int:
    try:
        return round(int(Path("/proc/meminfo").read_text().split()[1]) / 2**20)
    except (OSError, ValueError, IndexError):
        return 0


def _local_facts() -> dict[str, str | int]:
    return {
        "cores": os.cpu_count() or 0,
        "cpu": _cpu_model(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "kafka": _kafka_version(),
        # other work on the machine skews every figure: say how busy it was when the run began
        "load_average_1m_at_start": f"{os.getloadavg()[0]:.2f}",
    }


async def machine(infra: Infra) -> dict[str, str | int]:
    connection = await asyncpg.connect(infra.postgres)
    try:
        postgres_version = str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()
    facts = await asyncio.to_thread(_local_facts)
    return {**facts, "postgresql": postgres_version.split()[0]}
