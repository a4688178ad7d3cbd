"""The FastAPI app every service serves: problem details, health, metrics, AsyncAPI, tracing,
the edge checks and headers (`edge`), complete OpenAPI documents (`openapi`) and offline docs
(`docs`)."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from etalase_platform import metrics
from etalase_platform.docs import install_docs
from etalase_platform.edge import SecurityHeaders, TextGuard, TrustedHosts
from etalase_platform.openapi import install_openapi
from etalase_platform.outages import DependencyUnavailable, Failures, on_dependency_unavailable
from etalase_platform.problems import install_problem_handlers
from etalase_platform.runtime import Health, ServiceRuntime
from etalase_platform.settings import ServiceSettings

_SELF_CONTAINED = {"/health/live", "/asyncapi"}
"""Routes that touch neither the database nor the broker, so never answer 503."""


class _RequestMetrics:
    """Latency and count of each request by route and status. Pure ASGI: a BaseHTTPMiddleware
    runs the endpoint in a task of its own and streams the response through a queue, which cost
    more CPU per request than the rest of the middleware stack."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self._app = app
        self._service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless the app answers: an exception that escapes it becomes a 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_and_note)
        finally:
            # the router put the matched route into the (shared) scope
            path = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            metrics.HTTP_LATENCY.labels(self._service, method, path).observe(
                time.perf_counter() - started
            )
            metrics.HTTP_REQUESTS.labels(self._service, method, path, str(status)).inc()


def create_app(
    *,
    title: str,
    runtime: ServiceRuntime,
    routers: Sequence[APIRouter],
    asyncapi: Callable[[], dict[str, Any]],
    version: str = "1.0.0",
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        watch = asyncio.create_task(_watch_readiness(runtime), name=f"{runtime.service}:ready")
        try:
            yield
        finally:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
            await runtime.stop()

    # No trailing-slash redirects: a redirect would echo the request's Host into `Location`,
    # and an API client gets nothing from one that a 404 does not tell it.
    app = FastAPI(
        title=title,
        version=version,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.runtime = runtime
    app.state.jwt_secret = runtime.settings.secret
    install_problem_handlers(app)
    app.add_exception_handler(DependencyUnavailable, on_dependency_unavailable)
    # Failures inside _RequestMetrics: the 500s and 503s it answers are counted too
    app.add_middleware(Failures)
    app.add_middleware(_RequestMetrics, service=runtime.service)
    for router in routers:
        app.include_router(router)
    app.include_router(_operational_routes(runtime, asyncapi))
    install_docs(app, asyncapi)
    install_openapi(app, self_contained=_SELF_CONTAINED.__contains__)
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="health/.*,metrics", exclude_spans=["receive", "send"]
    )
    install_edge(app, runtime.settings)
    return app


async def readiness(runtime: ServiceRuntime) -> Health:
    """Whether the service can do its job, also kept as the readiness gauge."""
    health = await runtime.health()
    metrics.SERVICE_READY.labels(runtime.service).set(0 if health.problems else 1)
    return health


async def _watch_readiness(runtime: ServiceRuntime, interval: float = 5.0) -> None:
    """Prometheus does not call /health/ready; the gauge is refreshed here rather than during a
    scrape, whose timeout a readiness check waiting on a dead broker would exceed."""
    while True:
        with contextlib.suppress(Exception):
            await readiness(runtime)
        await asyncio.sleep(interval)


def install_edge(app: FastAPI, settings: ServiceSettings) -> None:
    """Added last, so outermost: every answer, an early 422 or 400 too, gets the headers."""
    app.add_middleware(TextGuard)
    app.add_middleware(TrustedHosts, hosts=settings.trusted_hosts.split(","))
    app.add_middleware(SecurityHeaders)


def _operational_routes(
    runtime: ServiceRuntime, asyncapi: Callable[[], dict[str, Any]]
) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @router.get(
        "/health/ready",
        responses={
            503: {
                "description": "Not ready: `problems` names what",
                "content": {"application/json": {}},
            }
        },
    )
    async def ready() -> JSONResponse:
        """200 while the service can do its job (its database answers), else 503. The body
        gives each dependency's state: a broker outage shows there, not as unreadiness."""
        health = await readiness(runtime)
        return JSONResponse(health.body(), status_code=503 if health.problems else 200)

    @router.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get("/asyncapi")
    async def asyncapi_document() -> dict[str, Any]:
        return asyncapi()

    return router
