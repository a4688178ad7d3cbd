"""Catalog's view of vendors applied in batches ends as it does event by event: the vendors, the
products that follow their status, and the product events that publishes."""

import json
import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from etalase_catalog.bootstrap import MIGRATIONS
from etalase_catalog.handlers import Vendors
from etalase_events.codec import decode, encode_event
from etalase_events.models import (
    Event,
    Scale,
    VendorProfileUpdated,
    VendorReinstated,
    VendorSuspended,
    VendorVerified,
)
from etalase_platform.consumer import Delivery, Projector
from etalase_platform.db import create_engine, session_factory, upgrade_to_head
from sqlalchemy import event as sql_events
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.catalog.support import registered
from tests.helpers import DatabaseFactory

pytestmark = pytest.mark.infra

START = datetime(2026, 2, 2, tzinfo=UTC)
VENDORS = [f"v-{n}" for n in range(8)]


def _vendor_events(rng: random.Random, vendor_id: str) -> list[Event]:
    at = START + timedelta(minutes=rng.randrange(1_000))
    events: list[Event] = [
        registered(vendor_id, "33.75", Scale.KECIL),
        VendorVerified(vendor_id=vendor_id, verified_at=at + timedelta(hours=1)),
    ]
    for step in range(rng.randrange(6)):
        at += timedelta(hours=2 + step)
        kind = rng.choice(["suspend", "reinstate", "profile"])
        if kind == "suspend":
            events.append(VendorSuspended(vendor_id=vendor_id, reason="audit", suspended_at=at))
        elif kind == "reinstate":
            events.append(VendorReinstated(vendor_id=vendor_id, reinstated_at=at))
        else:
            events.append(
                VendorProfileUpdated(
                    vendor_id=vendor_id, updated_at=at, scale=rng.choice(list(Scale))
                )
            )
    return events


def _stream(seed: int) -> list[Delivery]:
    rng = random.Random(seed)
    queues = []
    for vendor_id in VENDORS:
        queue = [(vendor_id, n, e) for n, e in enumerate(_vendor_events(rng, vendor_id), 1)]
        if rng.random() < 0.3:  # the verification heard before the registration
            queue[0], queue[1] = queue[1], queue[0]
        queues.append(queue)
    deliveries: list[Delivery] = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        vendor_id, sequence, event = queue.pop(0)
        value = encode_event(event, source="t", subject=vendor_id, sequence=sequence)
        record: Any = SimpleNamespace(topic="t", partition=0, offset=len(deliveries))
        deliveries.append(Delivery(record, decode(value.value)))
        if rng.random() < 0.1:  # a redelivery of the last few records
            deliveries += deliveries[-rng.randrange(1, 6) :]
        if rng.random() < 0.1:  # a single stale record, after newer ones of its vendor
            deliveries.append(rng.choice(deliveries[-30:]))
    return deliveries


async def _seed(connection: AsyncConnection, *, vendors_known: bool) -> None:
    """Three products per vendor. The vendors' rows exist with no facts heard yet, or (when not
    `vendors_known`) the batches create them and products arrive only with the first ones."""
    if not vendors_known:
        return
    for vendor_id in VENDORS:
        await connection.execute(
            text(
                "INSERT INTO vendors (vendor_id, fact_versions, version, updated_at)"
                " VALUES (:vendor, '{}', 0, :at)"
            ),
            {"vendor": vendor_id, "at": START},
        )
    for number in range(24):
        # one in five taken down by an admin, one in seven by its vendor: a reinstatement
        # leaves them so
        status, reason = "tayang", None
        if number % 5 == 0:
            status, reason = "delisted", "admin"
        elif number % 7 == 0:
            status, reason = "delisted", "vendor_request"
        await connection.execute(
            text(
                "INSERT INTO products (product_id, vendor_id, catalog, category, name,"
                " unit, price_idr, domestic, status, delist_reason, version, listed_at,"
                " updated_at) VALUES (:id, :vendor, 'nasional', 'komputer', 'Barang',"
                " 'unit', 1000, true, :status, :reason, 1, :at, :at)"
            ),
            {
                "id": f"p-{number}",
                "vendor": VENDORS[number % 8],
                "status": status,
                "reason": reason,
                "at": START + timedelta(minutes=number % 3),
            },
        )


async def _view_after(
    new_database: DatabaseFactory,
    projector: Projector,
    batches: list[list[Delivery]],
    *,
    vendors_known: bool = True,
) -> dict[str, list[Any]]:
    url = await new_database("catalog-vendors")
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await _seed(connection, vendors_known=vendors_known)
        sessions = session_factory(engine)
        for batch in batches:
            async with sessions() as session, session.begin():
                await projector.apply(session, batch)
        async with engine.connect() as connection:
            vendors = await connection.execute(
                text(
                    "SELECT vendor_id, status, legal_form, scale, region_code, fact_versions,"
                    " version FROM vendors ORDER BY 1"
                )
            )
            products = await connection.execute(
                text("SELECT product_id, status, delist_reason, version FROM products ORDER BY 1")
            )
            published = await connection.execute(
                text("SELECT message_key, sequence, event_type, payload FROM outbox ORDER BY 1, 2")
            )
            return {
                "vendors": [tuple(row) for row in vendors],
                "products": [tuple(row) for row in products],
                "published": [
                    (key, sequence, kind, json.loads(payload)["data"])
                    for key, sequence, kind, payload in published
                ],
            }
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("seed", "sizes", "vendors_known"),
    [
        (3, (1, 3, 20, 500), True),
        (4, (1, 3, 20, 500), True),
        (5, (2, 3, 7), True),
        (6, (1, 3, 20, 500), False),
        (7, (2, 3, 7), False),
    ],
)
async def test_batches_end_as_event_by_event(
    new_database: DatabaseFactory, seed: int, sizes: tuple[int, ...], vendors_known: bool
) -> None:
    """Also batches small enough that a vendor's suspension and its reinstatement fall apart,
    and vendors that the batches create."""
    deliveries = _stream(seed)
    rng = random.Random(seed)
    batches: list[list[Delivery]] = []
    while len(deliveries) > sum(map(len, batches)):
        start = sum(map(len, batches))
        batches.append(deliveries[start : start + rng.choice(sizes)])
    one_each = [[d] for d in deliveries]
    expected = await _view_after(new_database, Vendors(), one_each, vendors_known=vendors_known)
    batched = await _view_after(new_database, Vendors(), batches, vendors_known=vendors_known)
    assert len(expected["vendors"]) == 8
    assert bool(expected["published"]) == vendors_known
    assert batched == expected


def _lifecycle(vendor_id: str) -> list[Delivery]:
    """Registered, verified, suspended, reinstated: each product of the vendor moves twice."""
    events: list[Event] = [
        registered(vendor_id, "33.75", Scale.KECIL),
        VendorVerified(vendor_id=vendor_id, verified_at=START),
        VendorSuspended(vendor_id=vendor_id, reason="audit", suspended_at=START),
        VendorReinstated(vendor_id=vendor_id, reinstated_at=START),
    ]
    deliveries = []
    for sequence, event in enumerate(events, 1):
        value = encode_event(event, source="t", subject=vendor_id, sequence=sequence)
        record: Any = SimpleNamespace(topic="t", partition=0, offset=sequence)
        deliveries.append(Delivery(record, decode(value.value)))
    return deliveries


async def test_a_batch_is_a_few_statements_whatever_its_size(
    new_database: DatabaseFactory,
) -> None:
    """Vendors and the products following their statuses are written set-based: a batch of 6
    vendors' lifecycles takes as many statements as one of 2, besides one outbox row per product
    event (rows flushed per product event took 16 and 36)."""
    url = await new_database("catalog-vendor-statements")
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(url)
    statements: list[str] = []

    def count(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().startswith("INSERT INTO outbox"):
            statements.append(statement)

    try:
        async with engine.begin() as connection:
            await _seed(connection, vendors_known=True)
        sql_events.listen(engine.sync_engine, "before_cursor_execute", count)
        sessions = session_factory(engine)
        counts = []
        for vendors in (VENDORS[:2], VENDORS[2:]):
            statements.clear()
            async with sessions() as session, session.begin():
                await Vendors().apply(session, [d for v in vendors for d in _lifecycle(v)])
            counts.append(len(statements))
        async with engine.connect() as connection:
            published = await connection.scalar(text("SELECT count(*) FROM outbox"))
    finally:
        await engine.dispose()
    assert published == 2 * 16  # the 16 displayed products, each delisted and relisted
    # the vendors locked, written; the products following them locked, written
    assert counts == [4, 4], counts
