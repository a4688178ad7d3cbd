"""POST /orders/check against real PostgreSQL and Kafka: what placing an order would mean, from
the same computation as POST /orders, changing nothing; and the alternatives it names travel in
OrderPlaced (decoded with the contract's codec)."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from etalase_events.models import DelistReason, LegalForm, OrderPlaced, ProductDelisted, Scale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import bearer, unique
from tests.purchasing.support import (
    REGION,
    CatalogDouble,
    Published,
    buyer,
    fund,
    now,
    order_body,
)

pytestmark = pytest.mark.infra

Client = httpx.AsyncClient
ELSEWHERE = "33.26"


@dataclass(frozen=True)
class Seller:
    vendor_id: str
    scale: Scale
    legal_form: LegalForm
    region: str

    def snapshot(self) -> dict[str, Any]:
        return {
            "vendor_id": self.vendor_id,
            "vendor_scale": self.scale,
            "vendor_legal_form": self.legal_form,
            "vendor_region_code": self.region,
        }


def seller(scale: Scale, legal_form: LegalForm = LegalForm.PT, region: str = REGION) -> Seller:
    return Seller(str(uuid.uuid4()), scale, legal_form, region)


def _pct(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


async def offer(
    catalog: CatalogDouble,
    who: Seller,
    category: str,
    price: int,
    tkdn: str | None,
    bmp: str | None,
) -> str:
    listed = await catalog.list_product(
        **who.snapshot(),
        category=category,
        price_idr=price,
        tkdn_pct=_pct(tkdn),
        bmp_pct=_pct(bmp),
        tkdn_certificate_no="TKDN-1" if tkdn else None,
    )
    return listed.product_id


async def check(client: Client, opd: str, lines: list[tuple[str, int]]) -> httpx.Response:
    return await client.post("/orders/check", json=order_body(opd, lines), headers=buyer(opd))


@dataclass(frozen=True)
class Aisle:
    category: str
    ids: dict[str, str]


@pytest.fixture(scope="module")
async def aisle(catalog: CatalogDouble) -> Aisle:
    """A category with more PDN-wajib products than a check names, ranked by every key."""
    category = unique("meja-")
    besar_far = seller(Scale.BESAR, region=ELSEWHERE)
    plan: dict[str, tuple[Seller, int, str | None, str | None]] = {
        # the buyer's choice: TKDN 24.99 misses PDN-wajib whatever the BMP
        "ordered": (besar_far, 95_000, "24.99", "15"),
        "sum_39_99": (besar_far, 1_000, "25", "14.99"),  # cheapest, but not PDN-wajib
        "mikro_local": (seller(Scale.MIKRO, LegalForm.CV), 100_000, "25", "15"),
        "koperasi_far": (
            seller(Scale.MENENGAH, LegalForm.KOPERASI, ELSEWHERE),
            90_000,
            "30",
            "10",
        ),
        "besar_local": (seller(Scale.BESAR), 20_000, "40", None),
        "far_1": (besar_far, 10_000, "35", "5"),
        "far_2": (besar_far, 11_000, "35", "5"),
        "far_3": (besar_far, 12_000, "35", "5"),  # sixth: not named
        "suspended": (seller(Scale.MIKRO, LegalForm.CV), 5_000, "50", "0"),  # would rank first
    }
    ids = {
        name: await offer(catalog, who, category, price, tkdn, bmp)
        for name, (who, price, tkdn, bmp) in plan.items()
    }
    # its vendor suspended after listing: the catalog takes its products down
    delisted = ProductDelisted(
        product_id=ids["suspended"], reason=DelistReason.VENDOR_SUSPENDED, delisted_at=now()
    )
    await catalog.send(delisted, ids["suspended"])
    await catalog.known(*ids.values())
    await catalog.hidden(ids["suspended"])
    return Aisle(category, ids)


EXPECTED_ALTERNATIVES = ["mikro_local", "koperasi_far", "besar_local", "far_1", "far_2"]
"""UMK-K and local, UMK-K (a koperasi although menengah), local, then the cheapest."""


async def test_the_check_names_the_substitution_and_the_order_records_it(
    client: Client, catalog: CatalogDouble, published: Published, aisle: Aisle
) -> None:
    opd = await fund(client, 10_000_000)
    lines = [(aisle.ids["ordered"], 10)]
    name = {product_id: nickname for nickname, product_id in aisle.ids.items()}

    response = await check(client, opd, lines)

    assert response.status_code == 200, response.text
    checked = response.json()
    (line,) = checked["lines"]
    assert line["pdn_alternative_available"] is True
    assert [name[p] for p in line["pdn_alternatives"]] == EXPECTED_ALTERNATIVES
    described = {a["product_id"]: a for a in checked["alternatives"]}
    assert [name[p] for p in described] == EXPECTED_ALTERNATIVES
    assert (
        described[aisle.ids["mikro_local"]] | {"umkk": True, "local": True}
        == described[aisle.ids["mikro_local"]]
    )
    assert (
        described[aisle.ids["koperasi_far"]]["umkk"],
        described[aisle.ids["koperasi_far"]]["local"],
    ) == (True, False)
    assert checked["pdn_substitution_lines"] == 1
    assert checked["reserved_package_violation"] is True  # Rp950,000 to a usaha besar
    assert (checked["total_idr"], checked["pagu_idr"], checked["committed_idr"]) == (
        950_000,
        10_000_000,
        0,
    )
    assert (checked["remaining_idr"], checked["remaining_after_idr"]) == (10_000_000, 9_050_000)
    assert checked["within_pagu"] is True
    assert checked["shares"]["before"] == dict.fromkeys(
        ["umkk_of_pagu", "ecatalog_of_pagu", "pdn_of_spend", "local_of_spend"], None
    ) | {"umkk_of_pagu": 0.0, "ecatalog_of_pagu": 0.0}
    assert checked["shares"]["after"] == {
        "umkk_of_pagu": 0.0,
        "ecatalog_of_pagu": 9.5,  # lokal catalogue, Rp950,000 of Rp10,000,000
        "pdn_of_spend": 100.0,
        "local_of_spend": 0.0,
    }

    # nothing was placed, nothing published
    listed = await client.get("/orders", params={"opd_code": opd}, headers=buyer(opd))
    assert listed.json()["total"] == 0

    placed = await client.post("/orders", json=order_body(opd, lines), headers=buyer(opd))
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["lines"] == checked["lines"]
    (event,) = await published.wait_for(order["order_id"], 1)
    assert isinstance(event.event, OrderPlaced)
    assert [list(line.pdn_alternatives) for line in event.event.lines] == [line["pdn_alternatives"]]
    assert not [
        decoded
        for decoded in published.all()
        if isinstance(decoded.event, OrderPlaced)
        and decoded.event.opd_code == opd
        and decoded.event.order_id != order["order_id"]
    ]


async def test_taking_the_alternative_clears_the_flags_and_moves_the_shares(
    client: Client, aisle: Aisle
) -> None:
    opd = await fund(client, 10_000_000)
    first = await client.post(
        "/orders", json=order_body(opd, [(aisle.ids["ordered"], 10)]), headers=buyer(opd)
    )
    assert first.status_code == 201, first.text

    taken = await check(client, opd, [(aisle.ids["mikro_local"], 20)])

    assert taken.status_code == 200, taken.text
    checked = taken.json()
    (line,) = checked["lines"]
    assert (line["pdn_alternative_available"], line["pdn_alternatives"]) == (False, [])
    assert checked["alternatives"] == []
    assert checked["pdn_substitution_lines"] == 0
    assert checked["reserved_package_violation"] is False
    assert (checked["committed_idr"], checked["remaining_idr"]) == (950_000, 9_050_000)
    assert checked["shares"]["before"]["umkk_of_pagu"] == 0.0
    assert checked["shares"]["after"]["umkk_of_pagu"] == 20.0  # Rp2,000,000 of Rp10,000,000
    assert checked["shares"]["after"]["local_of_spend"] == 67.8  # 2,000,000 of 2,950,000


async def test_the_check_has_the_scope_and_refusals_of_placing(
    client: Client, aisle: Aisle
) -> None:
    opd = await fund(client, 1_000)
    lines = [(aisle.ids["ordered"], 1)]
    other = await fund(client, 1_000)
    assert (
        await client.post("/orders/check", json=order_body(opd, lines), headers=buyer(other))
    ).status_code == 403
    auditor = bearer("auditor")
    assert (
        await client.post("/orders/check", json=order_body(opd, lines), headers=auditor)
    ).status_code == 403
    assert (await client.post("/orders/check", json=order_body(opd, lines))).status_code == 401

    over = await check(client, opd, lines)
    assert over.status_code == 200 and over.json()["within_pagu"] is False
    assert over.json()["remaining_after_idr"] == 1_000 - 95_000

    hidden = await check(client, opd, [(aisle.ids["suspended"], 1)])
    assert (hidden.status_code, hidden.json()["rule"]) == (409, "product_not_displayed")
    unknown = await check(client, opd, [(str(uuid.uuid4()), 1)])
    assert (unknown.status_code, unknown.json()["rule"]) == (409, "product_unknown")
    unfunded = f"{REGION}.{unique()}"
    missing = await check(client, unfunded, lines)
    assert (missing.status_code, missing.json()["rule"]) == (409, "budget_missing")
    twice = await check(client, opd, [*lines, *lines])
    assert twice.status_code == 422


# --- property: the check equals an independent computation over random catalogues ---------------

PERCENTS = st.sampled_from([None, "0", "24.99", "25", "30", "40"])
BMPS = st.sampled_from([None, "0", "10", "14.99", "15"])


@st.composite
def catalogues(draw: st.DrawFn) -> list[tuple[Seller, int, str | None, str | None, bool]]:
    sellers = [
        seller(
            draw(st.sampled_from(list(Scale))),
            draw(st.sampled_from([LegalForm.CV, LegalForm.PT, LegalForm.KOPERASI])),
            draw(st.sampled_from([REGION, ELSEWHERE])),
        )
        for _ in range(draw(st.integers(1, 4)))
    ]
    return [
        (
            draw(st.sampled_from(sellers)),
            draw(st.sampled_from([1_000, 2_000, 3_000])),  # ties: the product id decides
            draw(PERCENTS),
            draw(BMPS),
            draw(st.booleans()),  # displayed
        )
        for _ in range(draw(st.integers(1, 9)))
    ]


def _pdn_wajib(tkdn: str | None, bmp: str | None) -> bool:
    if tkdn is None:
        return False
    return Decimal(tkdn) >= 25 and Decimal(tkdn) + Decimal(bmp or 0) >= 40


def _umkk(who: Seller) -> bool:
    return who.scale in (Scale.MIKRO, Scale.KECIL) or who.legal_form is LegalForm.KOPERASI


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shelf=catalogues(), data=st.data())
async def test_the_check_equals_an_independent_computation(
    client: Client,
    catalog: CatalogDouble,
    shelf: list[tuple[Seller, int, str | None, str | None, bool]],
    data: st.DataObject,
) -> None:
    category = unique("rak-")
    products = []
    for who, price, tkdn, bmp, displayed in shelf:
        product_id = await offer(catalog, who, category, price, tkdn, bmp)
        if not displayed:
            await catalog.delist(product_id)
        products.append((product_id, who, price, tkdn, bmp, displayed))
    await catalog.known(*(p[0] for p in products))
    for product_id, *_, displayed in products:
        if not displayed:
            await catalog.hidden(product_id)
    on_shelf = [p for p in products if p[-1]]
    if not on_shelf:
        return
    ordered = data.draw(st.sampled_from(on_shelf))
    product_id, who, price, tkdn, bmp, _ = ordered
    quantity = data.draw(st.integers(1, 5))
    opd = await fund(client, 10**12)

    response = await check(client, opd, [(product_id, quantity)])

    assert response.status_code == 200, response.text
    checked = response.json()
    candidates = sorted(
        (p for p in on_shelf if _pdn_wajib(p[3], p[4])),
        key=lambda p: (not _umkk(p[1]), p[1].region != REGION, p[2], p[0]),
    )
    expected = [] if _pdn_wajib(tkdn, bmp) else [p[0] for p in candidates[:5]]
    (line,) = checked["lines"]
    assert line["pdn_alternatives"] == expected
    assert line["pdn_alternative_available"] is bool(expected)
    assert checked["pdn_substitution_lines"] == int(bool(expected))
    assert checked["total_idr"] == quantity * price
    assert checked["reserved_package_violation"] is (not _umkk(who))
    assert checked["vendor_umkk"] is _umkk(who)
