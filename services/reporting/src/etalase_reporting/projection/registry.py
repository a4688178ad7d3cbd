"""The projections the service maintains, and the subscriptions that feed one generation."""

from collections.abc import Callable
from dataclasses import dataclass

from etalase_events.topics import BUDGETS, ORDERS, PRODUCTS, VENDORS
from etalase_platform.consumer import Projector
from etalase_platform.runtime import Subscription

from etalase_reporting.projection.compliance import ComplianceProjector
from etalase_reporting.projection.documents import DocumentsProjector
from etalase_reporting.projection.entities import CatalogProjector, VendorsProjector


@dataclass(frozen=True)
class Projection:
    name: str
    topics: tuple[str, ...]
    projector: Callable[[str], Projector]
    """Builds the projector writing to the tables of a generation's schema."""
    inbox: bool = True
    """False for a projector idempotent by construction (see `IdempotentConsumer`)."""

    def consumer_name(self, generation: int) -> str:
        """Also the consumer's key in the inbox and in consumer_offsets."""
        return f"{self.name}.g{generation}"


PROJECTIONS: tuple[Projection, ...] = (
    Projection("compliance", (BUDGETS, ORDERS), ComplianceProjector, inbox=False),
    Projection("vendors", (VENDORS,), VendorsProjector),
    Projection("catalog", (PRODUCTS,), CatalogProjector),
    Projection("documents", (ORDERS, VENDORS), DocumentsProjector, inbox=False),
)
TOPICS: tuple[str, ...] = tuple(topic for p in PROJECTIONS for topic in p.topics)


def subscriptions(generation: int, schema: str) -> list[tuple[Projection, Subscription]]:
    subscribed = []
    for p in PROJECTIONS:
        name = p.consumer_name(generation)
        subscribed.append((p, Subscription(name, p.topics, p.projector(schema), p.inbox)))
    return subscribed


def consumer_names(generation: int) -> list[str]:
    return [p.consumer_name(generation) for p in PROJECTIONS]
