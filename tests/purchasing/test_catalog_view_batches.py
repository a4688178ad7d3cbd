"""Purchasing's product and vendor view applied in batches ends as it does event by event."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from etalase_events.codec import decode, encode_event
from etalase_events.models import (
    Catalog,
    Event,
    LegalForm,
    ProductDelisted,
    ProductListed,
    ProductPriceChanged,
    ProductRelisted,
    ProductTkdnCertified,
    Scale,
    VendorProfileUpdated,
    VendorRegistered,
)
from etalase_events.primitives import Channel, DelistReason
from etalase_platform.consumer import Delivery, Projector
from etalase_platform.db import create_engine, session_factory, upgrade_to_head
from etalase_purchasing.bootstrap import MIGRATIONS
from etalase_purchasing.handlers import CatalogView, one_by_one
from sqlalchemy import text

from tests.helpers import DatabaseFactory

pytestmark = pytest.mark.infra

START = datetime(2026, 1, 5, tzinfo=UTC)


def _product_events(rng: random.Random, product_id: str, vendor_id: str, steps: int) -> list[Event]:
    at = START + timedelta(minutes=rng.randrange(10_000))
    tkdn = rng.choice([None, Decimal("20"), Decimal("30.5")])
    events: list[Event] = [
        ProductListed(
            product_id=product_id,
            vendor_id=vendor_id,
            catalog=rng.choice([Catalog.NASIONAL, Catalog.SEKTORAL]),
            category=rng.choice(["komputer", "alat tulis"]),
            name="Barang",
            unit="unit",
            price_idr=rng.randrange(1_000, 100_000),
            domestic=rng.random() < 0.7,
            tkdn_pct=tkdn,
            bmp_pct=None if tkdn is None else Decimal("15"),
            vendor_scale=rng.choice(list(Scale)),
            vendor_legal_form=rng.choice([LegalForm.CV, LegalForm.PT]),
            vendor_region_code="33.75",
            listed_at=at,
        )
    ]
    price = 50_000
    for step in range(rng.randrange(steps)):
        at += timedelta(hours=1)
        kind = rng.choice(["price", "tkdn", "delist", "relist"])
        if kind == "price":
            new = rng.randrange(1_000, 100_000)
            events.append(
                ProductPriceChanged(
                    product_id=product_id, price_idr=new, previous_price_idr=price, changed_at=at
                )
            )
            price = new
        elif kind == "tkdn":
            events.append(
                ProductTkdnCertified(
                    product_id=product_id,
                    tkdn_pct=Decimal(rng.choice(["26", "41.25"])),
                    bmp_pct=Decimal("15"),
                    certificate_no=f"C-{step}",
                    valid_until=(at + timedelta(days=365)).date(),
                    certified_at=at,
                )
            )
        elif kind == "delist":
            events.append(
                ProductDelisted(product_id=product_id, reason=DelistReason.ADMIN, delisted_at=at)
            )
        else:
            events.append(ProductRelisted(product_id=product_id, relisted_at=at))
    return events


def _vendor_events(rng: random.Random, vendor_id: str) -> list[Event]:
    at = START + timedelta(minutes=rng.randrange(10_000))
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
        )
    ]
    for _ in range(rng.randrange(5)):
        at += timedelta(hours=1)
        events.append(
            VendorProfileUpdated(
                vendor_id=vendor_id,
                updated_at=at,
                scale=rng.choice([None, *Scale]),
                legal_form=rng.choice([None, LegalForm.CV, LegalForm.PT]),
                region_code=rng.choice([None, "33.74", "33.75"]),
            )
        )
    return events


def _stream(
    seed: int, *, products: int = 60, steps: int = 6, redelivered: float = 0.05, stale: float = 0
) -> list[Delivery]:
    """Each aggregate's events in order, aggregates interleaved, some runs delivered again, and
    (`stale`) some single records delivered again late, after newer ones of their aggregate."""
    rng = random.Random(seed)
    vendors = [f"v-{seed}-{n}" for n in range(6)]
    queues: list[list[tuple[str, Event]]] = [
        [(vendor, e) for e in _vendor_events(rng, vendor)] for vendor in vendors
    ]
    queues += [
        [
            (f"p-{seed}-{n}", e)
            for e in _product_events(rng, f"p-{seed}-{n}", rng.choice(vendors), steps)
        ]
        for n in range(products)
    ]
    sequences = {subject: 0 for queue in queues for subject, _ in queue[:1]}
    deliveries: list[Delivery] = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        subject, event = queue.pop(0)
        sequences[subject] += 1
        value = encode_event(event, source="t", subject=subject, sequence=sequences[subject])
        record: Any = SimpleNamespace(topic="t", partition=0, offset=len(deliveries))
        deliveries.append(Delivery(record, decode(value.value)))
        if rng.random() < redelivered:  # a redelivery of the last few records
            deliveries += deliveries[-rng.randrange(1, 20) :]
        if rng.random() < stale:
            deliveries.append(rng.choice(deliveries[-50:]))
    return deliveries


async def _view_after(
    new_database: DatabaseFactory, projector: Projector, batches: list[list[Delivery]]
) -> tuple[list[Any], list[Any]]:
    url = await new_database("catalog-view")
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        for batch in batches:
            async with sessions() as session, session.begin():
                await projector.apply(session, batch)
        async with engine.connect() as connection:
            products = (
                await connection.execute(text("SELECT * FROM catalog_products ORDER BY 1"))
            ).all()
            vendors = (
                await connection.execute(text("SELECT * FROM vendor_facts ORDER BY 1"))
            ).all()
    finally:
        await engine.dispose()
    return [tuple(row) for row in products], [tuple(row) for row in vendors]


def _batches(
    rng: random.Random, deliveries: list[Delivery], sizes: tuple[int, ...] = (1, 7, 50, 500)
) -> list[list[Delivery]]:
    batches: list[list[Delivery]] = []
    while len(deliveries) > sum(map(len, batches)):
        start = sum(map(len, batches))
        batches.append(deliveries[start : start + rng.choice(sizes)])
    return batches


@pytest.mark.parametrize("seed", [1, 2])
async def test_batches_end_as_event_by_event(new_database: DatabaseFactory, seed: int) -> None:
    deliveries = _stream(seed)
    batches = _batches(random.Random(seed), deliveries)
    expected = await _view_after(new_database, one_by_one(), [[d] for d in deliveries])
    batched = await _view_after(new_database, CatalogView(), batches)
    assert len(expected[0]) == 60 and len(expected[1]) == 6
    assert batched == expected


async def test_redelivered_runs_of_a_few_busy_products(new_database: DatabaseFactory) -> None:
    """Many events per product, long redelivered runs and single stale records, also across
    batches: an old event repeated after newer ones of its aggregate changes nothing."""
    deliveries = _stream(3, products=6, steps=16, redelivered=0.3, stale=0.3)
    batches = _batches(random.Random(3), deliveries, (3, 10, 25))
    expected = await _view_after(new_database, one_by_one(), [[d] for d in deliveries])
    batched = await _view_after(new_database, CatalogView(), batches)
    assert len(expected[0]) == 6
    assert batched == expected


def _delivery(subject: str, sequence: int, event: Event) -> Delivery:
    value = encode_event(event, source="t", subject=subject, sequence=sequence)
    record: Any = SimpleNamespace(topic="t", partition=0, offset=0)
    return Delivery(record, decode(value.value))


async def test_a_stale_event_before_a_newer_one_in_a_batch(new_database: DatabaseFactory) -> None:
    """An old event of a product, or of a vendor, first in a batch that also has a newer one:
    the newer applies, the old one's fields stay as the row had them."""
    rng = random.Random(4)
    listing, *_ = _product_events(rng, "p-1", "v-1", 1)
    registered, *_ = _vendor_events(rng, "v-1")
    cheaper = ProductPriceChanged(
        product_id="p-1", price_idr=100, previous_price_idr=50, changed_at=START
    )
    dearer = ProductPriceChanged(
        product_id="p-1", price_idr=200, previous_price_idr=100, changed_at=START
    )
    delisted = ProductDelisted(product_id="p-1", reason=DelistReason.ADMIN, delisted_at=START)
    grown = VendorProfileUpdated(vendor_id="v-1", updated_at=START, scale=Scale.MENENGAH)
    moved = VendorProfileUpdated(vendor_id="v-1", updated_at=START, region_code="33.74")
    first = [
        _delivery("p-1", 1, listing),
        _delivery("p-1", 2, cheaper),
        _delivery("p-1", 3, dearer),
        _delivery("v-1", 1, registered),
        _delivery("v-1", 2, grown),
    ]
    second = [
        _delivery("p-1", 2, cheaper),
        _delivery("p-1", 4, delisted),
        _delivery("v-1", 1, registered),
        _delivery("v-1", 3, moved),
    ]
    expected = await _view_after(new_database, one_by_one(), [[d] for d in first + second])
    batched = await _view_after(new_database, CatalogView(), [first, second])
    assert batched == expected
