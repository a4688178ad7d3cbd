"""`create_app`: the catalog's routes, its vendor subscription and the platform runtime."""

from pathlib import Path
from typing import Any

from etalase_events.asyncapi import asyncapi_document
from etalase_events.topics import PRODUCTS, VENDORS
from etalase_platform.http import create_app as create_service_app
from etalase_platform.runtime import ServiceRuntime
from fastapi import FastAPI

from etalase_catalog.api import router
from etalase_catalog.handlers import subscriptions
from etalase_catalog.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
TITLE = "Etalase catalog"


def asyncapi() -> dict[str, Any]:
    return asyncapi_document(
        service="catalog", title=TITLE, publishes=[PRODUCTS], subscribes=[VENDORS]
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings, MIGRATIONS, subscriptions())
    return create_service_app(title=TITLE, runtime=runtime, routers=[router], asyncapi=asyncapi)
