"""A private Kafka broker and a Prometheus for the ops tests, started with the deploy/ scripts.

The tests stop and restart this broker, so it is never the suite's shared one: deploy/kafka.sh
runs it under its own ETALASE_RUN, on free ports."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.e2e.stack import free_port
from tests.ops.observability import RULE_FILES

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PrivateKafka:
    run: Path
    port: int
    controller_port: int

    @property
    def bootstrap(self) -> str:
        return f"localhost:{self.port}"

    def _script(self, command: str, timeout: float = 300) -> None:
        env = {key: value for key, value in os.environ.items() if key != "KAFKA_BOOTSTRAP_SERVERS"}
        env.update(
            ETALASE_RUN=str(self.run),
            KAFKA_PORT=str(self.port),
            KAFKA_CONTROLLER_PORT=str(self.controller_port),
            # C1 only: a broker restarted on a busy machine answers sooner
            KAFKA_HEAP_OPTS="-Xmx384m -Xms128m -XX:TieredStopAtLevel=1",
            KAFKA_START_TIMEOUT="240",
        )
        subprocess.run(
            ["bash", str(ROOT / "deploy/kafka.sh"), command], env=env, check=True, timeout=timeout
        )

    def start(self) -> None:
        self._script("start")

    def stop(self) -> None:
        self._script("stop", timeout=60)

    def create_topics(self) -> None:
        subprocess.run(
            [sys.executable, str(ROOT / "deploy/topics.py"), "--bootstrap-servers", self.bootstrap],
            check=True,
            timeout=120,
            cwd=ROOT,
        )

    @classmethod
    def on_free_ports(cls, run: Path) -> "PrivateKafka":
        return cls(run, free_port(), free_port())


@dataclass
class Prometheus:
    run: Path
    port: int
    targets: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _script(self, command: str) -> None:
        env = {
            **os.environ,
            "ETALASE_RUN": str(self.run),
            "PROMETHEUS_PORT": str(self.port),
            "PROMETHEUS_SCRAPE_INTERVAL": "1s",
            "PROMETHEUS_TARGETS": ",".join(f"{job}={a}" for job, a in self.targets.items()),
            "PROMETHEUS_RULES": str(self.fast_rules()),
        }
        subprocess.run(
            ["bash", str(ROOT / "deploy/prometheus.sh"), command], env=env, check=True, timeout=90
        )

    def fast_rules(self) -> Path:
        """The real rules with every `for:` cut to a few seconds, so a test sees them fire."""
        path = self.run / "fast.rules.yml"
        groups = [g for file in RULE_FILES for g in yaml.safe_load(file.read_text())["groups"]]
        for group in groups:
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = "4s"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
        return path

    def start(self) -> None:
        self._script("start")

    def stop(self) -> None:
        self._script("stop")
