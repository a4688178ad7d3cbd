"""A private Etalase for fault injection: its own Kafka broker, its own PostgreSQL cluster and the
four services, on free ports, started, broken and restarted with the project's own scripts
(deploy/up.sh, kafka.sh, postgres.sh, services.sh), so a run never touches the shared broker or
database other work is using."""

import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("registration", "catalog", "purchasing", "reporting")
SHARED_PORTS = frozenset({5432, 8001, 8002, 8003, 8004, 9092, 9093})
# Settings a caller's shell may hold for the shared infrastructure: never passed on.
_SHARED_SETTINGS = ("KAFKA_BOOTSTRAP_SERVERS", "ETALASE_POSTGRES_URL", "KAFKA_PORT")


def free_port() -> int:
    """A port nothing listens on, below the kernel's range for outgoing connections: one from
    inside that range can be taken by some client's connection (Kafka's, PostgreSQL's) in the
    seconds before the server binds it."""
    first_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        port = random.randrange(10_000, first_ephemeral)
        if port in SHARED_PORTS:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


class ScriptFailed(RuntimeError):
    pass


@dataclass
class PrivateStack:
    run_dir: Path
    kafka_port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    postgres_port: int = field(default_factory=free_port)
    http_ports: dict[str, int] = field(default_factory=lambda: {s: free_port() for s in SERVICES})
    cluster: str = field(default_factory=lambda: f"etalase_chaos_{uuid.uuid4().hex[:6]}")

    @property
    def kafka(self) -> str:
        return f"localhost:{self.kafka_port}"

    @property
    def postgres(self) -> str:
        """A libpq server URL (the etalase role may create databases)."""
        return f"postgresql://etalase:etalase@localhost:{self.postgres_port}/postgres"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.http_ports[service]}"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in _SHARED_SETTINGS
            and not key.endswith(("_DATABASE_URL", "_HTTP_PORT"))
            and not key.startswith("OTEL_")
        }
        env.update(
            ETALASE_RUN=str(self.run_dir),
            KAFKA_BOOTSTRAP_SERVERS=self.kafka,
            KAFKA_PORT=str(self.kafka_port),
            KAFKA_CONTROLLER_PORT=str(self.controller_port),
            KAFKA_HEAP_OPTS="-Xmx384m -Xms128m",
            ETALASE_POSTGRES_URL=self.postgres,
            ETALASE_PG_CLUSTER=self.cluster,
            ETALASE_PG_PORT=str(self.postgres_port),
            ETALASE_PG_MAX_CONNECTIONS="200",
        )
        return env

    async def script(self, name: str, *args: str, **extra: str) -> None:
        """Runs deploy/<name> on this stack; its output goes to scripts.log."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with (self.run_dir / "scripts.log").open("ab") as log:
            log.write(f"\n$ deploy/{name} {' '.join(args)}\n".encode())
            log.flush()
            process = await asyncio.create_subprocess_exec(
                "bash",
                str(REPO / "deploy" / name),
                *args,
                cwd=REPO,
                env={**self.env(), **extra},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
            code = await process.wait()
        if code != 0:
            tail = (self.run_dir / "scripts.log").read_text(errors="replace").splitlines()[-30:]
            raise ScriptFailed(f"deploy/{name} {' '.join(args)} exited {code}:\n" + "\n".join(tail))

    async def up(self) -> None:
        if {self.kafka_port, self.postgres_port} & SHARED_PORTS:
            raise RuntimeError("a private stack must not use the shared ports")
        await self.script("up.sh")
        with (self.run_dir / "env").open("a") as env:
            for service, port in self.http_ports.items():
                env.write(f"export {service.upper()}_HTTP_PORT={port}\n")
        await self.start_services()

    async def start_services(self) -> None:
        """Starts those not running (after a kill, the killed one) and waits until all are
        ready."""
        await self.script("services.sh", "start")

    def kill_service(self, service: str) -> None:
        """kill -9 of the service's whole process group (uv and the python it runs)."""
        pid = int((self.run_dir / "services" / f"{service}.pid").read_text())
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)

    def kill_broker(self) -> None:
        pid = int((self.run_dir / "kafka" / "kafka.pid").read_text())
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    async def start_broker(self) -> None:
        await self.script("kafka.sh", "start")

    async def stop_broker(self) -> None:
        await self.script("kafka.sh", "stop")

    async def crash_postgres(self) -> None:
        """An immediate stop: no checkpoint, clients cut off, crash recovery at the next start."""
        await self.script("postgres.sh", "stop", ETALASE_PG_STOP_MODE="immediate")

    async def start_postgres(self) -> None:
        await self.script("postgres.sh", "start")

    async def down(self) -> None:
        """Stops everything, drops the private cluster and the run's state."""
        for name, args in (("services.sh", ("stop",)), ("kafka.sh", ("stop",))):
            with contextlib.suppress(ScriptFailed):
                await self.script(name, *args)
        with contextlib.suppress(ScriptFailed):
            await self.script("postgres.sh", "stop")
        version = _postgres_version()
        if version:
            dropped = await asyncio.create_subprocess_exec(
                "pg_dropcluster",
                "--stop",
                version,
                self.cluster,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            await dropped.wait()

    def remove_state(self) -> None:
        shutil.rmtree(self.run_dir, ignore_errors=True)


def _postgres_version() -> str | None:
    versions = sorted(
        (p.parent.parent.name for p in Path("/usr/lib/postgresql").glob("*/bin/postgres")),
        key=int,
    )
    return versions[-1] if versions else None
