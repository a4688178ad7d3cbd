"""Kafka topic names of the contract (events.md, "Topics")."""

VENDORS = "etalase.registration.vendors"
PRODUCTS = "etalase.catalog.products"
BUDGETS = "etalase.purchasing.budgets"
ORDERS = "etalase.purchasing.orders"

ALL_TOPICS: tuple[str, ...] = (VENDORS, PRODUCTS, BUDGETS, ORDERS)

PARTITIONS = 6
"""Partitions of every topic; records are keyed by aggregate id, so order holds per key."""


def dlq(topic: str) -> str:
    """The dead-letter topic of `topic`."""
    return f"{topic}.dlq"
