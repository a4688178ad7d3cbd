"""The HTTP plumbing every service shares, through a small app over real PostgreSQL and Kafka."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from etalase_platform.auth import CurrentPrincipal, Role
from etalase_platform.db import create_engine, session_transaction
from etalase_platform.deps import IdempotencyKey, Paging, Sessions
from etalase_platform.http import create_app
from etalase_platform.idempotency import ANSWER_SQL, Answer, respond, run_once
from etalase_platform.problems import Conflict
from etalase_platform.runtime import ServiceRuntime
from etalase_platform.settings import ServiceSettings
from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.helpers import DatabaseFactory, Infra, bearer, serve, unique
from tests.platform.support import MIGRATIONS, recorded_spans

pytestmark = pytest.mark.infra


class Thing(BaseModel):
    name: str = Field(min_length=1)
    size: int = Field(gt=0)


def _router() -> APIRouter:
    router = APIRouter()

    @router.post("/things", status_code=201)
    async def create_thing(
        thing: Annotated[Thing, Body()],
        principal: CurrentPrincipal,
        sessions: Sessions,
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        principal.require_role(Role.ADMIN)

        async def create(session: AsyncSession, _answer: Answer) -> dict[str, Any]:
            if thing.name == "taken":
                raise Conflict("that name is taken", rule="name_taken", existing="t-1")
            row = await session.execute(
                text(
                    "INSERT INTO effects (event_id, subject, sequence) VALUES (:n, 'thing', 1)"
                    " RETURNING applied_order"
                ),
                {"n": thing.name},
            )
            return {"id": row.scalar_one(), "name": thing.name}

        stored = await run_once(
            session_transaction(sessions),
            key=key,
            scope=f"things:{principal.sub}",
            request=thing,
            create=create,
        )
        return respond(stored)

    @router.post("/things/answered", status_code=201)
    async def create_thing_answering(
        thing: Annotated[Thing, Body()],
        principal: CurrentPrincipal,
        sessions: Sessions,
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        """A creation whose own statement stores the key's answer (as placing an order does)."""

        async def create(session: AsyncSession, answer: Answer) -> dict[str, Any]:
            body = {"name": thing.name, "size": thing.size}
            await session.execute(
                text(
                    f"WITH answered AS ({ANSWER_SQL}) INSERT INTO effects"
                    " (event_id, subject, sequence) VALUES (:n, 'thing', 1)"
                ),
                {"n": thing.name, **answer.parameters(body)},
            )
            return body

        stored = await run_once(
            session_transaction(sessions),
            key=key,
            scope=f"things:{principal.sub}",
            request=thing,
            create=create,
        )
        return respond(stored)

    @router.get("/things")
    async def list_things(paging: Paging) -> dict[str, int]:
        return {"limit": paging.limit, "offset": paging.offset}

    return router


@pytest.fixture(scope="module")
async def client(infra: Infra, new_database: DatabaseFactory) -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(
        service_name="things",
        database_url=await new_database("http"),
        kafka_bootstrap_servers=infra.kafka,
    )
    runtime = ServiceRuntime(settings, MIGRATIONS)
    app = create_app(title="things", runtime=runtime, routers=[_router()], asyncapi=lambda: {})
    async with serve(app) as http:
        yield http


ADMIN = bearer("admin", region="33.75")


async def test_health_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).status_code == 200
    assert (await client.get("/health/ready")).json()["status"] == "ready"
    await client.get("/things")
    metrics = (await client.get("/metrics")).text
    assert (
        'etalase_http_requests_total{method="GET",route="/things",service="things",status="200"}'
        in metrics
    )


async def test_ready_is_503_when_the_database_is_unreachable(client: httpx.AsyncClient) -> None:
    runtime: ServiceRuntime = client._transport.app.state.runtime  # type: ignore[attr-defined]
    healthy = runtime.engine
    runtime.engine = create_engine("postgresql+asyncpg://nobody:x@127.0.0.1:1/none")
    try:
        response = await client.get("/health/ready")
    finally:
        await runtime.engine.dispose()
        runtime.engine = healthy
    assert response.status_code == 503
    assert "database" in response.json()["problems"][0]


async def test_invalid_input_is_a_422_problem_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", json={"name": "x", "size": 0}, headers=ADMIN)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422 and body["title"]
    assert [e["field"] for e in body["errors"]] == ["size"]


async def test_malformed_json_is_a_422_not_a_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/things", content=b"{not json", headers={**ADMIN, "content-type": "application/json"}
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer nonsense"}, 401),
        (bearer("vendor", vendor_id="v"), 403),
    ],
)
async def test_authentication_and_roles(
    client: httpx.AsyncClient, headers: dict[str, str], status: int
) -> None:
    response = await client.post("/things", json={"name": "x", "size": 1}, headers=headers)
    assert response.status_code == status
    assert response.json()["status"] == status


async def test_a_conflict_carries_its_extra_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", json={"name": "taken", "size": 1}, headers=ADMIN)
    assert response.status_code == 409
    assert (response.json()["rule"], response.json()["existing"]) == ("name_taken", "t-1")


async def test_unknown_routes_and_paging_limits_are_problems(client: httpx.AsyncClient) -> None:
    assert (await client.get("/nothing-here")).status_code == 404
    assert (await client.get("/things?limit=501")).status_code == 422
    assert (await client.get("/things")).json() == {"limit": 50, "offset": 0}


async def test_an_idempotency_key_replays_the_first_response(client: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": unique("k-")}
    body = {"name": unique("thing-"), "size": 2}
    first = await client.post("/things", json=body, headers={**ADMIN, **key})
    again = await client.post("/things", json=body, headers={**ADMIN, **key})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await client.post("/things", json={**body, "size": 3}, headers={**ADMIN, **key})
    assert other.status_code == 422  # the same key for a different request


async def test_a_creation_storing_its_own_answer_is_replayed_without_a_statement_more(
    client: httpx.AsyncClient,
) -> None:
    exporter = recorded_spans()
    key = {"Idempotency-Key": unique("k-")}
    body = {"name": unique("thing-"), "size": 2}
    first = await client.post("/things/answered", json=body, headers={**ADMIN, **key})
    again = await client.post("/things/answered", json=body, headers={**ADMIN, **key})
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json() == body
    assert again.headers["Idempotent-Replayed"] == "true"
    statements = [
        str((span.attributes or {})["db.statement"])
        for span in exporter.get_finished_spans()
        if "db.statement" in (span.attributes or {})
    ]
    # the creation's statement stored the answer: run_once ran no UPDATE of its own
    assert [s for s in statements if s.startswith("UPDATE idempotency_keys")] == []
    assert len([s for s in statements if "INTO effects" in s]) == 1
    # without a key, nothing is stored and the creation still runs
    keyless = await client.post("/things/answered", json={**body, "name": unique()}, headers=ADMIN)
    assert keyless.status_code == 201


async def test_concurrent_retries_with_one_key_create_once(client: httpx.AsyncClient) -> None:
    import asyncio

    key = {"Idempotency-Key": unique("k-")}
    body = {"name": unique("thing-"), "size": 2}
    responses = await asyncio.gather(
        *(client.post("/things", json=body, headers={**ADMIN, **key}) for _ in range(10))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
