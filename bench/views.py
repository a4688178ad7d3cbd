"""Catalog's and purchasing's views built from the start of an event log, as a fresh service (or a
rebuilt view) builds them: each service's own subscription (projector and inbox, as
`handlers.subscriptions()` declares it) through the platform's consumer, into a fresh database
migrated to head, from topics of the run's own holding N events.

    uv run python -m bench.views [--events 200000]

Purchasing's log: vendors registered (its vendors topic), then products listed, and price
changes, TKDN certificates, delistings and relistings of them (its products topic). Catalog's:
vendors registered, verified, with profile updates, a few suspended and reinstated. Rates run from
the first batch to the last event applied (group joins are not counted); CPU per event is this
process's (the consumer's) and that of the PostgreSQL backends serving the view's database, from
the consumer's start to the last event applied, with the machine's load average at the end.
"""

import argparse
import asyncio
import importlib
import json
import os
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from etalase_events.codec import encode_event
from etalase_events.models import (
    Catalog,
    Channel,
    DelistReason,
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
    VendorReinstated,
    VendorSuspended,
    VendorVerified,
)
from etalase_events.topics import PARTITIONS, PRODUCTS, VENDORS
from etalase_platform.consumer import IdempotentConsumer
from etalase_platform.db import create_engine, session_factory, upgrade_to_head
from etalase_platform.outbox import kafka_producer
from etalase_platform.runtime import Subscription
from etalase_platform.settings import ServiceSettings
from sqlalchemy import make_url, text

from bench.cpu import CpuMeter
from bench.environment import Infra

BATCH: int = ServiceSettings.model_fields["consumer_batch_size"].default  # as services run
AT = datetime(2041, 1, 2, tzinfo=UTC)
REGIONS = ("33.75", "33.74", "92.71", "31.71")
TIME_LIMIT_S = 120.0
"""A view slower than the log's size over this is stopped there and reported at what it applied,
so that a slow view cannot stretch the whole run."""
Logged = tuple[str, str, Event, int]
"""(contract topic, subject, event, sequence)"""


def _vendor(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012d}"


def _registered(rng: random.Random, vendor: int) -> VendorRegistered:
    return VendorRegistered(
        vendor_id=_vendor(vendor),
        nib=f"{rng.randrange(10**12, 10**13)}",
        name=f"CV Benchmark {vendor}",
        legal_form=rng.choice(list(LegalForm)),
        scale=rng.choice(list(Scale)),
        region_code=rng.choice(REGIONS),
        kbli=("47411",),
        channel=Channel.ONLINE,
        registered_at=AT,
    )


def purchasing_log(count: int, seed: int = 11) -> Iterator[Logged]:
    """A vendor per 50 products, 3/4 of the log listings, the rest changes to listed products."""
    rng = random.Random(seed)
    vendors = max(1, count // 100)
    for vendor in range(vendors):
        yield VENDORS, _vendor(vendor), _registered(rng, vendor), 1
    listings = (count - vendors) * 3 // 4
    sequences: list[int] = []
    for number in range(listings):
        sequences.append(1)
        yield PRODUCTS, _product(number), _listed(rng, number, number % vendors), 1
    for _ in range(count - vendors - listings):
        number = rng.randrange(listings)
        sequences[number] += 1
        yield PRODUCTS, _product(number), _change(rng, number), sequences[number]


def _product(number: int) -> str:
    return f"00000000-0000-4000-9000-{number:012d}"


def _listed(rng: random.Random, number: int, vendor: int) -> ProductListed:
    certified = rng.random() < 0.6
    local = rng.random() < 0.3
    return ProductListed(
        product_id=_product(number),
        vendor_id=_vendor(vendor),
        catalog=Catalog.LOKAL if local else Catalog.NASIONAL,
        catalog_region_code=REGIONS[0] if local else None,
        category=rng.choice(("Alat Tulis Kantor", "Komputer", "Makanan dan Minuman")),
        name=f"Produk {number}",
        unit="unit",
        price_idr=rng.randint(50, 5_000) * 1_000,
        domestic=rng.random() < 0.9,
        tkdn_pct=Decimal(rng.randint(10, 80)) if certified else None,
        bmp_pct=Decimal(rng.randint(0, 15)) if certified else None,
        tkdn_certificate_no=f"TKDN-{number}" if certified else None,
        vendor_scale=Scale.KECIL,
        vendor_legal_form=LegalForm.CV,
        vendor_region_code=REGIONS[0],
        listed_at=AT,
    )


def _change(rng: random.Random, number: int) -> Event:
    product_id, at = _product(number), AT + timedelta(days=1)
    kind = rng.random()
    if kind < 0.5:
        price = rng.randint(50, 5_000) * 1_000
        return ProductPriceChanged(
            product_id=product_id, price_idr=price, previous_price_idr=price + 1, changed_at=at
        )
    if kind < 0.8:
        return ProductTkdnCertified(
            product_id=product_id,
            tkdn_pct=Decimal(rng.randint(25, 80)),
            bmp_pct=Decimal(rng.randint(0, 15)),
            certificate_no=f"TKDN-{number}-2",
            valid_until=date(2043, 1, 1),
            certified_at=at,
        )
    if kind < 0.9:
        return ProductDelisted(
            product_id=product_id, reason=DelistReason.VENDOR_REQUEST, delisted_at=at
        )
    return ProductRelisted(product_id=product_id, relisted_at=at)


def catalog_log(count: int, seed: int = 13) -> Iterator[Logged]:
    """A fifth of the log registrations, then verifications, profile updates, suspensions."""
    rng = random.Random(seed)
    vendors = max(1, count // 5)
    for vendor in range(vendors):
        yield VENDORS, _vendor(vendor), _registered(rng, vendor), 1
    sequences = [1] * vendors
    at = AT + timedelta(days=1)
    for _ in range(count - vendors):
        vendor = rng.randrange(vendors)
        sequences[vendor] += 1
        vendor_id, kind = _vendor(vendor), rng.random()
        event: Event
        if sequences[vendor] == 2:
            event = VendorVerified(vendor_id=vendor_id, verified_at=at)
        elif kind < 0.9:
            event = VendorProfileUpdated(
                vendor_id=vendor_id, updated_at=at, name=f"CV Benchmark {vendor} ({kind:.3f})"
            )
        elif kind < 0.95:
            event = VendorSuspended(vendor_id=vendor_id, reason="dokumen", suspended_at=at)
        else:
            event = VendorReinstated(vendor_id=vendor_id, reinstated_at=at)
        yield VENDORS, vendor_id, event, sequences[vendor]


async def _write(kafka: str, log: Iterator[Logged], topics: dict[str, str]) -> int:
    producer = kafka_producer(kafka, "bench.views")
    await producer.start()
    written = 0
    try:
        pending = []
        for topic, subject, event, sequence in log:
            record = encode_event(event, source="etalase/bench", subject=subject, sequence=sequence)
            pending.append(
                await producer.send(
                    topics[topic], value=record.value, key=record.key, headers=record.headers
                )
            )
            written += 1
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return written


class _Clocked:
    """The projector, noting when its first batch arrived (the clock starts there)."""

    def __init__(self, projector: Any) -> None:
        self.projector = projector
        self.started: float | None = None

    async def apply(self, session: Any, deliveries: Any) -> None:
        if self.started is None:
            self.started = time.perf_counter()
        await self.projector.apply(session, deliveries)


async def rate(
    infra: Infra, service: str, log: Iterator[Logged], contract_topics: Sequence[str]
) -> dict[str, Any]:
    """Events per second of `service`'s subscription building its view from the start of a log
    of its own; its topics stand for the contract's (as many partitions)."""
    handlers = importlib.import_module(f"etalase_{service}.handlers")
    bootstrap = importlib.import_module(f"etalase_{service}.bootstrap")
    (subscription,) = [
        s
        for s in handlers.subscriptions()
        if isinstance(s, Subscription) and set(s.topics) <= set(contract_topics)
    ]
    topics = {
        topic: await infra.new_topic(f"views-{service}", PARTITIONS)
        for topic in subscription.topics
    }
    url = await infra.new_database(f"views_{service}")
    await upgrade_to_head(Path(bootstrap.MIGRATIONS), url)
    written = await _write(infra.kafka, log, topics)
    engine = create_engine(url, pool_size=4)
    dlq = kafka_producer(infra.kafka, "bench.views.dlq")
    await dlq.start()
    projector = _Clocked(subscription.projector)
    consumer = IdempotentConsumer(
        name=subscription.name,
        service=service,
        topics=list(topics.values()),
        projector=projector,
        sessions=session_factory(engine),
        bootstrap_servers=infra.kafka,
        group_id=f"bench.views.{uuid.uuid4().hex[:8]}",
        dlq_producer=dlq,
        batch_size=BATCH,
        inbox=subscription.inbox,
    )
    applied = text("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets")
    meter = CpuMeter({}, infra.postgres, [make_url(url).database or ""])
    cpu_before = await meter.snapshot()
    await consumer.start()
    task = asyncio.create_task(consumer.run_forever())
    deadline = time.perf_counter() + TIME_LIMIT_S
    try:
        while True:
            async with engine.connect() as connection:
                done = int(await connection.scalar(applied) or 0)
            if done >= written or time.perf_counter() > deadline:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        finished = time.perf_counter()
        cpu_after = await meter.snapshot()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()
        await dlq.stop()
        await engine.dispose()
        await infra.delete_topics(list(topics.values()))
    assert projector.started is not None
    cores = meter.usage(cpu_before, cpu_after)
    cpu_s = {name: cores[name] * (cpu_after.at - cpu_before.at) for name in cores}
    return {
        "events": float(written),
        "applied": float(done),
        "per_s": done / (finished - projector.started),
        "stopped_at_limit": done < written,
        "cpu_us_per_event": {
            # this process, which the meter names so: here it runs the consumer
            "consumer": cpu_s["load generator"] / max(done, 1) * 1e6,
            "postgresql": cpu_s["postgresql"] / max(done, 1) * 1e6,
        },
        "load_average_1m": os.getloadavg()[0],
    }


async def measure(infra: Infra, events: int) -> dict[str, Any]:
    return {
        "events": events,
        "purchasing": await rate(infra, "purchasing", purchasing_log(events), (PRODUCTS, VENDORS)),
        "catalog": await rate(infra, "catalog", catalog_log(events), (VENDORS,)),
    }


async def _main(events: int) -> dict[str, Any]:
    infra = Infra.from_environment()
    try:
        return await measure(infra, events)
    finally:
        await infra.drop_databases()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.views", description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    print(json.dumps(asyncio.run(_main(parser.parse_args().events)), indent=2))


if __name__ == "__main__":
    main()
