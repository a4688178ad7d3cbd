"""A service described as data, and the app and the process every service is made of from it.

A service's `bootstrap.py` holds its `ServiceDefinition` (name, title, settings, routers, the
topics it publishes and consumes, its subscriptions and, when it needs one, its own runtime
class), and its `main.py` calls `serve(definition)`. So the AsyncAPI document, the runtime,
the JSON logs and uvicorn are wired in this one place, the same way for all four.
"""

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etalase_events.asyncapi import asyncapi_document
from fastapi import APIRouter, FastAPI

from etalase_platform import http, logs
from etalase_platform.runtime import ServiceRuntime, Subscription
from etalase_platform.settings import ServiceSettings


def _no_subscriptions() -> list[Subscription]:
    return []


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    """The service in the AsyncAPI document (`settings.service_name` names it in logs and
    metrics)."""
    title: str
    """The title of its OpenAPI document; its AsyncAPI document is "<title> events"."""
    settings: Callable[[], ServiceSettings]
    """Its `Settings` class: read from the environment when no settings are given."""
    migrations: Path
    routers: Sequence[APIRouter]
    publishes: Sequence[str] = ()
    """Its topics. A service that publishes none runs no outbox relay."""
    subscribes: Sequence[str] = ()
    """The topics it consumes, each with a subscription or consumed by its own runtime."""
    subscriptions: Callable[[], Sequence[Subscription]] = _no_subscriptions
    runtime: type[ServiceRuntime] = ServiceRuntime
    """A subclass when the service runs more than the platform's runtime (reporting: its
    projection supervisor)."""
    gc_thresholds: tuple[int, int, int] | None = None
    """The cyclic garbage collector's thresholds for the service's process; None: CPython's."""

    def asyncapi(self) -> dict[str, Any]:
        return asyncapi_document(
            service=self.name,
            title=f"{self.title} events",
            publishes=list(self.publishes),
            subscribes=list(self.subscribes),
        )


def create_app(definition: ServiceDefinition, settings: ServiceSettings | None = None) -> FastAPI:
    """The service's app: its runtime (settings from the environment unless given), routes,
    subscriptions and AsyncAPI document on the platform's HTTP app."""
    subscriptions = list(definition.subscriptions())
    undeclared = sorted(
        {topic for s in subscriptions for topic in s.topics} - set(definition.subscribes)
    )
    if undeclared:
        # the AsyncAPI document would not tell what the service consumes
        raise ValueError(f"{definition.name} subscribes to undeclared topics: {undeclared}")
    runtime = definition.runtime(
        settings or definition.settings(),
        definition.migrations,
        subscriptions,
        run_relay=bool(definition.publishes),
    )
    return http.create_app(
        title=definition.title,
        runtime=runtime,
        routers=definition.routers,
        asyncapi=definition.asyncapi,
    )


def tune_garbage_collector(thresholds: tuple[int, int, int]) -> tuple[int, int, int]:
    """Apply `thresholds` to this process; returns the thresholds it had."""
    previous = gc.get_threshold()
    gc.set_threshold(*thresholds)
    return previous


def serve(definition: ServiceDefinition) -> None:
    """`python -m etalase_<name>.main`: the service with uvicorn, its settings from the
    environment, logging JSON lines."""
    if definition.gc_thresholds is not None:
        tune_garbage_collector(definition.gc_thresholds)
    settings = definition.settings()
    logs.serve(create_app(definition, settings), settings)
