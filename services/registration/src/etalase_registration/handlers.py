"""Event handlers: registration is where vendor events start, so it consumes nothing."""

from etalase_platform.runtime import Subscription


def subscriptions() -> list[Subscription]:
    return []
