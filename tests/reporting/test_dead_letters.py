"""Poison records on any input topic are dead-lettered, and the projections go on past them."""

import json
import re
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from etalase_events.codec import KafkaRecord
from etalase_events.models import (
    Catalog,
    Channel,
    LegalForm,
    ProductListed,
    Scale,
    VendorRegistered,
)
from etalase_events.topics import BUDGETS, ORDERS, PRODUCTS, VENDORS, dlq

from tests.helpers import Infra, bearer, eventually, unique
from tests.reporting.support import (
    budget,
    fresh_scope,
    line,
    log_ends,
    placed,
    produce,
    sent,
    wait_applied,
)

pytestmark = pytest.mark.infra

AT = datetime(2041, 3, 1, 3, 0, tzinfo=UTC)
MINE = re.compile(r"^(compliance|vendors|catalog|documents)\.g[0-9]+$")
"""Our consumers' names: other services dead-letter the same poison under theirs."""


def _envelope(event_type: str, subject: str, data: dict[str, object]) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": unique("poison-"),
            "source": "etalase/test-reporting",
            "type": event_type,
            "subject": subject,
            "time": "2041-03-01T03:00:00Z",
            "sequence": 1,
            "data": data,
        }
    ).encode()


def _raw(topic: str, key: str, value: bytes) -> KafkaRecord:
    return KafkaRecord(topic=topic, key=key.encode(), value=value, headers=[])


async def test_poison_is_dead_lettered_and_later_events_still_count(
    infra: Infra, reporting: httpx.AsyncClient
) -> None:
    fiscal_year, province = await fresh_scope(reporting, infra.kafka)
    region = f"{province}.71"
    opd, order_id = f"{region}.9.01", unique("order-")
    vendor_id, product_id = unique("vendor-"), unique("product-")
    budget_key = f"{fiscal_year}:{opd}"
    garbage = b"\x00 this is not JSON"
    dead_letter_topics = [dlq(t) for t in (BUDGETS, ORDERS, VENDORS, PRODUCTS)]
    start = {
        TopicPartition(*key): end
        for key, end in (await log_ends(infra.kafka, dead_letter_topics)).items()
    }

    # each poison record shares its key, hence its partition, with a valid event after it
    vendor = VendorRegistered(
        vendor_id=vendor_id,
        nib="9120001234567",
        name="CV Tahan Banting",
        legal_form=LegalForm.CV,
        scale=Scale.KECIL,
        region_code=region,
        kbli=("47711",),
        channel=Channel.ONLINE,
        registered_at=AT,
    )
    product = ProductListed(
        product_id=product_id,
        vendor_id=vendor_id,
        catalog=Catalog.NASIONAL,
        category="alat tulis",
        name="Pulpen",
        unit="buah",
        price_idr=5_000,
        domestic=True,
        vendor_scale=Scale.KECIL,
        vendor_legal_form=LegalForm.CV,
        vendor_region_code=region,
        listed_at=AT,
    )
    records = [
        _raw(BUDGETS, budget_key, garbage),
        _raw(BUDGETS, budget_key, _envelope("BudgetAllocated.v1", budget_key, {"pagu_idr": -1})),
        budget(fiscal_year, opd, region, 5_000_000, AT).record(),
        _raw(ORDERS, order_id, garbage),
        _raw(ORDERS, order_id, _envelope("OrderPlaced.v1", order_id, {"order_id": order_id})),
        placed(order_id, fiscal_year, opd, region, [line(1, 750_000)], AT).record(),
        _raw(VENDORS, vendor_id, garbage),
        _raw(VENDORS, vendor_id, _envelope("VendorTeleported.v1", vendor_id, {})),
        sent(vendor, vendor_id, 1).record(),
        _raw(PRODUCTS, product_id, garbage),
        sent(product, product_id, 1).record(),
    ]
    await wait_applied(reporting, await produce(infra.kafka, records))

    report = await reporting.get(
        "/compliance/opd",
        params={"fiscal_year": fiscal_year, "region_code": region},
        headers=bearer("auditor"),
    )
    [item] = report.json()["items"]
    assert (item["pagu_idr"], item["placed"]["total_idr"]) == (5_000_000, 750_000)
    auditor = bearer("auditor")
    vendors = await reporting.get("/stats/vendors", params={"region_code": region}, headers=auditor)
    assert vendors.json()["items"][0]["total"] == 1
    catalog = await reporting.get("/stats/catalog", params={"region_code": region}, headers=auditor)
    assert catalog.json()["items"][0]["listed"] == 1

    wanted = {  # per consumer of the topic: orders and vendors also feed `documents`
        (BUDGETS, budget_key): 2,
        (ORDERS, order_id): 4,
        (VENDORS, vendor_id): 4,
        (PRODUCTS, product_id): 1,
    }
    found: dict[tuple[str, str], list[dict[str, str]]] = {}
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)

        async def all_dead_lettered() -> bool:
            batches = await consumer.getmany(timeout_ms=500)
            for records_ in batches.values():
                for record in records_:
                    headers = {k: v.decode() for k, v in record.headers}
                    key = (headers.get("dlq_original_topic", ""), (record.key or b"").decode())
                    if key in wanted and MINE.match(headers.get("dlq_consumer", "")):
                        found.setdefault(key, []).append(headers)
            return all(len(found.get(key, [])) >= count for key, count in wanted.items())

        await eventually(all_dead_lettered)
    finally:
        await consumer.stop()
    reasons = {h["dlq_reason"].split(":")[0] for headers in found.values() for h in headers}
    assert {"MalformedRecord", "InvalidEventData", "UnknownEventType"} <= reasons
    consumers = {h["dlq_consumer"].split(".")[0] for headers in found.values() for h in headers}
    assert consumers == {"compliance", "vendors", "catalog", "documents"}
