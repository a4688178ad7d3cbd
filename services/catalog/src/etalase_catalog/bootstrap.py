"""The catalog as the platform runs it: its routes, its vendor subscription, its topics."""

from pathlib import Path

from etalase_events.topics import PRODUCTS, VENDORS
from etalase_platform import definition
from fastapi import FastAPI

from etalase_catalog.api import router
from etalase_catalog.handlers import subscriptions
from etalase_catalog.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

SERVICE = definition.ServiceDefinition(
    name="catalog",
    title="Etalase catalog",
    settings=Settings,
    migrations=MIGRATIONS,
    routers=[router],
    publishes=[PRODUCTS],
    subscribes=[VENDORS],
    subscriptions=subscriptions,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return definition.create_app(SERVICE, settings)
