"""The FastAPI app every service serves: problem details, health, metrics, AsyncAPI, tracing."""

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
from etalase_platform.problems import install_problem_handlers
from etalase_platform.runtime import ServiceRuntime


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
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, version=version, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.jwt_secret = runtime.settings.secret
    install_problem_handlers(app)
    app.add_middleware(_RequestMetrics, service=runtime.service)
    for router in routers:
        app.include_router(router)
    app.include_router(_operational_routes(runtime, asyncapi))
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="health/.*,metrics", exclude_spans=["receive", "send"]
    )
    return app


def _operational_routes(
    runtime: ServiceRuntime, asyncapi: Callable[[], dict[str, Any]]
) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @router.get("/health/ready")
    async def ready() -> JSONResponse:
        problems = await runtime.ready()
        if problems:
            return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    @router.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get("/asyncapi")
    async def asyncapi_document() -> dict[str, Any]:
        return asyncapi()

    return router
