"""A small market on the running stack, set up through the public APIs only: a verified vendor
with a displayed product, and an OPD with a budget. Each call is what a real client would do,
including retrying the 409s that mean "that service has not heard the event yet"."""

import asyncio
import json
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from stdnum import luhn

from tests.e2e.stack import Stack
from tests.helpers import bearer

FISCAL_YEAR = 2026
REGION = "33.75"


@dataclass(frozen=True)
class Market:
    vendor_id: str
    product_id: str
    price_idr: int
    opd_codes: tuple[str, ...]

    @property
    def opd_code(self) -> str:
        return self.opd_codes[0]

    def buyer(self, opd_code: str) -> dict[str, str]:
        return bearer("buyer", opd=opd_code, region=REGION)


def _npwp(rng: random.Random) -> str:
    body = "01" + "".join(rng.choice("0123456789") for _ in range(6))
    return body + luhn.calc_check_digit(body) + "502000"


async def retry(
    call: Callable[[], Awaitable[httpx.Response]], *, until_not: int = 409, timeout: float = 60.0
) -> httpx.Response:
    """Repeats `call` while it answers `until_not` (an event not yet heard), with backoff."""
    deadline = asyncio.get_running_loop().time() + timeout
    delay = 0.1
    while True:
        response = await call()
        if response.status_code != until_not or asyncio.get_running_loop().time() > deadline:
            return response
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)


async def verified_vendor(
    http: httpx.AsyncClient,
    stack: Stack,
    *,
    region: str = REGION,
    name: str = "CV Batik Pesisir Jaya",
) -> str:
    """A micro CV of `region`, registered and verified at its MPP desk: its vendor_id."""
    rng = random.Random()
    desk = bearer("desk", region=region)
    vendor = {
        "nib": "912" + "".join(rng.choice("0123456789") for _ in range(10)),
        "npwp": _npwp(rng), "name": name, "legal_form": "cv",
        "scale": "mikro", "region_code": region, "kbli": ["13134"],
    }  # fmt: skip
    registration = stack.urls["registration"]
    created = await http.post(f"{registration}/vendors", json=vendor, headers=desk)
    assert created.status_code == 201, created.text
    vendor_id: str = created.json()["vendor_id"]
    verified = await http.post(f"{registration}/vendors/{vendor_id}/verify", headers=desk)
    assert verified.status_code == 200, verified.text
    return vendor_id


async def open_market(stack: Stack, *, opds: int = 1, pagu_idr: int = 10**12) -> Market:
    """`opds` agencies with a budget each (orders of one agency queue on its budget)."""
    async with httpx.AsyncClient(timeout=30) as http:
        catalog, purchasing = stack.urls["catalog"], stack.urls["purchasing"]
        vendor_id = await verified_vendor(http, stack)
        product = {
            "vendor_id": vendor_id, "catalog": "lokal", "catalog_region_code": REGION,
            "category": "Batik dan Seragam", "name": "Kain Batik Tulis Motif Jlamprang",
            "unit": "potong", "price_idr": 350_000, "domestic": True, "tkdn_pct": 62.5,
            "bmp_pct": 8, "tkdn_certificate_no": "1234/SJ-IND.8/TKDN/3/2026",
        }  # fmt: skip
        vendor_token = bearer("vendor", vendor_id=vendor_id)
        listed = await retry(
            lambda: http.post(f"{catalog}/products", json=product, headers=vendor_token)
        )
        assert listed.status_code == 201, listed.text
        opd_codes = tuple(f"{REGION}.1.02.{n + 1:02}.E{uuid.uuid4().hex[:8]}" for n in range(opds))
        for opd_code in opd_codes:
            budget = {"opd_name": "Dinas Kesehatan", "region_code": REGION, "pagu_idr": pagu_idr}
            allocated = await http.put(
                f"{purchasing}/budgets/{FISCAL_YEAR}/{opd_code}", json=budget,
                headers=bearer("admin", region=REGION),
            )  # fmt: skip
            assert allocated.status_code == 200, allocated.text
    return Market(vendor_id, listed.json()["product_id"], 350_000, opd_codes)


async def place_order(
    http: httpx.AsyncClient, stack: Stack, market: Market, opd_code: str | None = None
) -> dict[str, Any]:
    opd_code = opd_code or market.opd_code
    body = {
        "opd_code": opd_code,
        "fiscal_year": FISCAL_YEAR,
        "lines": [{"product_id": market.product_id, "quantity": 2}],
    }
    placed = await retry(
        lambda: http.post(
            f"{stack.urls['purchasing']}/orders", json=body, headers=market.buyer(opd_code)
        )
    )
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    return order


def read_spans(*files: Path) -> list[dict[str, Any]]:
    spans = []
    for file in files:
        if file.exists():
            for line in file.read_text().splitlines():
                if line.strip():
                    spans.append(json.loads(line))
    return spans
