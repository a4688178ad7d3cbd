"""Registration as the platform runs it: its routes and the topic it publishes."""

from pathlib import Path

from etalase_events.topics import VENDORS
from etalase_platform import definition
from fastapi import FastAPI

from etalase_registration.api import router
from etalase_registration.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

SERVICE = definition.ServiceDefinition(
    name="registration",
    title="Etalase registration",
    settings=Settings,
    migrations=MIGRATIONS,
    routers=[router],
    publishes=[VENDORS],
    subscribes=[],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return definition.create_app(SERVICE, settings)
