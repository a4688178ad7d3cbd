"""The purchasing app: runtime (database, outbox relay, catalog-view consumer) and routes."""

from functools import partial
from pathlib import Path

from etalase_events.asyncapi import asyncapi_document
from etalase_events.topics import BUDGETS, ORDERS, PRODUCTS, VENDORS
from etalase_platform.http import create_app as create_service_app
from etalase_platform.runtime import ServiceRuntime
from fastapi import FastAPI

from etalase_purchasing.api import budgets, orders
from etalase_purchasing.handlers import subscriptions
from etalase_purchasing.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings, MIGRATIONS, subscriptions=subscriptions())
    return create_service_app(
        title="Etalase purchasing",
        runtime=runtime,
        routers=[budgets, orders],
        asyncapi=partial(
            asyncapi_document,
            service="purchasing",
            title="Etalase purchasing events",
            publishes=[BUDGETS, ORDERS],
            subscribes=[PRODUCTS, VENDORS],
        ),
    )
