"""The OpenAPI document of a service, with every status each operation can answer.

Routes declare only what is theirs (their success model, a specific 409's description); the
error answers every route shares are derived here from what the route depends on, each with one
problem-details schema under `application/problem+json`:

- 422 on every operation: any parameter, header or body may be invalid (a NUL anywhere, too);
- 401 and 403 where the route needs a bearer token;
- 404 where the path names a resource;
- 409 on authenticated writes (a state or another datum forbids the change);
- 503 on every operation that uses the database or the broker (all but the platform's own
  documents and liveness).
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from etalase_platform.problems import PROBLEM_JSON, ProblemDetails

_REF = "#/components/schemas/{model}"
DESCRIPTIONS = {
    401: "Missing or invalid bearer token",
    403: "The token's role or scope does not cover this",
    404: "No such resource",
    409: "The resource's state, or other data, forbids this",
    422: "Invalid input; `errors` names each field",
    503: "A dependency (database or broker) is unavailable: retry after `Retry-After` seconds",
}
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_RETRY_AFTER = {
    "description": "Seconds to wait before retrying",
    "schema": {"type": "integer", "minimum": 0},
}


def problem(status: int, description: str | None = None) -> dict[str, Any]:
    """An OpenAPI response answered with problem details."""
    return {
        "description": description or DESCRIPTIONS.get(status, "Error"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": _REF.format(model="Problem")}}},
    }


def statuses(method: str, operation: dict[str, Any], *, self_contained: bool) -> set[int]:
    """The error statuses an operation can answer, read from its own description: whether it
    needs a token (`security`), names a resource in its path, and writes."""
    found = {422}
    if not self_contained:
        found.add(503)
    if operation.get("security"):
        found |= {401, 403}
        if method.upper() in _WRITES:
            found.add(409)
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
        found.add(404)
    return found


def install_openapi(app: FastAPI, *, self_contained: Callable[[str], bool]) -> None:
    """Replaces `app.openapi` with the completed document (built once, on first use);
    `self_contained(path)` tells the paths that use neither the database nor the broker."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = complete(document, self_contained)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any], self_contained: Callable[[str], bool]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = ProblemDetails.model_json_schema(ref_template=_REF)
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in statuses(method, operation, self_contained=self_contained(path)):
                responses.setdefault(str(status), {})
            for key, response in responses.items():
                if key.isdigit() and int(key) >= 400:
                    _as_problem(int(key), response)
            if "503" in responses:
                responses["503"].setdefault("headers", {}).setdefault("Retry-After", _RETRY_AFTER)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def _as_problem(status: int, response: dict[str, Any]) -> None:
    """A route's own description is kept; a body it did not give (or FastAPI's default
    validation error) becomes problem details."""
    content = response.get("content", {})
    if not content or PROBLEM_JSON in content or "HTTPValidationError" in str(content):
        response["content"] = problem(status)["content"]
    if not response.get("description") or response["description"] == "Validation Error":
        response["description"] = DESCRIPTIONS.get(status, "Error")


def as_openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """The document rewritten as OpenAPI 3.0.3, for the packaged Swagger UI (4.x), which
    renders nothing of a 3.1 document. Display only: `/openapi.json` stays the contract."""
    converted = _to_30(document)
    assert isinstance(converted, dict)
    converted["openapi"] = "3.0.3"
    return converted


_NOT_IN_30 = (
    "propertyNames",
    "prefixItems",
    "patternProperties",
    "unevaluatedProperties",
    "dependentRequired",
    "dependentSchemas",
    "contentMediaType",
    "contentEncoding",
    "$schema",
)


def _to_30(node: Any) -> Any:
    if isinstance(node, list):
        return [_to_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {
        # a `properties` map is keyed by field names, which may look like keywords (`type`)
        key: {name: _to_30(schema) for name, schema in value.items()}
        if key == "properties" and isinstance(value, dict)
        else _to_30(value)
        for key, value in node.items()
        if key not in _NOT_IN_30
    }
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [option for option in options if option != {"type": "null"}]
            del node[key]
            node["nullable"] = True
            if len(rest) == 1 and "$ref" not in rest[0]:
                node = {**rest[0], **node}
            elif len(rest) == 1:
                node["allOf"] = rest
            else:
                node[key] = rest
    if isinstance(node.get("type"), list):
        types = [kind for kind in node["type"] if kind != "null"]
        node["nullable"] = len(types) < len(node["type"])
        node["type"] = types[0] if types else "string"
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list):  # a schema's list, not a media type's map
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), int | float) and not isinstance(node[bound], bool):
            node[limit] = node[bound]
            node[bound] = True
    return node
