"""Failures a request cannot recover from: a dependency outage is a 503 naming the dependency,
anything else a 500, and neither drops the client's connection.

Starlette gives a handler for `Exception` to its `ServerErrorMiddleware`, which sends the
response and then re-raises; uvicorn then closes the keep-alive connection (without
`Connection: close`), and requests the client had already pipelined on it are lost. `Failures`
is an ASGI middleware inside the user middlewares instead: it answers and does not re-raise, so
the connection stays usable. It also writes the one log line per failed request, with its trace
id; tracebacks are rate-limited, since an outage fails every request the same way.
"""

import logging
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import asyncpg
from aiokafka import errors as kafka_errors
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from sqlalchemy import exc as sa_exc
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from etalase_platform.problems import Problem, problem_response

log = logging.getLogger(__name__)

POSTGRESQL = "postgresql"
KAFKA = "kafka"
RETRY_AFTER_SECONDS = 5
TRACEBACK_INTERVAL_SECONDS = 60.0

_POSTGRES_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08, and a connection lost mid-query
    asyncpg.OperatorInterventionError,  # 57P01-03: shutting down, starting up (CannotConnectNow)
    asyncpg.InsufficientResourcesError,  # 53xxx: too many connections, out of memory or disk
    asyncpg.InterfaceError,  # the connection is closed or in an unusable state
    sa_exc.TimeoutError,  # no connection free in the pool in time
)
_KAFKA_ERRORS: tuple[type[BaseException], ...] = (
    kafka_errors.KafkaConnectionError,
    kafka_errors.KafkaTimeoutError,
    kafka_errors.NodeNotReadyError,
    kafka_errors.RequestTimedOutError,
    kafka_errors.NoBrokersAvailable,
    kafka_errors.LeaderNotAvailableError,
    kafka_errors.NotLeaderForPartitionError,
)
# Plain OS errors and timeouts name no dependency: the code they came from does.
_DRIVER_MODULES = {"asyncpg": POSTGRESQL, "sqlalchemy": POSTGRESQL, "aiokafka": KAFKA}


class DependencyUnavailable(Problem):
    """A dependency the request needs is unreachable: 503, retry later."""

    status = 503
    title = "Service unavailable"

    def __init__(self, dependency: str, detail: str | None = None) -> None:
        super().__init__(
            detail or f"{dependency} is unavailable; retry later", dependency=dependency
        )
        self.dependency = dependency

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        if isinstance(current, sa_exc.DBAPIError) and isinstance(current.orig, BaseException):
            yield current.orig
        current = current.__cause__ or current.__context__


def _raised_in(traceback: TracebackType | None) -> str | None:
    """The dependency whose client code raised, from the innermost frame of a known driver."""
    found = None
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        found = _DRIVER_MODULES.get(module.split(".", 1)[0], found)
        traceback = traceback.tb_next
    return found


def unavailable_dependency(error: BaseException) -> str | None:
    """`postgresql` or `kafka` when `error` means that dependency cannot be reached now."""
    for link in _chain(error):
        if isinstance(link, DependencyUnavailable):
            return link.dependency
        if isinstance(link, _POSTGRES_ERRORS):
            return POSTGRESQL
        if isinstance(link, sa_exc.DBAPIError) and link.connection_invalidated:
            return POSTGRESQL
        if isinstance(link, sa_exc.OperationalError | sa_exc.InterfaceError):
            return POSTGRESQL
        if isinstance(link, _KAFKA_ERRORS):
            return KAFKA
        if isinstance(link, OSError | TimeoutError):  # ConnectionRefusedError, socket.gaierror
            dependency = _raised_in(link.__traceback__)
            if dependency is not None:
                return dependency
    return None


class TracebackLimiter:
    """At most one traceback per error class per interval: the rest get their one line."""

    def __init__(self, interval_seconds: float = TRACEBACK_INTERVAL_SECONDS) -> None:
        self._interval = interval_seconds
        self._last: dict[str, float] = {}

    def allow(self, error: BaseException) -> bool:
        name = f"{type(error).__module__}.{type(error).__qualname__}"
        now = time.monotonic()
        if now - self._last.get(name, -self._interval) < self._interval:
            return False
        self._last[name] = now
        return True


_tracebacks = TracebackLimiter()


def log_failure(logger: logging.Logger, message: str, error: BaseException, *args: Any) -> None:
    """One line for `error`; its traceback only when none of its class was logged lately."""
    logger.error(
        message + " (%s: %s)",
        *args,
        type(error).__name__,
        error,
        exc_info=error if _tracebacks.allow(error) else None,
    )


def failure_response(scope: Scope, error: Exception) -> Problem:
    """The problem to answer for an exception no handler took, logged once with its trace id."""
    dependency = unavailable_dependency(error)
    problem: Problem
    if dependency is not None:
        problem = DependencyUnavailable(dependency)
    else:
        problem = Problem("The server failed to handle this request.")
        problem.status = 500
        problem.title = "Internal server error"
    span = trace.get_current_span()
    span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    context = span.get_span_context()
    trace_id = format(context.trace_id, "032x") if context.is_valid else "-"
    log_failure(
        log,
        "%s %s failed with %d, trace_id=%s",
        error,
        scope.get("method", ""),
        scope.get("path", ""),
        problem.status,
        trace_id,
    )
    return problem


class Failures:
    """ASGI middleware: an exception escaping the app becomes a 503 or 500 problem response on
    the same connection (see the module's docstring). Once a response has started, nothing
    more can be said on that connection, and the error goes on to the server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as error:
            if started:
                raise
            problem = failure_response(scope, error)
            headers = problem.headers() if isinstance(problem, DependencyUnavailable) else None
            await problem_response(problem, headers)(scope, receive, send)


async def on_dependency_unavailable(request: Any, error: Exception) -> Any:
    """Exception handler for a `DependencyUnavailable` the service raised itself."""
    assert isinstance(error, DependencyUnavailable)
    return problem_response(error, error.headers())
