"""`ETALASE_TRUSTED_HOSTS`: a request naming another host is refused with a problem (400) before
any route runs; the names configured, a wildcard domain and `*` are answered."""

import httpx
import pytest
from etalase_platform.http import create_app
from etalase_platform.runtime import ServiceRuntime
from etalase_platform.settings import ServiceSettings
from fastapi import FastAPI

from tests.platform.support import MIGRATIONS


def _app(trusted_hosts: str) -> FastAPI:
    # no lifespan: /health/live needs neither the database nor the broker
    settings = ServiceSettings(service_name="hosts", trusted_hosts=trusted_hosts)
    return create_app(
        title="hosts", runtime=ServiceRuntime(settings, MIGRATIONS), routers=[], asyncapi=dict
    )


async def _status(app: FastAPI, host: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://any") as client:
        return await client.get("/health/live", headers={"Host": host})


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("katalog.example.go.id", 200),
        ("katalog.example.go.id:8443", 200),
        ("api.katalog.example.go.id", 200),
        ("localhost:8002", 200),
        ("[::1]:8002", 200),
        ("evil.example", 400),
        ("katalog.example.go.id.evil.example", 400),
        ("", 400),
    ],
)
async def test_only_the_configured_hosts_are_answered(host: str, status: int) -> None:
    app = _app("katalog.example.go.id, *.katalog.example.go.id, localhost, ::1")
    response = await _status(app, host)
    assert response.status_code == status, response.text
    if status == 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"] == [
            {"field": "host", "message": "this service does not answer for that name"}
        ]
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_every_host_is_answered_by_default() -> None:
    assert (await _status(_app("*"), "evil.example")).status_code == 200
