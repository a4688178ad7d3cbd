"""Test doubles of the other services, speaking only Kafka and HTTP.

`CatalogDouble` publishes real catalog and registration events and learns what purchasing has
applied by probing `POST /orders` for an OPD whose pagu is 0: the refusal says whether the
product is unknown, not displayed, or (with the order's total, i.e. the price purchasing knows)
over budget. Such probes can never place an order.
"""

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from etalase_events.codec import DecodedEvent, EventDecodeError, decode, encode_event
from etalase_events.models import (
    Catalog,
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
)
from etalase_events.topics import PARTITIONS

from tests.helpers import bearer, eventually, unique

REGION = "33.75"
YEAR = 2025


def now() -> datetime:
    return datetime.now(UTC)


def new_opd(region: str = REGION) -> str:
    return f"{region}.{unique()}"


def buyer(opd: str) -> dict[str, str]:
    return bearer("buyer", opd=opd, region=opd[:5])


def admin(region: str = REGION) -> dict[str, str]:
    return bearer("admin", region=region)


async def fund(
    client: httpx.AsyncClient, pagu_idr: int, *, region: str = REGION, year: int = YEAR
) -> str:
    """A new OPD of `region` with a budget of `pagu_idr` for `year`; returns its code."""
    opd = new_opd(region)
    response = await client.put(
        f"/budgets/{year}/{opd}",
        json={"opd_name": f"Dinas {opd}", "region_code": region, "pagu_idr": pagu_idr},
        headers=admin(region),
    )
    assert response.status_code == 200, response.text
    return opd


def order_body(opd: str, lines: Sequence[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    return {
        "opd_code": opd,
        "fiscal_year": YEAR,
        "lines": [{"product_id": p, "quantity": q} for p, q in lines],
        **extra,
    }


class Published:
    """Every event purchasing publishes from now on, by subject."""

    def __init__(self, bootstrap: str, topics: Sequence[str]) -> None:
        self._topics = topics
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._by_subject: dict[str, list[DecodedEvent]] = defaultdict(list)
        self.headers: dict[str, dict[str, bytes]] = {}
        """Record headers by event id."""
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        partitions = [
            TopicPartition(topic, partition)
            for topic in self._topics
            for partition in range(PARTITIONS)
        ]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for partition in partitions:  # resolve the end offsets now, before anything is published
            await self._consumer.position(partition)
        self._task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    try:
                        decoded = decode(record.value, list(record.headers or ()))
                    except EventDecodeError:
                        continue  # someone else's junk on a shared topic
                    if decoded.envelope.source == "etalase/purchasing":
                        self._by_subject[decoded.envelope.subject].append(decoded)
                        self.headers[decoded.envelope.id] = dict(record.headers or ())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await self._consumer.stop()

    def of(self, subject: str) -> list[DecodedEvent]:
        return list(self._by_subject[subject])

    def all(self) -> list[DecodedEvent]:
        return [decoded for events in list(self._by_subject.values()) for decoded in events]

    async def wait_for(self, subject: str, count: int) -> list[DecodedEvent]:
        async def arrived() -> bool:
            return len(self._by_subject[subject]) >= count

        await eventually(arrived)
        return self.of(subject)


class CatalogDouble:
    def __init__(self, bootstrap: str, client: httpx.AsyncClient) -> None:
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        self._client = client
        self._sequences: dict[str, int] = defaultdict(int)
        self.probe_opd = new_opd()

    async def start(self) -> None:
        await self._producer.start()
        response = await self._client.put(
            f"/budgets/{YEAR}/{self.probe_opd}",
            json={"opd_name": "Probe", "region_code": REGION, "pagu_idr": 0},
            headers=admin(),
        )
        assert response.status_code == 200, response.text

    async def stop(self) -> None:
        await self._producer.stop()

    # --- publishing ---------------------------------------------------------------------------

    async def send(
        self, event: Event, subject: str, *, sequence: int | None = None, id: str | None = None
    ) -> str:
        """Publish `event` as the subject's next event (or at `sequence`); returns its id."""
        if sequence is None:
            self._sequences[subject] += 1
            sequence = self._sequences[subject]
        event_id = id or str(uuid.uuid4())
        record = encode_event(
            event, source="etalase/catalog", subject=subject, sequence=sequence, id=event_id
        )
        await self._producer.send_and_wait(
            record.topic, value=record.value, key=record.key, headers=record.headers
        )
        return event_id

    async def list_product(self, **fields: Any) -> ProductListed:
        values: dict[str, Any] = {
            "product_id": str(uuid.uuid4()),
            "vendor_id": str(uuid.uuid4()),
            "catalog": Catalog.LOKAL,
            "catalog_region_code": REGION,
            "category": unique("category-"),
            "name": "Kain batik cap",
            "unit": "lembar",
            "price_idr": 150_000,
            "domestic": True,
            "vendor_scale": Scale.MIKRO,
            "vendor_legal_form": LegalForm.CV,
            "vendor_region_code": REGION,
            "listed_at": now(),
        }
        event = ProductListed(**{**values, **fields})
        await self.send(event, event.product_id)
        return event

    async def change_price(self, product_id: str, price: int, previous: int) -> None:
        event = ProductPriceChanged(
            product_id=product_id, price_idr=price, previous_price_idr=previous, changed_at=now()
        )
        await self.send(event, product_id)

    async def certify(self, product_id: str, tkdn: str, bmp: str) -> None:
        event = ProductTkdnCertified(
            product_id=product_id,
            tkdn_pct=Decimal(tkdn),
            bmp_pct=Decimal(bmp),
            certificate_no=unique("TKDN-"),
            valid_until=date(2027, 12, 31),
            certified_at=now(),
        )
        await self.send(event, product_id)

    async def delist(self, product_id: str) -> None:
        event = ProductDelisted(
            product_id=product_id, reason=DelistReason.VENDOR_REQUEST, delisted_at=now()
        )
        await self.send(event, product_id)

    async def relist(self, product_id: str) -> None:
        await self.send(ProductRelisted(product_id=product_id, relisted_at=now()), product_id)

    async def update_vendor(self, vendor_id: str, sequence: int, **changes: Any) -> None:
        event = VendorProfileUpdated(vendor_id=vendor_id, updated_at=now(), **changes)
        await self.send(event, vendor_id, sequence=sequence)

    # --- what purchasing has seen --------------------------------------------------------------

    async def rule(self, product_id: str) -> str:
        return str((await self.probe(product_id))["rule"])

    async def probe(self, product_id: str) -> dict[str, Any]:
        """Purchasing's refusal of one unit of the product for the probe OPD (pagu 0)."""
        response = await self._client.post(
            "/orders",
            json=order_body(self.probe_opd, [(product_id, 1)]),
            headers=buyer(self.probe_opd),
        )
        assert response.status_code == 409, response.text
        body: dict[str, Any] = response.json()
        return body

    async def known(self, *product_ids: str) -> None:
        """Waits until purchasing has applied the products' listings."""
        for product_id in product_ids:

            async def listed(product_id: str = product_id) -> bool:
                return await self.rule(product_id) != "product_unknown"

            await eventually(listed)

    async def priced(self, product_id: str, price: int) -> None:
        """Waits until purchasing prices the product at `price` and displays it."""

        async def seen() -> bool:
            body = await self.probe(product_id)
            return (body["rule"], body.get("order_total_idr")) == ("pagu_exceeded", price)

        await eventually(seen)

    async def hidden(self, product_id: str) -> None:
        """Waits until purchasing no longer displays the product."""

        async def seen() -> bool:
            return await self.rule(product_id) == "product_not_displayed"

        await eventually(seen)
