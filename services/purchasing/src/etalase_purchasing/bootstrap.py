"""Purchasing as the platform runs it: its routes, its catalog-view subscription, its topics."""

from pathlib import Path

from etalase_events.topics import BUDGETS, ORDERS, PRODUCTS, VENDORS
from etalase_platform import definition
from fastapi import FastAPI

from etalase_purchasing.api import budgets, orders
from etalase_purchasing.handlers import subscriptions
from etalase_purchasing.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

SERVICE = definition.ServiceDefinition(
    name="purchasing",
    title="Etalase purchasing",
    settings=Settings,
    migrations=MIGRATIONS,
    routers=[budgets, orders],
    publishes=[BUDGETS, ORDERS],
    subscribes=[PRODUCTS, VENDORS],
    subscriptions=subscriptions,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return definition.create_app(SERVICE, settings)
