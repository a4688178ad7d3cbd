"""What the catalog publishes on the real `etalase.catalog.products` topic, read back and decoded
with the contract's codec, field by field against events.md."""

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from etalase_events.models import LegalForm, Scale

from tests.catalog.support import (
    ProductEventLog,
    Registry,
    list_when_known,
    product_body,
    unique_region,
    vendor_token,
)
from tests.helpers import bearer

pytestmark = pytest.mark.infra

PERSONAL_DATA = {"nik", "npwp", "phone", "email", "address"}


async def test_every_change_is_published_as_the_contract_says(
    catalog: httpx.AsyncClient, registry: Registry, product_events: ProductEventLog
) -> None:
    region = unique_region()
    vendor = await registry.verified_vendor(
        region=region, scale=Scale.KECIL, legal_form=LegalForm.KOPERASI
    )
    body = product_body(
        vendor,
        catalog="lokal",
        catalog_region_code=region,
        tkdn_pct=45.5,
        bmp_pct=10,
        tkdn_certificate_no="TKDN-2024-001",
    )
    listed = await list_when_known(catalog, body)
    product_id = listed["product_id"]
    url = f"/products/{product_id}"
    mine, admin = vendor_token(vendor), bearer("admin", region=region)
    valid_until = (date.today() + timedelta(days=400)).isoformat()

    async def change(method: str, path: str, headers: dict[str, str], **json: Any) -> str:
        response = await catalog.request(method, url + path, json=json or None, headers=headers)
        assert response.status_code == 200, response.text
        updated_at: str = response.json()["updated_at"]
        return updated_at

    changed_at = await change("PATCH", "/price", mine, price_idr=49_500)
    tkdn = {"tkdn_pct": 52.25, "bmp_pct": 12, "certificate_no": "TKDN-2025-42"}
    certified_at = await change("PUT", "/tkdn", mine, **tkdn, valid_until=valid_until)
    delisted_at = await change("POST", "/delist", mine, reason="vendor_request")
    relisted_at = await change("POST", "/relist", mine)
    admin_delisted_at = await change("POST", "/delist", admin)

    expected: list[tuple[str, dict[str, Any]]] = [
        (
            "ProductListed.v1",
            {
                "product_id": product_id,
                "vendor_id": vendor,
                "catalog": "lokal",
                "catalog_region_code": region,
                "category": body["category"],
                "name": body["name"],
                "brand": body["brand"],
                "unit": "rim",
                "price_idr": 52_000,
                "domestic": True,
                "tkdn_pct": 45.5,
                "bmp_pct": 10.0,
                "tkdn_certificate_no": "TKDN-2024-001",
                "vendor_scale": "kecil",
                "vendor_legal_form": "koperasi",
                "vendor_region_code": region,
                "listed_at": listed["listed_at"],
            },
        ),
        (
            "ProductPriceChanged.v1",
            {
                "product_id": product_id,
                "price_idr": 49_500,
                "previous_price_idr": 52_000,
                "changed_at": changed_at,
            },
        ),
        (
            "ProductTkdnCertified.v1",
            {
                "product_id": product_id,
                "tkdn_pct": 52.25,
                "bmp_pct": 12.0,
                "certificate_no": "TKDN-2025-42",
                "valid_until": valid_until,
                "certified_at": certified_at,
            },
        ),
        (
            "ProductDelisted.v1",
            {"product_id": product_id, "reason": "vendor_request", "delisted_at": delisted_at},
        ),
        ("ProductRelisted.v1", {"product_id": product_id, "relisted_at": relisted_at}),
        (
            "ProductDelisted.v1",
            {"product_id": product_id, "reason": "admin", "delisted_at": admin_delisted_at},
        ),
    ]

    await product_events.wait_for(product_id, len(expected))
    records = product_events.records[product_id]
    assert len(records) == len(expected)
    for sequence, ((key, headers, decoded), (event_type, data)) in enumerate(
        zip(records, expected, strict=True), start=1
    ):
        envelope = decoded.envelope
        assert (envelope.type, envelope.source) == (event_type, "etalase/catalog")
        assert (envelope.subject, envelope.sequence) == (product_id, sequence)
        assert envelope.data == data
        assert decoded.event.model_dump(mode="json") == data
        assert key == product_id.encode()
        assert dict(headers)["content-type"] == b"application/cloudevents+json"
        assert dict(headers)["event-type"] == event_type.encode()
        assert not [name for name, _ in headers if name.lower().startswith("ce_")]
        assert not PERSONAL_DATA & set(envelope.data)
    assert len({decoded.envelope.id for _, _, decoded in records}) == len(records)
