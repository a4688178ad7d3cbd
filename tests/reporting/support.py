"""Event builders and delivery helpers for the reporting tests."""

import asyncio
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord
from etalase_events.codec import KafkaRecord, decode, encode
from etalase_events.envelope import new_envelope
from etalase_events.models import (
    BudgetAllocated,
    Catalog,
    Event,
    LegalForm,
    OrderAccepted,
    OrderCancelled,
    OrderCompleted,
    OrderLine,
    OrderPlaced,
    Scale,
)
from etalase_events.topics import ALL_TOPICS, PARTITIONS
from etalase_platform.consumer import Delivery
from etalase_platform.db import SessionFactory, create_engine, session_factory, upgrade_to_head
from etalase_reporting.bootstrap import MIGRATIONS
from etalase_reporting.rebuild.generations import Status, create_generation, lock
from etalase_reporting.tables import TABLES
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers import bearer, eventually

SOURCE = "etalase/test-reporting"


@dataclass(frozen=True)
class Sent:
    """An event with its envelope attributes: what a consumer receives."""

    event: Event
    subject: str
    sequence: int
    event_id: str

    def record(self) -> KafkaRecord:
        envelope = new_envelope(
            self.event,
            source=SOURCE,
            subject=self.subject,
            sequence=self.sequence,
            id=self.event_id,
        )
        return encode(envelope)


def sent(event: Event, subject: str, sequence: int) -> Sent:
    return Sent(event, subject, sequence, str(uuid.uuid4()))


def budget(
    fiscal_year: int,
    opd_code: str,
    region_code: str,
    pagu_idr: int,
    at: datetime,
    sequence: int = 1,
    name: str | None = None,
) -> Sent:
    event = BudgetAllocated(
        fiscal_year=fiscal_year,
        opd_code=opd_code,
        opd_name=name or f"Dinas {opd_code}",
        region_code=region_code,
        pagu_idr=pagu_idr,
        allocated_at=at,
    )
    return sent(event, f"{fiscal_year}:{opd_code}", sequence)


def line(
    number: int,
    subtotal_idr: int,
    catalog: Catalog = Catalog.NASIONAL,
    *,
    domestic: bool = True,
    tkdn: str | None = None,
    bmp: str | None = None,
    alternative: bool = False,
    quantity: int = 1,
) -> OrderLine:
    return OrderLine(
        line_no=number,
        product_id=f"p-{number}",
        name=f"Produk {number}",
        category="alat tulis",
        catalog=catalog,
        quantity=quantity,
        unit_price_idr=subtotal_idr // quantity,
        subtotal_idr=subtotal_idr,
        domestic=domestic,
        tkdn_pct=None if tkdn is None else Decimal(tkdn),
        bmp_pct=None if bmp is None else Decimal(bmp),
        pdn_alternative_available=alternative,
    )


def placed(
    order_id: str,
    fiscal_year: int,
    opd_code: str,
    region_code: str,
    lines: Sequence[OrderLine],
    at: datetime,
    *,
    scale: Scale = Scale.MIKRO,
    legal_form: LegalForm = LegalForm.CV,
    vendor_region_code: str | None = None,
) -> Sent:
    event = OrderPlaced(
        order_id=order_id,
        opd_code=opd_code,
        region_code=region_code,
        fiscal_year=fiscal_year,
        vendor_id=f"v-{order_id}",
        vendor_scale=scale,
        vendor_legal_form=legal_form,
        vendor_region_code=vendor_region_code or region_code,
        lines=tuple(lines),
        total_idr=sum(item.subtotal_idr for item in lines),
        placed_at=at,
    )
    return sent(event, order_id, 1)


def accepted(order_id: str, at: datetime, sequence: int = 2) -> Sent:
    return sent(OrderAccepted(order_id=order_id, accepted_at=at), order_id, sequence)


def completed(order_id: str, at: datetime, sequence: int = 3) -> Sent:
    return sent(OrderCompleted(order_id=order_id, completed_at=at), order_id, sequence)


def cancelled(order_id: str, at: datetime, sequence: int = 3) -> Sent:
    event = OrderCancelled(order_id=order_id, reason="dibatalkan PPK", cancelled_at=at)
    return sent(event, order_id, sequence)


def deliveries(events: Iterable[Sent], topic: str = "test") -> list[Delivery]:
    """Deliveries as the consumer builds them: encoded, then decoded by the codec."""
    out = []
    for offset, item in enumerate(events):
        record = item.record()
        consumer_record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
            topic=topic,
            partition=0,
            offset=offset,
            timestamp=0,
            timestamp_type=0,
            key=record.key,
            value=record.value,
            checksum=None,
            serialized_key_size=len(record.key),
            serialized_value_size=len(record.value),
            headers=record.headers,
        )
        out.append(Delivery(consumer_record, decode(record.value, record.headers)))
    return out


Positions = dict[tuple[str, int], int]
"""(topic, partition) → the offset after the last record produced there."""


async def produce(kafka: str, events: Iterable[Sent | KafkaRecord]) -> Positions:
    """Publish in the order given, to each record's topic; returns where the records ended."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", linger_ms=5)
    await producer.start()
    try:
        sends = []
        for item in events:
            record = item.record() if isinstance(item, Sent) else item
            sends.append(
                await producer.send(
                    record.topic, value=record.value, key=record.key, headers=record.headers
                )
            )
        written = await asyncio.gather(*sends)
    finally:
        await producer.stop()
    positions: Positions = {}
    for meta in written:
        key = (meta.topic, meta.partition)
        positions[key] = max(positions.get(key, 0), meta.offset + 1)
    return positions


_taken: set[str] = set()


async def log_ends(kafka: str, topics: Sequence[str] = ALL_TOPICS) -> Positions:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS)]
        ends = await consumer.end_offsets(partitions)
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def fresh_scope(client: httpx.AsyncClient, kafka: str) -> tuple[int, str]:
    """A fiscal year and a province that no event in the shared topics has used yet (the
    service, caught up with the whole log, has no figures and no counts for them), so that other
    tests' events never mix into the figures a test checks. Vendor and product counts have no
    fiscal year: the province alone keeps them apart."""
    await wait_applied(client, await log_ends(kafka))
    auditor = bearer("auditor")
    # every two-digit code is tried once, in random order: the shared topics keep every earlier
    # run's vendors, so a long-lived broker runs out of free provinces some day, and then the
    # run says so instead of looking for ever
    for province in random.sample([f"{code:02d}" for code in range(10, 100)], 90):
        fiscal_year = random.randint(2040, 2099)
        if province in _taken:
            continue
        reads: list[tuple[str, dict[str, str | int]]] = [
            ("/compliance/regions", {"fiscal_year": fiscal_year, "province": province}),
            ("/stats/vendors", {"region_code": province}),
            ("/stats/catalog", {"region_code": province}),
        ]
        bodies = [(await client.get(p, params=q, headers=auditor)).json() for p, q in reads]
        if not any(body["items"] for body in bodies):
            _taken.add(province)
            return fiscal_year, province
    pytest.fail(
        "every province code is used by events on the shared topics: recreate them"
        " (`make down`, remove .run/kafka, `make up`)",
        pytrace=False,
    )


async def wait_applied(client: httpx.AsyncClient, positions: Positions) -> None:
    """Until the live projections have applied every record up to `positions`."""

    async def applied() -> bool:
        response = await client.get("/projections", headers=bearer("auditor"))
        body = response.json()
        done: Positions = {}
        for item in body["items"]:
            if item["generation"] == body["live_generation"]:
                # a topic may feed several projections: the slowest of them decides
                key, applied = (item["topic"], item["partition"]), item["next_offset"] or 0
                done[key] = min(done.get(key, applied), applied)
        return all(done.get(key, 0) >= offset for key, offset in positions.items())

    # generous: the shared topics hold every test run's events, all replayed by a new service
    await eventually(applied, timeout=300)


async def projection_engine(url: str, *, pool_size: int) -> AsyncEngine:
    """An engine on `url`, migrated, whose live generation is `reporting_g1`."""
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(url, pool_size=pool_size)
    async with session_factory(engine)() as session, session.begin():
        await lock(session)
        await create_generation(session, Status.LIVE, {})
    return engine


async def reset_projection(sessions: SessionFactory) -> None:
    """Empty the tables of generation 1 (see the `projection_sessions` fixture)."""
    tables = ", ".join(f"reporting_g1.{table.name}" for table in TABLES)
    async with sessions() as session, session.begin():
        await session.execute(text(f"TRUNCATE {tables}"))
