"""GET /products for P3DN (`pdn_wajib`, `tkdn_min`, `umkk`, `local_to`, `sort=p3dn`) against real
PostgreSQL and Kafka, on one category of products built so that each rule decides something:
TKDN 24.99 vs 25, TKDN + BMP 39.99 vs 40, a koperasi of scale menengah, a vendor whose scale
changes after listing, and a vendor suspended after listing."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from etalase_events.models import LegalForm, Scale

from tests.catalog.support import (
    Registry,
    list_when_known,
    product_body,
    unique_region,
)
from tests.helpers import eventually, unique

pytestmark = pytest.mark.infra

Client = httpx.AsyncClient


@dataclass(frozen=True)
class Shelf:
    """One category's products, by nickname, and the buyer's region."""

    category: str
    region: str
    ids: dict[str, str]

    def names(self, items: list[dict[str, Any]]) -> list[str]:
        nickname = {product_id: name for name, product_id in self.ids.items()}
        return [nickname[item["product_id"]] for item in items]


async def _shelf(catalog: Client, registry: Registry) -> Shelf:
    region, elsewhere = unique_region(), unique_region()
    category = f"Furnitur Sekolah {unique()}"
    besar_local = await registry.verified_vendor(
        region=region, scale=Scale.BESAR, legal_form=LegalForm.PT
    )
    koperasi_menengah = await registry.verified_vendor(
        region=elsewhere, scale=Scale.MENENGAH, legal_form=LegalForm.KOPERASI
    )
    mikro_local = await registry.verified_vendor(region=region, scale=Scale.MIKRO)
    menengah_far = await registry.verified_vendor(
        region=elsewhere, scale=Scale.MENENGAH, legal_form=LegalForm.PT
    )
    # (vendor, price, tkdn, bmp) per nickname; prices make price lose to every earlier key
    plan: dict[str, tuple[str, int, str | None, str | None]] = {
        "exact": (besar_local, 100_000, "25", "15"),  # 25 and 40 exactly: PDN-wajib
        "tkdn_24_99": (besar_local, 90_000, "24.99", "15"),  # TKDN short by 0.01
        "sum_39_99": (besar_local, 95_000, "25", "14.99"),  # TKDN + BMP short by 0.01
        "no_bmp_40": (besar_local, 150_000, "40", None),  # a missing BMP counts as 0
        "koperasi": (koperasi_menengah, 300_000, "30", "10"),  # UMK-K although menengah
        "mikro": (mikro_local, 200_000, "50", "0"),
        "mikro_low": (mikro_local, 10_000, "24.99", "15"),  # UMK-K but not PDN-wajib
        "menengah": (menengah_far, 120_000, "35", "5"),  # PDN-wajib, not UMK-K
        "no_tkdn": (menengah_far, 5_000, None, None),
    }
    ids: dict[str, str] = {}
    for name, (vendor, price, tkdn, bmp) in plan.items():
        body = product_body(
            vendor,
            category=category,
            price_idr=price,
            tkdn_pct=tkdn,
            bmp_pct=bmp,
            tkdn_certificate_no=f"TKDN-{name}" if tkdn else None,
        )
        ids[name] = (await list_when_known(catalog, body))["product_id"]
    return Shelf(category, region, ids)


@pytest.fixture(scope="module")
async def shelf(catalog: Client, registry: Registry) -> Shelf:
    return await _shelf(catalog, registry)


async def _search(catalog: Client, shelf: Shelf, **params: Any) -> list[str]:
    response = await catalog.get(
        "/products", params={"category": shelf.category, "limit": 500, **params}
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return shelf.names(page["items"])


async def test_pdn_wajib_needs_tkdn_25_and_tkdn_plus_bmp_40(catalog: Client, shelf: Shelf) -> None:
    found = await _search(catalog, shelf, pdn_wajib="true")
    assert sorted(found) == ["exact", "koperasi", "menengah", "mikro", "no_bmp_40"]
    others = await _search(catalog, shelf, pdn_wajib="false")
    assert sorted(others) == ["mikro_low", "no_tkdn", "sum_39_99", "tkdn_24_99"]


async def test_tkdn_min_is_inclusive_and_exact_to_the_hundredth(
    catalog: Client, shelf: Shelf
) -> None:
    at_25 = await _search(catalog, shelf, tkdn_min="25")
    assert sorted(at_25) == ["exact", "koperasi", "menengah", "mikro", "no_bmp_40", "sum_39_99"]
    at_24_99 = await _search(catalog, shelf, tkdn_min="24.99")
    assert sorted(at_24_99) == sorted([*at_25, "tkdn_24_99", "mikro_low"])


async def test_umkk_counts_a_koperasi_of_any_size_and_not_usaha_menengah(
    catalog: Client, shelf: Shelf
) -> None:
    assert sorted(await _search(catalog, shelf, umkk="true")) == ["koperasi", "mikro", "mikro_low"]
    not_umkk = await _search(catalog, shelf, umkk="false")
    assert "menengah" in not_umkk and "koperasi" not in not_umkk


async def test_local_to_keeps_vendors_of_that_kab_kota(catalog: Client, shelf: Shelf) -> None:
    found = await _search(catalog, shelf, local_to=shelf.region)
    assert sorted(found) == ["exact", "mikro", "mikro_low", "no_bmp_40", "sum_39_99", "tkdn_24_99"]


async def test_sort_p3dn_ranks_pdn_wajib_then_umkk_then_local_then_price(
    catalog: Client, shelf: Shelf
) -> None:
    ranked = await _search(catalog, shelf, sort="p3dn")
    assert ranked == [
        # PDN-wajib and UMK-K, cheapest first
        "mikro",
        "koperasi",
        # PDN-wajib, not UMK-K
        "exact",
        "menengah",
        "no_bmp_40",
        # not PDN-wajib: UMK-K first, then by price
        "mikro_low",
        "no_tkdn",
        "tkdn_24_99",
        "sum_39_99",
    ]
    local = await _search(catalog, shelf, sort="p3dn", local_to=shelf.region, pdn_wajib="true")
    assert local == ["mikro", "exact", "no_bmp_40"]


async def test_vendor_filters_read_the_vendor_as_catalog_hears_it_now(
    catalog: Client, registry: Registry
) -> None:
    """A scale changed after listing moves the product in and out of `umkk`; a vendor suspended
    after listing has its products delisted, so a search of displayed products drops them."""
    shelf = await _shelf(catalog, registry)
    mikro = shelf.ids["mikro"]
    vendor = (await catalog.get(f"/products/{mikro}")).json()["vendor_id"]

    await registry.update_profile(vendor, scale=Scale.MENENGAH)

    async def no_longer_umkk() -> bool:
        return "mikro" not in await _search(catalog, shelf, umkk="true")

    await eventually(no_longer_umkk)

    await registry.suspend(vendor)

    async def not_suggested() -> bool:
        found = await _search(catalog, shelf, status="tayang", pdn_wajib="true", sort="p3dn")
        return "mikro" not in found

    await eventually(not_suggested)
    shown = await _search(catalog, shelf, status="tayang", sort="p3dn")
    assert "mikro" not in shown and "mikro_low" not in shown
    assert shown[0] == "koperasi"


@pytest.mark.parametrize(
    "params",
    [
        {"tkdn_min": "100.01"},
        {"tkdn_min": "-1"},
        {"tkdn_min": "NaN"},
        {"pdn_wajib": "maybe"},
        {"umkk": "2"},
        {"local_to": "33"},  # a province is not a kab/kota
        {"local_to": "33.75'; --"},
        {"sort": "cheapest"},
    ],
)
async def test_bad_p3dn_parameters_are_422_naming_them(
    catalog: Client, params: dict[str, str]
) -> None:
    response = await catalog.get("/products", params=params)
    assert response.status_code == 422, response.text
    (name,) = params
    assert name in [error["field"].split(".")[-1] for error in response.json()["errors"]]
