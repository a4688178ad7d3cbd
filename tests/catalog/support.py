"""What the catalog tests share: registration events played onto the real vendors topic, the
catalog's product events read back from the real products topic, and request helpers."""

import asyncio
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from etalase_events.codec import DecodedEvent, KafkaRecord, decode, encode
from etalase_events.envelope import new_envelope
from etalase_events.models import (
    Channel,
    Event,
    LegalForm,
    Scale,
    VendorProfileUpdated,
    VendorRegistered,
    VendorReinstated,
    VendorSuspended,
    VendorVerified,
)
from etalase_events.topics import PRODUCTS

from tests.helpers import bearer, eventually, unique

_KAB_KOTA = [*range(1, 70), *range(71, 100)]
_issued: set[str] = set()


def unique_region() -> str:
    """A kab/kota code no other test of this run uses (provinces 11-59; never Pekalongan's 33,
    which other suites favour on the shared topics)."""
    while True:
        code = f"{random.randint(11, 59)}.{random.choice(_KAB_KOTA):02d}"
        if code not in _issued and not code.startswith("33."):
            _issued.add(code)
            return code


def unique_province() -> str:
    """A province (60-99) whose kab/kota no other test uses; use `kab_kota_in` inside it."""
    while True:
        province = str(random.randint(60, 99))
        if province not in _issued:
            _issued.add(province)
            return province


def kab_kota_in(province: str) -> str:
    code = f"{province}.{random.choice(_KAB_KOTA):02d}"
    _issued.add(code)
    return code


def now() -> datetime:
    return datetime.now(UTC)


class Registry:
    """Plays the registration service: vendor events on the real `etalase.registration.vendors`
    topic, with the sequence per vendor that registration would give them."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._sequences: dict[str, int] = defaultdict(int)

    async def publish(
        self, event: Event, *, vendor_id: str, sequence: int | None = None
    ) -> KafkaRecord:
        if sequence is None:
            self._sequences[vendor_id] += 1
            sequence = self._sequences[vendor_id]
        record = encode(
            new_envelope(event, source="etalase/registration", subject=vendor_id, sequence=sequence)
        )
        await self.redeliver(record)
        return record

    async def redeliver(self, record: KafkaRecord) -> None:
        """The same record again: same event id, as an at-least-once producer would."""
        await self._producer.send_and_wait(
            record.topic, value=record.value, key=record.key, headers=record.headers
        )

    async def resend_copy(self, record: KafkaRecord) -> None:
        """The same event under a new id (same sequence), as a replaying producer might."""
        decoded = decode(record.value)
        envelope = decoded.envelope.model_copy(update={"id": str(uuid.uuid4())})
        await self.redeliver(encode(envelope))

    async def register(
        self,
        *,
        region: str | None = None,
        scale: Scale = Scale.MIKRO,
        legal_form: LegalForm = LegalForm.CV,
        vendor_id: str | None = None,
    ) -> str:
        vendor_id = vendor_id or str(uuid.uuid4())
        await self.publish(
            registered(vendor_id, region or unique_region(), scale, legal_form), vendor_id=vendor_id
        )
        return vendor_id

    async def verify(self, vendor_id: str) -> KafkaRecord:
        return await self.publish(
            VendorVerified(vendor_id=vendor_id, verified_at=now()), vendor_id=vendor_id
        )

    async def verified_vendor(self, **profile: Any) -> str:
        vendor_id = await self.register(**profile)
        await self.verify(vendor_id)
        return vendor_id

    async def suspend(self, vendor_id: str) -> KafkaRecord:
        event = VendorSuspended(
            vendor_id=vendor_id, reason="dokumen kedaluwarsa", suspended_at=now()
        )
        return await self.publish(event, vendor_id=vendor_id)

    async def reinstate(self, vendor_id: str) -> KafkaRecord:
        event = VendorReinstated(vendor_id=vendor_id, reinstated_at=now())
        return await self.publish(event, vendor_id=vendor_id)

    async def update_profile(
        self, vendor_id: str, *, sequence: int | None = None, **changes: Any
    ) -> KafkaRecord:
        event = VendorProfileUpdated(vendor_id=vendor_id, updated_at=now(), **changes)
        return await self.publish(event, vendor_id=vendor_id, sequence=sequence)


def registered(
    vendor_id: str, region: str, scale: Scale = Scale.MIKRO, legal_form: LegalForm = LegalForm.CV
) -> VendorRegistered:
    return VendorRegistered(
        vendor_id=vendor_id,
        nib="".join(random.choices("0123456789", k=13)),
        name=f"CV Uji {vendor_id[:8]}",
        legal_form=legal_form,
        scale=scale,
        region_code=region,
        kbli=("47111",),
        channel=Channel.MPP_DESK,
        desk_id="mpp-uji",
        registered_at=now(),
    )


class ProductEventLog:
    """Every record the catalog publishes on the real products topic from the moment the log
    starts, decoded with the contract's codec and grouped by subject (product_id)."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._consumer = AIOKafkaConsumer(
            PRODUCTS, bootstrap_servers=bootstrap_servers, group_id=None
        )
        self._task: asyncio.Task[None] | None = None
        self.records: dict[str, list[tuple[bytes, list[tuple[str, bytes]], DecodedEvent]]] = (
            defaultdict(list)
        )

    async def start(self) -> None:
        await self._consumer.start()
        assigned = list(self._consumer.assignment())
        assert assigned, f"no partitions of {PRODUCTS}: is the topic created?"
        await self._consumer.seek_to_end(*assigned)
        for tp in assigned:  # resolve the positions now, before anything is published
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._collect())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _collect(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    headers = list(record.headers or ())
                    decoded = decode(record.value, headers)
                    self.records[decoded.envelope.subject].append((record.key, headers, decoded))

    def of(self, product_id: str) -> list[DecodedEvent]:
        return [decoded for _, _, decoded in self.records[product_id]]

    async def wait_for(self, product_id: str, count: int) -> list[DecodedEvent]:
        async def published() -> bool:
            return len(self.records[product_id]) >= count

        await eventually(published)
        return self.of(product_id)


def vendor_token(vendor_id: str) -> dict[str, str]:
    return bearer("vendor", vendor_id=vendor_id)


def product_body(vendor_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "vendor_id": vendor_id,
        "catalog": "nasional",
        "category": "Alat Tulis Kantor",
        "name": f"Kertas HVS A4 80gsm {unique()}",
        "brand": "Sinar Dunia",
        "unit": "rim",
        "price_idr": 52_000,
        "domestic": True,
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


async def list_when_known(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    """POST the product until the catalog has heard the vendor's verification (409 until then).
    One Idempotency-Key for all attempts, so nothing is listed twice."""
    headers = {**vendor_token(body["vendor_id"]), "Idempotency-Key": unique("probe-")}
    listed: dict[str, Any] = {}

    async def accepted() -> bool:
        response = await client.post("/products", json=body, headers=headers)
        assert response.status_code in (201, 409), response.text
        if response.status_code == 201:
            listed.update(response.json())
        return bool(listed)

    await eventually(accepted)
    return listed


async def vendor_status_heard(client: httpx.AsyncClient, vendor_id: str, status: str) -> None:
    """Wait until a listing attempt is refused because the vendor is `status` (as catalog heard).
    Only for vendors that cannot be listed meanwhile: every attempt must be refused."""
    body = product_body(vendor_id)

    async def heard() -> bool:
        response = await client.post("/products", json=body, headers=vendor_token(vendor_id))
        assert response.status_code == 409, response.text
        return bool(response.json()["vendor_status"] == status)

    heard.__name__ = f"catalog_heard_vendor_{status}"
    await eventually(heard)


async def get(client: httpx.AsyncClient, product_id: str) -> dict[str, Any]:
    response = await client.get(f"/products/{product_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result
