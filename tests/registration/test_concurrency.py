"""Requests that arrive at the same moment: one NIB is registered once, and concurrent changes
of one vendor get distinct, gap-free event sequences."""

import asyncio
from collections import Counter

import httpx
import pytest

from tests.helpers import bearer
from tests.registration.support import VendorTopic, registration

pytestmark = pytest.mark.infra

REGION = "36.71"  # Kota Tangerang: only this module registers here
DESK = bearer("desk", region=REGION)


async def test_fifty_registrations_of_one_nib_make_one_vendor(
    client: httpx.AsyncClient, vendor_topic: VendorTopic
) -> None:
    first = registration(REGION)
    bodies = [{**registration(REGION), "nib": first["nib"]} for _ in range(50)]

    responses = await asyncio.gather(
        *(client.post("/vendors", json=body, headers=DESK) for body in bodies)
    )

    assert Counter(r.status_code for r in responses) == {201: 1, 409: 49}
    (created,) = [r.json() for r in responses if r.status_code == 201]
    vendor_id = created["vendor_id"]
    assert {r.json()["vendor_id"] for r in responses if r.status_code == 409} == {vendor_id}

    listed = await client.get(
        "/vendors", params={"region_code": REGION, "limit": 500}, headers=DESK
    )
    assert [v["vendor_id"] for v in listed.json()["items"] if v["nib"] == first["nib"]] == [
        vendor_id
    ]
    # the vendor's events arrive in order, so once its verification is on the topic, every
    # earlier event of it is too
    await client.post(f"/vendors/{vendor_id}/verify", headers=DESK)
    events = await vendor_topic.wait_for_type(vendor_id, "VendorVerified.v1")
    assert [e.envelope.type for e in events] == ["VendorRegistered.v1", "VendorVerified.v1"]
    registered_nibs = [
        e.envelope.data["nib"]
        for subject_events in vendor_topic.events.values()
        for e in subject_events
        if e.envelope.type == "VendorRegistered.v1"
    ]
    assert registered_nibs.count(first["nib"]) == 1


async def test_concurrent_changes_get_distinct_sequences(
    client: httpx.AsyncClient, vendor_topic: VendorTopic
) -> None:
    vendor_id = (await client.post("/vendors", json=registration(REGION), headers=DESK)).json()[
        "vendor_id"
    ]
    url = f"/vendors/{vendor_id}"
    names = [f"CV Serentak {n:02d}" for n in range(20)]

    renames = await asyncio.gather(
        *(client.patch(url, json={"name": name}, headers=DESK) for name in names)
    )
    verifications = await asyncio.gather(
        *(client.post(f"{url}/verify", headers=DESK) for _ in range(10))
    )

    assert all(r.status_code == 200 for r in renames)
    assert Counter(r.status_code for r in verifications) == {200: 1, 409: 9}
    events = await vendor_topic.wait_for_type(vendor_id, "VendorVerified.v1")
    assert [e.envelope.sequence for e in events] == list(range(1, 23))
    assert Counter(e.envelope.type for e in events) == {
        "VendorRegistered.v1": 1,
        "VendorProfileUpdated.v1": 20,
        "VendorVerified.v1": 1,
    }
    last_name = [e.envelope.data["name"] for e in events if "name" in e.envelope.data][-1]
    assert (await client.get(url, headers=DESK)).json()["name"] == last_name
