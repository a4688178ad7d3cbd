"""Purchasing's product view catching up on listings: the batched projector next to the same
view applied event by event, on the same ProductListed events in batches of the consumer's size.

    uv run python -m bench.catalog_view [--events 20000]

Needs ETALASE_POSTGRES_URL (``source .run/env``). Only the projectors run (no Kafka): events are
decoded beforehand.
"""

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from etalase_events.codec import decode, encode_event
from etalase_events.models import Catalog, LegalForm, ProductListed, Scale
from etalase_platform.consumer import Delivery, Projector
from etalase_platform.db import create_engine, session_factory, upgrade_to_head
from etalase_platform.settings import ServiceSettings
from etalase_purchasing.bootstrap import MIGRATIONS
from etalase_purchasing.handlers import CatalogView, one_by_one

from bench.environment import Infra

BATCH: int = ServiceSettings.model_fields["consumer_batch_size"].default


def _deliveries(count: int) -> list[Delivery]:
    deliveries = []
    for number in range(count):
        event = ProductListed(
            product_id=str(uuid.uuid4()),
            vendor_id=f"v-{number % 500}",
            catalog=Catalog.NASIONAL,
            category="komputer",
            name="Barang",
            unit="unit",
            price_idr=10_000 + number,
            domestic=True,
            vendor_scale=Scale.KECIL,
            vendor_legal_form=LegalForm.CV,
            vendor_region_code="33.75",
            listed_at=datetime.now(UTC),
        )
        value = encode_event(event, source="bench", subject=event.product_id, sequence=1).value
        record: Any = SimpleNamespace(topic="products", partition=0, offset=number)
        deliveries.append(Delivery(record, decode(value)))
    return deliveries


async def _rate(
    infra: Infra, label: str, projector: Projector, deliveries: list[Delivery]
) -> float:
    url = await infra.new_database(label)
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        started = time.perf_counter()
        for start in range(0, len(deliveries), BATCH):
            async with sessions() as session, session.begin():
                await projector.apply(session, deliveries[start : start + BATCH])
        return len(deliveries) / (time.perf_counter() - started)
    finally:
        await engine.dispose()


async def measure(events: int) -> dict[str, float]:
    infra = Infra.from_environment()
    deliveries = _deliveries(events)
    try:
        naive = await _rate(infra, "view-naive", one_by_one(), deliveries)
        batched = await _rate(infra, "view-batched", CatalogView(), deliveries)
    finally:
        await infra.drop_databases()
    return {"event_by_event_per_s": naive, "batched_per_s": batched, "ratio": batched / naive}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    for name, value in asyncio.run(measure(args.events)).items():
        print(f"{name}: {value:,.2f}")


if __name__ == "__main__":
    main()
