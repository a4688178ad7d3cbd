"""Each service's OpenAPI document is valid (openapi-spec-validator), and so is the OpenAPI 3.0
rendering its offline Swagger UI reads; every operation documents its errors as problem
details."""

import httpx
import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.validators import OpenAPIV30SpecValidator

from tests.e2e.stack import SERVICES, Stack

pytestmark = pytest.mark.infra
PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.mark.parametrize("service", SERVICES)
async def test_the_openapi_document_is_valid_and_declares_every_error(
    services: Stack, service: str
) -> None:
    async with httpx.AsyncClient(base_url=services.urls[service]) as http:
        document = (await http.get("/openapi.json")).json()
        rendering = (await http.get("/docs/openapi-3.0.json")).json()
    validate(document)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" in responses, (method, path)
            if operation.get("security"):
                assert {"401", "403"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            for status, response in responses.items():
                if int(status) >= 400 and path != "/health/ready":
                    content = response["content"]
                    assert content == {"application/problem+json": {"schema": PROBLEM}}
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    validate(rendering, cls=OpenAPIV30SpecValidator)
    assert rendering["openapi"] == "3.0.3"
