"""Catalog's view of vendors applied in batches ends as it does event by event: the vendors, the
products that follow their status, and the product events that publishes."""

import json
import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from etalase_catalog.bootstrap import MIGRATIONS
from etalase_catalog.handlers import Vendors, one_by_one
from etalase_events.codec import decode, encode_event
from etalase_events.models import (
    Event,
    LegalForm,
    Scale,
    VendorProfileUpdated,
    VendorRegistered,
    VendorReinstated,
    VendorSuspended,
    VendorVerified,
)
from etalase_events.primitives import Channel
from etalase_platform.consumer import Delivery, Projector
from etalase_platform.db import create_engine, session_factory, upgrade_to_head
from sqlalchemy import text

from tests.helpers import DatabaseFactory

pytestmark = pytest.mark.infra

START = datetime(2026, 2, 2, tzinfo=UTC)
VENDORS = [f"v-{n}" for n in range(8)]


def _vendor_events(rng: random.Random, vendor_id: str) -> list[Event]:
    at = START + timedelta(minutes=rng.randrange(1_000))
    events: list[Event] = [
        VendorRegistered(
            vendor_id=vendor_id,
            nib="1234567890123",
            name="CV Maju",
            legal_form=LegalForm.CV,
            scale=Scale.KECIL,
            region_code="33.75",
            kbli=("47411",),
            channel=Channel.ONLINE,
            registered_at=at,
        ),
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
    queues = [[(v, e) for e in _vendor_events(rng, v)] for v in VENDORS]
    sequences = dict.fromkeys(VENDORS, 0)
    deliveries: list[Delivery] = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        vendor_id, event = queue.pop(0)
        sequences[vendor_id] += 1
        value = encode_event(event, source="t", subject=vendor_id, sequence=sequences[vendor_id])
        record: Any = SimpleNamespace(topic="t", partition=0, offset=len(deliveries))
        deliveries.append(Delivery(record, decode(value.value)))
        if rng.random() < 0.1:  # a redelivery of the last few records
            deliveries += deliveries[-rng.randrange(1, 6) :]
        if rng.random() < 0.1:  # a single stale record, after newer ones of its vendor
            deliveries.append(rng.choice(deliveries[-30:]))
    return deliveries


async def _view_after(
    new_database: DatabaseFactory, projector: Projector, batches: list[list[Delivery]]
) -> dict[str, list[Any]]:
    url = await new_database("catalog-vendors")
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for vendor_id in VENDORS:
                await connection.execute(
                    text(
                        "INSERT INTO vendors (vendor_id, fact_versions, version, updated_at)"
                        " VALUES (:vendor, '{}', 0, :at)"
                    ),
                    {"vendor": vendor_id, "at": START},
                )
            for number in range(24):
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
                        # one in five taken down by an admin: a reinstatement leaves it so
                        "status": "delisted" if number % 5 == 0 else "tayang",
                        "reason": "admin" if number % 5 == 0 else None,
                        "at": START + timedelta(minutes=number % 3),
                    },
                )
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
    ("seed", "sizes"), [(3, (1, 3, 20, 500)), (4, (1, 3, 20, 500)), (5, (2, 3, 7))]
)
async def test_batches_end_as_event_by_event(
    new_database: DatabaseFactory, seed: int, sizes: tuple[int, ...]
) -> None:
    """Also batches small enough that a vendor's suspension and its reinstatement fall apart."""
    deliveries = _stream(seed)
    rng = random.Random(seed)
    batches: list[list[Delivery]] = []
    while len(deliveries) > sum(map(len, batches)):
        start = sum(map(len, batches))
        batches.append(deliveries[start : start + rng.choice(sizes)])
    expected = await _view_after(new_database, one_by_one(), [[d] for d in deliveries])
    batched = await _view_after(new_database, Vendors(), batches)
    assert len(expected["vendors"]) == 8 and expected["published"]
    assert batched == expected
