"""The AsyncAPI documents pass the official parser (`@asyncapi/parser`, run by
tools/node/validate-asyncapi.mjs): the published one and the one each service serves."""

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from etalase_catalog.bootstrap import create_app as catalog_app
from etalase_events.schemas import ASYNCAPI_FILE, ROOT
from etalase_purchasing.bootstrap import create_app as purchasing_app
from etalase_registration.bootstrap import create_app as registration_app
from etalase_reporting.bootstrap import create_app as reporting_app
from fastapi import FastAPI

VALIDATOR = Path(__file__).resolve().parents[2] / "tools" / "node" / "validate-asyncapi.mjs"
SERVICES: dict[str, Callable[[], FastAPI]] = {
    "catalog": catalog_app,
    "purchasing": purchasing_app,
    "registration": registration_app,
    "reporting": reporting_app,
}


async def _served(create_app: Callable[[], FastAPI]) -> dict[str, Any]:
    """The document at `/asyncapi`, as an integrator fetches it (no broker or database needed)."""
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        response = await client.get("/asyncapi", headers={"Accept": "application/json"})
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _validate(paths: list[Path]) -> tuple[int, list[dict[str, Any]]]:
    node = shutil.which("node")
    assert node, "node is not installed (bash deploy/tools.sh)"
    assert (VALIDATOR.parent / "node_modules" / "@asyncapi" / "parser").is_dir(), (
        "run bash deploy/tools.sh"
    )
    done = subprocess.run(
        [node, str(VALIDATOR), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    reports = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(reports) == len(paths), done.stderr
    return done.returncode, reports


def _errors(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in report["diagnostics"] if d["severity"] in {"Error", "Warning"}]


async def test_every_asyncapi_document_parses_without_errors_or_warnings(tmp_path: Path) -> None:
    paths = [ROOT / ASYNCAPI_FILE]
    for service, create_app in SERVICES.items():
        path = tmp_path / f"{service}.json"
        path.write_text(json.dumps(await _served(create_app)), encoding="utf-8")
        paths.append(path)

    returncode, reports = _validate(paths)

    assert [(r["file"], _errors(r)) for r in reports if not r["parsed"] or _errors(r)] == []
    assert returncode == 0


def test_the_parser_reports_a_broken_document(tmp_path: Path) -> None:
    """The check has teeth: a message the channels point at but nobody defines is an error."""
    document = json.loads((ROOT / ASYNCAPI_FILE).read_text(encoding="utf-8"))
    del document["components"]["messages"]["OrderPlaced.v1"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    returncode, (report,) = _validate([path])

    assert returncode == 1
    assert any(d["severity"] == "Error" for d in report["diagnostics"])
