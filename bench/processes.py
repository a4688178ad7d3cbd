"""Servers run as subprocesses, as they run in production: one uvicorn process each, on a free port,
with their output in a log file; their peak memory read from /proc when they stop."""

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from etalase_platform.auth import mint_token
from etalase_platform.logs import EVENT_LOOP, HTTP_PARSER
from etalase_platform.settings import DEV_JWT_SECRET

from bench.environment import REPO, Infra, free_port, libpq_url

SERVICES = ("registration", "catalog", "purchasing", "reporting")
READY_TIMEOUT_S = 120.0
CAUGHT_UP_READS = 3  # consecutive reads showing no lag
CONSUMING = ("catalog", "purchasing", "reporting")
_PR_SET_PDEATHSIG = 1


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    peak_rss_mib: float | None = field(default=None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_so_far(self) -> float | None:
        """The kernel's high-water mark of the process's resident set (VmHWM), in MiB."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited at start; see {self.log}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/health/ready")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{self.name} not ready in {READY_TIMEOUT_S:.0f}s; see {self.log}"
                    )
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        if self.process.poll() is None:
            self.peak_rss_mib = self.peak_rss_so_far()
            # uvicorn shuts down gracefully on either; after SIGINT a profiler still writes
            self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.to_thread(self.process.wait, 15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)


async def consumer_lag(server: Server) -> int | None:
    """Records the service's consumers are behind the log end; None while that is not known yet.

    Reporting says so itself (`GET /projections`, from the offsets its projections stored);
    the others' figures come from their `/metrics` (set once a consumer has fetched)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=5.0) as client:
        if server.name == "reporting":
            token = mint_token(DEV_JWT_SECRET, role="auditor")
            response = await client.get(
                "/projections", headers={"Authorization": f"Bearer {token}"}
            )
            response.raise_for_status()
            items = response.json()["items"]
            return sum(int(item["lag"]) for item in items) if items else None
        text = (await client.get("/metrics")).text
    lags = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("etalase_consumer_lag{")
    ]
    return round(sum(lags)) if lags else None


async def wait_caught_up(servers: list[Server], timeout: float) -> float:
    """Waits until every server's consumers have read the shared topics to their end (they start
    from the beginning, and reading the history would otherwise load the first measurements);
    returns how long that took."""
    started = time.monotonic()
    quiet_reads = 0
    while quiet_reads < CAUGHT_UP_READS:
        lags = await asyncio.gather(*(consumer_lag(server) for server in servers))
        quiet_reads = quiet_reads + 1 if all(lag == 0 for lag in lags) else 0
        if time.monotonic() - started > timeout:
            behind = {s.name: lag for s, lag in zip(servers, lags, strict=True)}
            raise RuntimeError(f"consumers not caught up in {timeout:.0f}s: {behind}")
        await asyncio.sleep(0.5)
    return time.monotonic() - started


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel sends it SIGTERM when the harness dies, however
    it dies, so a killed run leaves no service behind writing to the shared topics."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(name: str, command: list[str], env: dict[str, str], logs: Path, port: int) -> Server:
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
    return Server(name, port, process, log)


async def start_service(name: str, infra: Infra, logs: Path, *, profile: bool = False) -> Server:
    """`python -m etalase_<name>.main` with a fresh database and a consumer group of its own (so
    it builds its views from the start of the shared topics, as a new instance does); under
    pyinstrument when `profile` (its session is written next to its log when it stops)."""
    port = free_port()
    prefix = name.upper()
    group = f"bench.{infra.run_id}.{name}"
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka,
        f"{prefix}_HTTP_HOST": "127.0.0.1",
        f"{prefix}_HTTP_PORT": str(port),
        f"{prefix}_DATABASE_URL": await infra.new_database(name),
        f"{prefix}_CONSUMER_GROUP": group,
    }
    command = [sys.executable, "-m", f"etalase_{name}.main"]
    if profile:
        # a session, to render later as needed: `pyinstrument --load FILE [--show-all]`
        session = logs / f"{name}.pyisession"
        profiler = ["-m", "pyinstrument", "-o", str(session), "-r", "pyisession"]
        command = [sys.executable, *profiler, "-m", f"etalase_{name}.main"]
    return _spawn(name, command, env, logs, port)


async def start_baseline(infra: Infra, logs: Path) -> Server:
    port = free_port()
    env = {**os.environ, "BASELINE_DATABASE_URL": libpq_url(await infra.new_database("baseline"))}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.baseline_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        # the services' server stack, so that the ratio compares the work, not the loop
        "--loop",
        EVENT_LOOP,
        "--http",
        HTTP_PARSER,
    ]
    return _spawn("baseline", command, env, logs, port)
