"""The FastAPI app every service serves: problem details, health, metrics, AsyncAPI, tracing."""

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from etalase_platform import metrics
from etalase_platform.outages import DependencyUnavailable, Failures, on_dependency_unavailable
from etalase_platform.problems import install_problem_handlers
from etalase_platform.runtime import ServiceRuntime


class _RequestMetrics(BaseHTTPMiddleware):
    def __init__(self, app: Any, service: str) -> None:
        super().__init__(app)
        self._service = service

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.HTTP_LATENCY.labels(self._service, request.method, path).observe(
            time.perf_counter() - started
        )
        metrics.HTTP_REQUESTS.labels(
            self._service, request.method, path, str(response.status_code)
        ).inc()
        return response


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
    app.add_exception_handler(DependencyUnavailable, on_dependency_unavailable)
    # Failures inside _RequestMetrics: the 500s and 503s it answers are counted too
    app.add_middleware(Failures)
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
        """200 while the service can do its job (its database answers), else 503. The body
        gives each dependency's state: a broker outage shows there, not as unreadiness."""
        health = await runtime.health()
        return JSONResponse(health.body(), status_code=503 if health.problems else 200)

    @router.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get("/asyncapi")
    async def asyncapi_document() -> dict[str, Any]:
        return asyncapi()

    return router
