"""The events on `etalase.registration.vendors`, read back from Kafka and decoded with the
contract's codec: field by field as events.md defines them, in sequence, and free of personal
data (as are the service's log lines)."""

import logging
from datetime import datetime
from typing import Any

import httpx
import pytest
from etalase_events.codec import DecodedEvent
from etalase_events.models import (
    VendorProfileUpdated,
    VendorRegistered,
    VendorReinstated,
    VendorSuspended,
    VendorVerified,
)

from tests.helpers import bearer, unique
from tests.registration.support import VendorTopic, registration

pytestmark = pytest.mark.infra

DESK_SUB = "desk:mpp-kota-pekalongan-2"
DESK = bearer("desk", region="33.75", sub=DESK_SUB)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def check_envelope(decoded: DecodedEvent, vendor_id: str, sequence: int, event_type: str) -> None:
    envelope = decoded.envelope
    assert envelope.specversion == "1.0"
    assert envelope.source == "etalase/registration"
    assert envelope.type == event_type
    assert envelope.subject == vendor_id
    assert envelope.sequence == sequence
    assert envelope.datacontenttype == "application/json"


async def test_a_vendors_life_is_told_in_order_field_by_field(
    client: httpx.AsyncClient, vendor_topic: VendorTopic
) -> None:
    body = registration(kbli=["13134", "47711"])
    vendor = (await client.post("/vendors", json=body, headers=DESK)).json()
    vendor_id = vendor["vendor_id"]
    url = f"/vendors/{vendor_id}"
    changed = await client.patch(
        url, json={"name": "CV Batik Setono", "scale": "kecil"}, headers=DESK
    )
    assert changed.status_code == 200
    # neither of these changes anything, so neither may emit
    assert (await client.patch(url, json={}, headers=DESK)).status_code == 200
    same = {"name": "CV Batik Setono", "legal_form": "cv", "kbli": ["13134", "47711"]}
    assert (await client.patch(url, json=same, headers=DESK)).status_code == 200
    for action, reason in (("verify", None), ("suspend", "NIB dicabut OSS"), ("reinstate", None)):
        json = {"reason": reason} if reason else None
        response = await client.post(f"{url}/{action}", json=json, headers=DESK)
        assert response.status_code == 200

    events = await vendor_topic.wait_for_type(vendor_id, "VendorReinstated.v1")

    types = [e.envelope.type for e in events]
    assert types == [
        "VendorRegistered.v1",
        "VendorProfileUpdated.v1",
        "VendorVerified.v1",
        "VendorSuspended.v1",
        "VendorReinstated.v1",
    ]
    for sequence, (decoded, event_type) in enumerate(zip(events, types, strict=True), start=1):
        check_envelope(decoded, vendor_id, sequence, event_type)
    for _, headers in vendor_topic.raw[vendor_id]:
        assert dict(headers)["content-type"] == b"application/cloudevents+json"
    assert [dict(h)["event-type"].decode() for _, h in vendor_topic.raw[vendor_id]] == types
    assert not [n for _, h in vendor_topic.raw[vendor_id] for n, _ in h if n.startswith("ce_")]

    registered, updated, verified, suspended, reinstated = events
    assert isinstance(registered.event, VendorRegistered)
    assert registered.envelope.data == {
        "vendor_id": vendor_id,
        "nib": body["nib"],
        "name": "CV Batik Pesisir Jaya",
        "legal_form": "cv",
        "scale": "mikro",
        "region_code": "33.75",
        "kbli": ["13134", "47711"],
        "channel": "mpp_desk",
        "desk_id": DESK_SUB,
        "registered_at": registered.envelope.data["registered_at"],
    }
    assert at(registered.envelope.data["registered_at"]) == at(vendor["registered_at"])

    assert isinstance(updated.event, VendorProfileUpdated)
    assert updated.envelope.data == {
        "vendor_id": vendor_id,
        "updated_at": updated.envelope.data["updated_at"],
        "name": "CV Batik Setono",
        "scale": "kecil",
    }
    assert isinstance(verified.event, VendorVerified)
    assert set(verified.envelope.data) == {"vendor_id", "verified_at"}
    assert isinstance(suspended.event, VendorSuspended)
    assert suspended.envelope.data["reason"] == "NIB dicabut OSS"
    assert set(suspended.envelope.data) == {"vendor_id", "reason", "suspended_at"}
    assert isinstance(reinstated.event, VendorReinstated)
    assert set(reinstated.envelope.data) == {"vendor_id", "reinstated_at"}

    moments = [
        at(registered.envelope.data["registered_at"]),
        at(updated.envelope.data["updated_at"]),
        at(verified.envelope.data["verified_at"]),
        at(suspended.envelope.data["suspended_at"]),
        at(reinstated.envelope.data["reinstated_at"]),
    ]
    assert moments == sorted(moments)
    assert [e.envelope.time for e in events] == moments
    assert all(e.event.vendor_id == vendor_id for e in events)  # type: ignore[attr-defined]


async def test_an_online_registration_has_no_desk(
    client: httpx.AsyncClient, vendor_topic: VendorTopic
) -> None:
    admin = bearer("admin", region="33.75")
    vendor_id = (await client.post("/vendors", json=registration(), headers=admin)).json()[
        "vendor_id"
    ]
    (registered,) = await vendor_topic.wait_for(vendor_id, 1)
    assert registered.envelope.data["channel"] == "online"
    assert registered.envelope.data["desk_id"] is None


async def test_a_retried_registration_is_one_event(
    client: httpx.AsyncClient, vendor_topic: VendorTopic
) -> None:
    body, key = registration(), {"Idempotency-Key": unique("event-retry-")}
    first = await client.post("/vendors", json=body, headers={**DESK, **key})
    retry = await client.post("/vendors", json=body, headers={**DESK, **key})
    duplicate = await client.post("/vendors", json=body, headers=DESK)
    assert (first.status_code, retry.status_code, duplicate.status_code) == (201, 201, 409)
    vendor_id = first.json()["vendor_id"]
    # events of one vendor arrive in order: once its verification is there, so is all before it
    await client.post(f"/vendors/{vendor_id}/verify", headers=DESK)
    events = await vendor_topic.wait_for_type(vendor_id, "VendorVerified.v1")
    assert [(e.envelope.type, e.envelope.sequence) for e in events] == [
        ("VendorRegistered.v1", 1),
        ("VendorVerified.v1", 2),
    ]


PERSONAL = {
    "npwp": "3171011708450001",  # a NIK used as NPWP
    "email": "siti.rahayu@example.co.id",
    "phone": "+62 812-3456-7890",
}


async def test_personal_data_stays_out_of_events_and_logs(
    client: httpx.AsyncClient, vendor_topic: VendorTopic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [*PERSONAL.values(), "6281234567890", "siti.rahayu"]
    body: dict[str, Any] = registration(**PERSONAL)
    vendor = (await client.post("/vendors", json=body, headers=DESK)).json()
    vendor_id = vendor["vendor_id"]
    assert not any(secret in str(vendor) for secret in secrets)
    url = f"/vendors/{vendor_id}"
    await client.patch(url, json={"name": "Siti Rahayu Batik"}, headers=DESK)
    await client.post(f"{url}/verify", headers=DESK)
    await client.post(f"{url}/suspend", json={"reason": "dokumen palsu"}, headers=DESK)
    await client.post(f"{url}/reinstate", headers=DESK)
    refused = await client.post(
        "/vendors", json=registration(npwp="3171011708450002", nib="123"), headers=DESK
    )
    assert refused.status_code == 422

    await vendor_topic.wait_for_type(vendor_id, "VendorReinstated.v1")
    records = vendor_topic.raw[vendor_id]
    assert len(records) == 5
    for value, headers in records:
        published = value.decode() + repr(headers)
        for secret in secrets:
            assert secret not in published

    # the capture works (the service logs its changes) and holds none of the personal data
    assert any(vendor_id in record.getMessage() for record in caplog.records)
    logged = caplog.text + "".join(repr(record.args) for record in caplog.records)
    for secret in [*secrets, "3171011708450002"]:
        assert secret not in logged
