"""The registration app: runtime, routes, subscriptions and AsyncAPI document wired together."""

from pathlib import Path
from typing import Any

from etalase_events.asyncapi import asyncapi_document
from etalase_events.topics import VENDORS
from etalase_platform.http import create_app as create_service_app
from etalase_platform.runtime import ServiceRuntime
from fastapi import FastAPI

from etalase_registration import api
from etalase_registration.handlers import subscriptions
from etalase_registration.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def asyncapi() -> dict[str, Any]:
    return asyncapi_document(
        service="registration",
        title="Etalase registration events",
        publishes=[VENDORS],
        subscribes=[],
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings, MIGRATIONS, subscriptions=subscriptions())
    return create_service_app(
        title="Etalase registration",
        runtime=runtime,
        routers=[api.router],
        asyncapi=asyncapi,
    )
