"""Event handlers: registration is where vendor events start, so it consumes nothing."""

from etalase_platform.consumer import Subscription


def subscriptions() -> list[Subscription]:
    return []
