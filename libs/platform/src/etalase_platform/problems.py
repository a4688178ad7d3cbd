"""RFC 9457 problem details: every error a client can cause gets a clear status and body.

The service layer raises a `Problem` (`NotFound`, `Forbidden`, `Conflict`, ...); domain modules
raise `domain_errors.InvalidField` or `RuleBroken`, answered here too (`as_problem`)."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from etalase_platform.domain_errors import DomainError, InvalidField, RuleBroken

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE = "https://etalase.go.id/problems/{status}"


class FieldError(BaseModel):
    field: str = Field(
        description="Where: a body field (`lines.0.quantity`), a parameter, or `body`"
    )
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, the body of every error answer. Some problems add members
    (a 409 names its `rule`, a duplicate NIB its `vendor_id`)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(examples=["https://etalase.go.id/problems/422"])
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    errors: list[FieldError] = Field(default_factory=list, description="Each invalid field (422)")


_MEMBERS = frozenset({"type", "title", "status", "detail", "errors", "instance"})


class Problem(Exception):
    """An error the service layer raises; rendered as problem details."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any):
        shadowed = sorted(_MEMBERS.intersection(extra))
        if shadowed:
            # `status: "placed"` in a body would make it no problem document at all
            raise ValueError(f"extra members named like RFC 9457's own: {shadowed}")
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE.format(status=self.status),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class Unauthorized(Problem):
    status = 401
    title = "Unauthorized"


class Forbidden(Problem):
    status = 403
    title = "Forbidden"


class NotFound(Problem):
    status = 404
    title = "Not found"


class Conflict(Problem):
    """A 409: its body names the broken `rule` (snake_case, stable: clients branch on it)."""

    status = 409
    title = "Conflict"

    def __init__(self, detail: str, *, rule: str, **extra: Any) -> None:
        super().__init__(detail, rule=rule, **extra)


class Invalid(Problem):
    status = 422
    title = "Invalid input"

    def __init__(self, field: str, message: str, **extra: Any) -> None:
        super().__init__(
            f"{field}: {message}", errors=[{"field": field, "message": message}], **extra
        )


def as_problem(error: DomainError) -> Problem:
    """The problem a domain error is answered with."""
    if isinstance(error, InvalidField):
        return Invalid(error.field, error.message)
    if isinstance(error, RuleBroken):
        return Conflict(error.detail, rule=error.rule, **error.details)
    raise TypeError(f"no problem for {type(error).__name__}")


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.body(), status_code=problem.status, media_type=PROBLEM_JSON, headers=headers
    )


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, Problem)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
        return problem_response(error, headers)

    async def on_domain_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainError)
        return problem_response(as_problem(error))

    async def on_validation(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = [
            {"field": _field_name(item["loc"]), "message": item["msg"]} for item in error.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(_invalid(detail, errors))

    async def on_http(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code == 400 and isinstance(error.__cause__, _UNREADABLE_BODY):
            # FastAPI's answer to a body it could not decode (not UTF-8, nested too deep):
            # api.md makes every unreadable body a 422, like one that is not JSON at all
            message = "not a JSON document this service can read (UTF-8, not nested too deep)"
            return problem_response(
                _invalid(f"body: {message}", [{"field": "body", "message": message}])
            )
        problem = Problem(str(error.detail))
        problem.status = error.status_code
        problem.title = {404: "Not found", 405: "Method not allowed"}.get(
            error.status_code, "Error"
        )
        return problem_response(problem, dict(error.headers) if error.headers else None)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    # No handler for `Exception`: Starlette would re-raise after it and the connection would
    # be dropped; `outages.Failures` answers those instead.


_UNREADABLE_BODY = (UnicodeDecodeError, RecursionError, ValueError)


def _invalid(detail: str, errors: list[dict[str, Any]]) -> Problem:
    problem = Problem(detail, errors=errors)
    problem.status = 422
    problem.title = "Invalid input"
    return problem
