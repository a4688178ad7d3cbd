"""Vendor and catalog counts per kab/kota, from the registration and catalog events."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from etalase_events.models import (
    Catalog,
    Channel,
    DelistReason,
    LegalForm,
    ProductDelisted,
    ProductListed,
    ProductTkdnCertified,
    Scale,
    VendorProfileUpdated,
    VendorRegistered,
    VendorSuspended,
    VendorVerified,
)

from tests.helpers import Infra, bearer, unique
from tests.reporting.support import Sent, fresh_scope, produce, sent, wait_applied

pytestmark = pytest.mark.infra

AT = datetime(2041, 3, 1, 3, 0, tzinfo=UTC)


class Regions:
    def __init__(self, province: str) -> None:
        self.province = province
        self.kota = f"{province}.71"
        self.kabupaten = f"{province}.02"


def _vendor(vendor_id: str, region: str, scale: Scale, form: LegalForm, channel: Channel) -> Sent:
    event = VendorRegistered(
        vendor_id=vendor_id,
        nib="9120001234567",
        name=f"Usaha {vendor_id}",
        legal_form=form,
        scale=scale,
        region_code=region,
        kbli=("47711",),
        channel=channel,
        registered_at=AT,
    )
    return sent(event, vendor_id, 1)


def _product(
    product_id: str,
    vendor_id: str,
    vendor_region: str,
    catalog: Catalog,
    category: str,
    *,
    domestic: bool = True,
    tkdn: str | None = None,
    bmp: str | None = None,
    catalog_region: str | None = None,
    scale: Scale = Scale.MIKRO,
) -> Sent:
    event = ProductListed(
        product_id=product_id,
        vendor_id=vendor_id,
        catalog=catalog,
        catalog_region_code=catalog_region,
        category=category,
        name=f"Produk {product_id}",
        unit="buah",
        price_idr=10_000,
        domestic=domestic,
        tkdn_pct=None if tkdn is None else Decimal(tkdn),
        bmp_pct=None if bmp is None else Decimal(bmp),
        tkdn_certificate_no=None if tkdn is None else "TKDN-1",
        vendor_scale=scale,
        vendor_legal_form=LegalForm.CV,
        vendor_region_code=vendor_region,
        listed_at=AT,
    )
    return sent(event, product_id, 1)


def _events(r: Regions, tag: str) -> list[Sent]:
    v1, v2, v3, v4 = (f"{tag}-v{n}" for n in range(1, 5))
    return [
        # a product before its vendor: the vendor's region and scale still decide
        _product(f"{tag}-pa", v1, r.kota, Catalog.NASIONAL, "alat tulis", tkdn="30", bmp="15"),
        _vendor(v1, r.kota, Scale.MIKRO, LegalForm.CV, Channel.MPP_DESK),
        sent(VendorVerified(vendor_id=v1, verified_at=AT), v1, 2),
        _vendor(v2, r.kota, Scale.KECIL, LegalForm.KOPERASI, Channel.ONLINE),
        _vendor(v3, r.kota, Scale.MENENGAH, LegalForm.PT, Channel.ONLINE),
        sent(VendorVerified(vendor_id=v3, verified_at=AT), v3, 2),
        sent(VendorSuspended(vendor_id=v3, reason="dokumen palsu", suspended_at=AT), v3, 3),
        _vendor(v4, r.kota, Scale.BESAR, LegalForm.KOPERASI, Channel.MPP_DESK),
        sent(VendorVerified(vendor_id=v4, verified_at=AT), v4, 2),
        sent(VendorProfileUpdated(vendor_id=v4, updated_at=AT, region_code=r.kabupaten), v4, 3),
        _product(
            f"{tag}-pb",
            v1,
            r.kota,
            Catalog.LOKAL,
            "makanan",
            tkdn="25",
            catalog_region=r.kota,
        ),
        _product(f"{tag}-pc", v3, r.kota, Catalog.SEKTORAL, "alat tulis", domestic=False),
        sent(
            ProductDelisted(
                product_id=f"{tag}-pc", reason=DelistReason.VENDOR_SUSPENDED, delisted_at=AT
            ),
            f"{tag}-pc",
            2,
        ),
        _product(f"{tag}-pd", v4, r.kota, Catalog.TOKO_DARING, "kain", scale=Scale.BESAR),
        _product(f"{tag}-pe", v2, r.kota, Catalog.NASIONAL, "kain", tkdn="20", bmp="15"),
        sent(
            ProductTkdnCertified(
                product_id=f"{tag}-pe",
                tkdn_pct=Decimal("26"),
                bmp_pct=Decimal("15"),
                certificate_no="TKDN-2",
                valid_until=date(2043, 1, 1),
                certified_at=AT,
            ),
            f"{tag}-pe",
            2,
        ),
        # a vendor registration never seen: the listing's snapshot decides
        _product(
            f"{tag}-pf",
            f"{tag}-unknown",
            r.kota,
            Catalog.LOKAL,
            "obat",
            catalog_region=r.kabupaten,
            scale=Scale.KECIL,
        ),
    ]


@pytest.fixture(scope="module")
async def regions(infra: Infra, reporting: httpx.AsyncClient) -> AsyncIterator[Regions]:
    _, province = await fresh_scope(reporting, infra.kafka)
    r = Regions(province)
    await wait_applied(reporting, await produce(infra.kafka, _events(r, unique("s"))))
    yield r


async def _stats(client: httpx.AsyncClient, kind: str, region: str) -> dict[str, Any]:
    response = await client.get(
        f"/stats/{kind}", params={"region_code": region}, headers=bearer("auditor")
    )
    assert response.status_code == 200, response.text
    return {item["region_code"]: item for item in response.json()["items"]}


async def test_vendor_counts_per_kab_kota(reporting: httpx.AsyncClient, regions: Regions) -> None:
    stats = await _stats(reporting, "vendors", regions.province)
    assert stats[regions.kota] == {
        "region_code": regions.kota,
        "by_status": {"registered": 1, "verified": 1, "suspended": 1},
        "by_scale": {"mikro": 1, "kecil": 1, "menengah": 1, "besar": 0},
        "koperasi": 1,
        "umkk": 2,
        "via_mpp_desk": 1,
        "online": 2,
        "total": 3,
    }
    moved = stats[regions.kabupaten]  # v4 moved here after registering in the kota
    assert (moved["total"], moved["by_status"]["verified"], moved["umkk"]) == (1, 1, 1)


async def test_catalog_counts_per_kab_kota(reporting: httpx.AsyncClient, regions: Regions) -> None:
    stats = await _stats(reporting, "catalog", regions.province)
    assert stats[regions.kota] == {
        "region_code": regions.kota,
        "listed": 5,
        "tayang": 4,
        "delisted": 1,
        "categories_tayang": 4,
        "tayang_domestic": 4,
        "tayang_tkdn25": 3,
        "tayang_pdn_wajib": 2,
        "tayang_umkk": 4,
        "katalog_lokal_tayang": 1,
    }
    assert stats[regions.kabupaten] == {
        "region_code": regions.kabupaten,
        "listed": 1,
        "tayang": 1,
        "delisted": 0,
        "categories_tayang": 1,
        "tayang_domestic": 1,
        "tayang_tkdn25": 0,
        "tayang_pdn_wajib": 0,
        "tayang_umkk": 1,
        "katalog_lokal_tayang": 1,
    }


async def test_stats_follow_the_callers_region(
    reporting: httpx.AsyncClient, regions: Regions
) -> None:
    admin = bearer("admin", region=regions.kabupaten)
    response = await reporting.get("/stats/vendors", headers=admin)
    assert [item["region_code"] for item in response.json()["items"]] == [regions.kabupaten]
    response = await reporting.get(
        "/stats/catalog", params={"region_code": regions.kota}, headers=admin
    )
    assert response.status_code == 403
    buyer = bearer("buyer", opd=f"{regions.kota}.1", region=regions.kota)
    assert (await reporting.get("/stats/vendors", headers=buyer)).status_code == 403
