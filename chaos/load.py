"""Order load with the load generator's own ledger, as a careful client would behave during an
outage: every order carries an Idempotency-Key, and a request that got no answer, or a 5xx, is
sent again with the same key until the answer is definite. An order is acknowledged when a 201
for it arrived; the ledger keeps every answer with its time, for the 5xx-outside-faults check."""

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from etalase_platform.auth import mint_token
from etalase_platform.settings import DEV_JWT_SECRET

from demo import identifiers

REGION = "33.75"
ROOMY_PAGU_IDR = 10**13
TIGHT_PAGU_IDR = 60_000_000
"""One OPD's pagu runs out during the run: its later orders must be refused, never overspent."""
RETRY_FOR_S = 180.0
KNOWN_TIMEOUT_S = 120.0


def headers(
    role: str, *, region: str | None = None, opd: str | None = None, vendor_id: str | None = None
) -> dict[str, str]:
    token = mint_token(DEV_JWT_SECRET, role=role, region=region, opd=opd, vendor_id=vendor_id)
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Acknowledged:
    order_id: str
    opd_code: str
    total_idr: int


@dataclass(frozen=True)
class Exchange:
    at: float
    """`time.monotonic()` when the answer (or the failure) came."""
    status: int
    """0 when no answer came (connection refused or reset, timeout)."""


@dataclass
class Ledger:
    acknowledged: dict[str, Acknowledged] = field(default_factory=dict)
    refused: Counter[str] = field(default_factory=Counter)
    exchanges: list[Exchange] = field(default_factory=list)
    unresolved: int = 0
    """Orders whose answer was still unknown after retrying for RETRY_FOR_S."""


@dataclass
class World:
    fiscal_year: int
    opds: list[str]
    tight_opd: str
    probe_opd: str
    """Only the recovery probes order for it."""
    products: list[tuple[str, int]]
    """(product_id, price_idr), all of one vendor: an order's lines must be of one vendor."""


async def seed(urls: dict[str, str], run: str) -> World:
    """A verified vendor registered at the desk, its products listed, budgets set: through the
    services' APIs, so the events flow as in production."""
    rng = random.Random(run)
    admin = headers("admin", region=REGION)
    async with httpx.AsyncClient(timeout=30) as http:
        vendor = await _ok(
            http.post(
                f"{urls['registration']}/vendors",
                json={
                    "nib": identifiers.nib(rng),
                    "npwp": identifiers.npwp(rng),
                    "name": f"CV Chaos {run}",
                    "legal_form": "koperasi",
                    "scale": "kecil",
                    "region_code": REGION,
                    "kbli": ["47111"],
                },
                headers=admin,
            ),
            201,
        )
        vendor_id = vendor["vendor_id"]
        await _ok(http.post(f"{urls['registration']}/vendors/{vendor_id}/verify", headers=admin))
        products = []
        for n in range(4):
            price = rng.randint(50, 900) * 1_000
            body = {
                "vendor_id": vendor_id,
                "catalog": "lokal",
                "catalog_region_code": REGION,
                "category": "Alat Tulis Kantor",
                "name": f"Produk chaos {n}",
                "unit": "unit",
                "price_idr": price,
                "domestic": True,
            }
            listed = await _until_201(
                http, f"{urls['catalog']}/products", body, headers("vendor", vendor_id=vendor_id)
            )
            products.append((listed["product_id"], price))
        year = time.gmtime().tm_year
        opds = [f"{REGION}.9.{run}.{n}" for n in range(4)]
        tight, probe = f"{REGION}.9.{run}.tight", f"{REGION}.9.{run}.probe"
        for opd in [*opds, tight, probe]:
            pagu = TIGHT_PAGU_IDR if opd == tight else ROOMY_PAGU_IDR
            await _ok(
                http.put(
                    f"{urls['purchasing']}/budgets/{year}/{opd}",
                    json={"opd_name": f"OPD {opd}", "region_code": REGION, "pagu_idr": pagu},
                    headers=admin,
                )
            )
    return World(year, opds, tight, probe, products)


async def _ok(request: Any, status: int = 200) -> dict[str, Any]:
    response: httpx.Response = await request
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    body: dict[str, Any] = response.json()
    return body


async def _until_201(
    http: httpx.AsyncClient, url: str, body: dict[str, Any], auth: dict[str, str]
) -> dict[str, Any]:
    """409 while the service has not heard the events it needs yet."""
    deadline = time.monotonic() + KNOWN_TIMEOUT_S
    key = {"Idempotency-Key": str(uuid.uuid4())}
    while True:
        response = await http.post(url, json=body, headers={**auth, **key})
        if response.status_code == 201:
            answer: dict[str, Any] = response.json()
            return answer
        if response.status_code != 409 or time.monotonic() > deadline:
            raise RuntimeError(f"{url}: {response.status_code} {response.text}")
        await asyncio.sleep(0.3)


class OrderLoad:
    def __init__(self, purchasing: str, world: World, ledger: Ledger, *, clients: int) -> None:
        self._url = purchasing
        self._world = world
        self.ledger = ledger
        self._clients = clients
        self._rng = random.Random(0)

    def _order(self) -> tuple[str, dict[str, Any]]:
        opd = self._rng.choice([*self._world.opds, self._world.tight_opd])
        chosen = self._rng.sample(self._world.products, self._rng.randint(1, 3))
        lines = [{"product_id": p, "quantity": self._rng.randint(1, 5)} for p, _ in chosen]
        return opd, {"opd_code": opd, "fiscal_year": self._world.fiscal_year, "lines": lines}

    async def until_known(self) -> None:
        """Until purchasing has heard of every product (409 product_unknown before)."""
        async with httpx.AsyncClient(timeout=30) as http:
            deadline = time.monotonic() + KNOWN_TIMEOUT_S
            opd = self._world.opds[0]
            lines = [{"product_id": p, "quantity": 1} for p, _ in self._world.products]
            body = {"opd_code": opd, "fiscal_year": self._world.fiscal_year, "lines": lines}
            while await self.place(http, opd, body, warming_up=True) != 201:
                if time.monotonic() > deadline:
                    raise RuntimeError("purchasing never heard of the products")
                await asyncio.sleep(0.5)

    async def run(self, stop: asyncio.Event) -> None:
        limits = httpx.Limits(max_connections=self._clients)
        async with httpx.AsyncClient(timeout=10, limits=limits) as http:

            async def client() -> None:
                while not stop.is_set():
                    await self.place(http, *self._order())

            await asyncio.gather(*(client() for _ in range(self._clients)))

    async def place(
        self, http: httpx.AsyncClient, opd: str, body: dict[str, Any], *, warming_up: bool = False
    ) -> int:
        """Sends the order until a definite answer; returns its status (0: never known). While
        warming up, purchasing not knowing a product yet is what is being waited for, not a
        refusal the verdict should count."""
        key = str(uuid.uuid4())
        buyer = {**headers("buyer", opd=opd, region=REGION), "Idempotency-Key": key}
        deadline = time.monotonic() + RETRY_FOR_S
        delay = 0.2
        while True:
            try:
                response = await http.post(f"{self._url}/orders", json=body, headers=buyer)
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            self.ledger.exchanges.append(Exchange(time.monotonic(), status))
            if status == 201:
                order = response.json()
                self.ledger.acknowledged[order["order_id"]] = Acknowledged(
                    order["order_id"], opd, int(order["total_idr"])
                )
                return status
            if 400 <= status < 500:
                rule = response.json().get("rule", "") if status == 409 else ""
                if not (warming_up and rule == "product_unknown"):
                    self.ledger.refused[f"{status} {rule}".strip()] += 1
                return status
            if time.monotonic() > deadline:
                self.ledger.unresolved += 1
                return 0
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
