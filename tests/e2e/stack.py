"""The four services as real processes (`python -m etalase_<service>.main`), each on a free port
with a fresh database, its own consumer group and its own span file."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SERVICES = ("registration", "catalog", "purchasing", "reporting")
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Stack:
    directory: Path
    urls: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    """Each service's consumer group (its consumers' Kafka groups begin with it)."""

    def trace_file(self, service: str) -> Path:
        return self.directory / f"{service}.spans.jsonl"

    def log_file(self, service: str) -> Path:
        return self.directory / f"{service}.log"

    def env(self) -> dict[str, str]:
        """What `python -m demo` needs to find this stack."""
        env = {**os.environ, **self.extra}
        for service, url in self.urls.items():
            env[f"{service.upper()}_HTTP_PORT"] = url.rsplit(":", 1)[1]
            env[f"{service.upper()}_HTTP_HOST"] = "127.0.0.1"
        return env

    def start(self, kafka: str, databases: dict[str, str], extra: dict[str, str]) -> None:
        run = uuid.uuid4().hex[:8]
        self.extra = extra
        for service in SERVICES:
            port = free_port()
            prefix = service.upper()
            self.groups[service] = f"e2e-{run}-{service}"
            env = {
                key: value
                for key, value in os.environ.items()
                if not key.startswith("OTEL_") and not key.endswith("_HTTP_PORT")
            }
            env.update(
                {
                    "KAFKA_BOOTSTRAP_SERVERS": kafka,
                    f"{prefix}_DATABASE_URL": databases[service],
                    f"{prefix}_HTTP_PORT": str(port),
                    f"{prefix}_HTTP_HOST": "127.0.0.1",
                    f"{prefix}_CONSUMER_GROUP": self.groups[service],
                    "ETALASE_TRACE_FILE": str(self.trace_file(service)),
                    **extra,
                }
            )
            log = self.log_file(service).open("wb")
            self.processes[service] = subprocess.Popen(
                [sys.executable, "-m", f"etalase_{service}.main"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            self.urls[service] = f"http://127.0.0.1:{port}"
        for service in SERVICES:
            self._wait_ready(service)

    def _wait_ready(self, service: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[service].poll() is not None:
                raise RuntimeError(f"{service} exited:\n{self.tail(service)}")
            try:
                if httpx.get(self.urls[service] + "/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{service} not ready within {timeout}s:\n{self.tail(service)}")

    def tail(self, service: str, lines: int = 40) -> str:
        text = self.log_file(service).read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def pause(self, service: str) -> None:
        os.kill(self.processes[service].pid, signal.SIGSTOP)

    def resume(self, service: str) -> None:
        os.kill(self.processes[service].pid, signal.SIGCONT)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
