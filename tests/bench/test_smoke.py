"""The benchmark harness, run in quick mode against the real Kafka and PostgreSQL: it starts the
services, runs every benchmark and reports each one. The figures are not judged (a smoke-sized
run on a shared CI machine proves nothing about speed); that every benchmark ran and was
reported, is."""

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Infra

pytestmark = pytest.mark.infra

REPO = Path(__file__).resolve().parents[2]
ROWS = [
    "order write path",
    "outbox relay",
    "projection catch-up, one process",
    "projection catch-up, 2 processes",
    "catalog and purchasing views from the start of the log",
    "end-to-end freshness",
    "memory: registration",
    "memory: catalog",
    "memory: purchasing",
    "memory: reporting",
]


@pytest.fixture(scope="module")
async def quick_run(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka,
        "ETALASE_POSTGRES_URL": infra.postgres,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench",
        "--quick",
        "--json",
        str(out / "latest.json"),
        "--markdown",
        str(out / "benchmarks.md"),
        "--logs",
        str(out / "logs"),
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return {
        "returncode": process.returncode,
        "output": output.decode(errors="replace"),
        "json": out / "latest.json",
        "markdown": out / "benchmarks.md",
    }


async def test_every_benchmark_runs(quick_run: dict[str, Any]) -> None:
    assert quick_run["returncode"] == 0, quick_run["output"][-6000:]


async def test_the_json_holds_every_row_with_figures(quick_run: dict[str, Any]) -> None:
    results = json.loads(quick_run["json"].read_text())
    assert [row["what"] for row in results["rows"]] == ROWS
    unmeasured = [row for row in results["rows"] if row["met"] is None]
    assert not unmeasured, unmeasured
    assert results["write_path"]["orders"]["ok"] > 0
    assert results["write_path"]["baseline"]["ok"] > 0
    assert results["relay"]["relay_per_s"] > 0 and results["relay"]["raw_per_s"] > 0
    assert results["projection"]["processes_events_per_s"] > 0
    for service in ("purchasing", "catalog"):
        view = results["views"][service]
        assert view["applied"] == view["events"] > 0
        # its database's backends did the writing: 0 would mean the meter watched no backend
        assert view["cpu_us_per_event"]["postgresql"] > 0
    assert list(results["settled"]) == ["relay", "projection", "views", "services"]
    assert results["freshness"]["orders_measured"] > 0
    assert results["freshness"]["orders_never_counted"] == 0
    for service in ("registration", "catalog", "purchasing", "reporting"):
        assert results["memory"][service]["peak_rss_mib"] > 0
    assert results["rebuild"]["seconds"] > 0  # reporting's rebuild went live during the run
    assert results["machine"]["cores"] > 0
    assert results["machine"]["python"].startswith("3.11")


async def test_the_table_is_printed_and_written(quick_run: dict[str, Any]) -> None:
    markdown = quick_run["markdown"].read_text()
    for text in (quick_run["output"], markdown):
        assert "| what | measured as | result |" in text
        for row in ROWS:
            assert f"| {row} |" in text
    assert "uv run python -m bench --quick" in markdown
    assert "PostgreSQL" in markdown and "Kafka" in markdown
