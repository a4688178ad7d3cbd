"""What the registration tests share: request bodies, valid identifiers, the vendor topic."""

import random
import uuid
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from etalase_events.codec import DecodedEvent, EventDecodeError, decode
from etalase_events.topics import VENDORS
from stdnum import luhn

from tests.helpers import eventually


def new_nib() -> str:
    return str(uuid.uuid4().int % 10**13).zfill(13)


def new_npwp() -> str:
    """A valid 15-digit NPWP: the ninth digit is the Luhn check over the first eight."""
    base = f"{random.randrange(10**8):08d}"
    return base + luhn.calc_check_digit(base) + f"{random.randrange(10**6):06d}"


def registration(region_code: str = "33.75", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "nib": new_nib(),
        "npwp": new_npwp(),
        "name": "CV Batik Pesisir Jaya",
        "legal_form": "cv",
        "scale": "mikro",
        "region_code": region_code,
        "kbli": ["13134", "47711"],
    }
    body.update(overrides)
    return body


class VendorTopic:
    """Reads `etalase.registration.vendors` from the offsets it had when started.

    The topic is shared with other test runs and services: records are kept by subject and the
    tests look only at the vendors they created.
    """

    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None
        )
        self.events: dict[str, list[DecodedEvent]] = defaultdict(list)
        self.raw: dict[str, list[tuple[bytes, list[tuple[str, bytes]]]]] = defaultdict(list)

    async def start(self) -> None:
        # the consumer's own metadata knows only the topics it was told about, so ask the admin
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap_servers)
        await admin.start()
        try:
            (described,) = await admin.describe_topics([VENDORS])
        finally:
            await admin.close()
        assert described["error_code"] == 0, f"no topic {VENDORS} (deploy/up.sh creates it)"
        partitions = [TopicPartition(VENDORS, p["partition"]) for p in described["partitions"]]
        await self._consumer.start()
        self._consumer.assign(partitions)
        ends = await self._consumer.end_offsets(partitions)
        for partition in partitions:
            self._consumer.seek(partition, ends[partition])

    async def stop(self) -> None:
        await self._consumer.stop()

    async def poll(self) -> None:
        batches = await self._consumer.getmany(timeout_ms=200)
        for records in batches.values():
            for record in records:
                try:
                    decoded = decode(record.value, record.headers)
                except EventDecodeError:
                    continue  # someone else's malformed record
                self.events[decoded.envelope.subject].append(decoded)
                self.raw[decoded.envelope.subject].append((record.value, list(record.headers)))

    async def wait_for(self, vendor_id: str, count: int) -> list[DecodedEvent]:
        """The vendor's events once at least `count` have arrived."""

        async def arrived() -> bool:
            await self.poll()
            return len(self.events[vendor_id]) >= count

        await eventually(arrived)
        return self.events[vendor_id]

    async def wait_for_type(self, vendor_id: str, event_type: str) -> list[DecodedEvent]:
        """The vendor's events once one of `event_type` has arrived."""

        async def arrived() -> bool:
            await self.poll()
            return any(e.envelope.type == event_type for e in self.events[vendor_id])

        await eventually(arrived)
        return self.events[vendor_id]
