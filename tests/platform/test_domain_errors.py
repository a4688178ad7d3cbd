"""Domain errors become problem details in one place: the handler `http.create_app` installs."""

from collections.abc import AsyncIterator

import httpx
import pytest
from etalase_platform.domain_errors import InvalidField, RuleBroken
from etalase_platform.problems import (
    PROBLEM_JSON,
    Conflict,
    Invalid,
    as_problem,
    install_problem_handlers,
)
from fastapi import FastAPI


def test_an_invalid_field_is_the_same_problem_as_invalid() -> None:
    problem = as_problem(InvalidField("lines.1.quantity", "must be at least 1"))
    assert isinstance(problem, Invalid)
    assert problem.body() == Invalid("lines.1.quantity", "must be at least 1").body()


def test_a_broken_rule_is_a_conflict_naming_the_rule_and_its_details() -> None:
    problem = as_problem(RuleBroken("pagu_exceeded", "over the pagu", remaining_idr=5))
    assert isinstance(problem, Conflict)
    assert problem.body() == {
        "type": "https://etalase.go.id/problems/409",
        "title": "Conflict",
        "status": 409,
        "detail": "over the pagu",
        "rule": "pagu_exceeded",
        "remaining_idr": 5,
    }


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/invalid")
    async def invalid() -> None:
        raise InvalidField("price_idr", "must be more than 0 rupiah")

    @app.post("/broken")
    async def broken() -> None:
        raise RuleBroken("transition_forbidden", "cannot verify", vendor_status="verified")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_a_domain_module_raising_invalid_field_answers_422_naming_it(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/invalid")
    assert (response.status_code, response.headers["content-type"]) == (422, PROBLEM_JSON)
    assert response.json()["errors"] == [
        {"field": "price_idr", "message": "must be more than 0 rupiah"}
    ]


async def test_a_domain_module_breaking_a_rule_answers_409_with_the_rule(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/broken")
    assert (response.status_code, response.headers["content-type"]) == (409, PROBLEM_JSON)
    body = response.json()
    assert (body["rule"], body["vendor_status"], body["detail"]) == (
        "transition_forbidden",
        "verified",
        "cannot verify",
    )


def test_a_detail_may_not_shadow_a_member_of_the_problem_document() -> None:
    with pytest.raises(ValueError, match="status"):
        as_problem(RuleBroken("transition_forbidden", "cannot accept", status="completed"))
