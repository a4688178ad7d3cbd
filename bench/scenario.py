"""The data the order benchmarks run on: OPDs with budgets, vendors with products known to
purchasing, buyer tokens, and a seeded stream of realistic orders.

Products reach purchasing the way catalog's do: as ProductListed events on the products topic.
Everything the benchmark creates lives in one kab/kota (`REGION`) under OPD codes unique to the
run, so the compliance report it polls holds only this run's OPDs and a few of earlier runs'.
"""

import asyncio
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import httpx
from aiokafka import AIOKafkaProducer
from etalase_events.codec import encode
from etalase_events.envelope import new_envelope
from etalase_events.models import Catalog, LegalForm, ProductListed, Scale
from etalase_platform.auth import mint_token
from etalase_platform.settings import DEV_JWT_SECRET

from bench.load import Answer, Call

REGION = "92.71"  # Kota Sorong: far from the regions the test suites use
PAGU_IDR = 10**14  # no benchmark order is ever refused for want of budget
SEED = 20240627
KNOWN_TIMEOUT_S = 180.0
CATEGORIES = ("Alat Tulis Kantor", "Seragam dan Tekstil", "Makanan dan Minuman", "Komputer")
VENDOR_KINDS = (
    (Scale.MIKRO, LegalForm.PERORANGAN),
    (Scale.KECIL, LegalForm.CV),
    (Scale.MENENGAH, LegalForm.PT),
    (Scale.KECIL, LegalForm.KOPERASI),
    (Scale.BESAR, LegalForm.PT),
)


def _headers(role: str, *, region: str | None = None, opd: str | None = None) -> dict[str, str]:
    token = mint_token(DEV_JWT_SECRET, role=role, region=region, opd=opd)
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Ledger:
    """Every order the benchmark placed, per OPD, in the order their 201s arrived."""

    placed: dict[str, list[Answer]] = field(default_factory=lambda: defaultdict(list))
    counted: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """Orders placed where only their number per OPD is known (the wrk load generator's)."""

    def record(self, answer: Answer) -> None:
        if answer.status == 201:
            self.placed[answer.call.tag].append(answer)

    def add(self, placed_by_opd: dict[str, int]) -> None:
        for opd, placed in placed_by_opd.items():
            self.counted[opd] += placed

    def counts(self) -> dict[str, int]:
        opds = self.placed.keys() | self.counted.keys()
        return {opd: len(self.placed.get(opd, ())) + self.counted.get(opd, 0) for opd in opds}


@dataclass
class Scenario:
    fiscal_year: int
    opds: list[str]
    products_by_vendor: dict[str, list[ProductListed]]
    rng: random.Random
    ledger: Ledger = field(default_factory=Ledger)

    @classmethod
    def seeded(cls, run_id: str, *, opds: int, vendors: int, products: int) -> "Scenario":
        rng = random.Random(SEED)
        listed_at = datetime.now(UTC)
        by_vendor: dict[str, list[ProductListed]] = {}
        for v in range(vendors):
            scale, legal_form = VENDOR_KINDS[v % len(VENDOR_KINDS)]
            vendor_id = str(uuid.uuid4())
            by_vendor[vendor_id] = [
                _product(rng, vendor_id, scale, legal_form, listed_at)
                for _ in range(max(1, products // vendors))
            ]
        return cls(
            fiscal_year=listed_at.year,
            # the run id keeps OPD codes apart from earlier runs' on the shared order topic
            opds=[f"{REGION}.b{run_id}.{n:02d}" for n in range(opds)],
            products_by_vendor=by_vendor,
            rng=rng,
        )

    def buyer(self, opd: str) -> dict[str, str]:
        return _headers("buyer", opd=opd, region=REGION)

    @property
    def auditor(self) -> dict[str, str]:
        return _headers("auditor")

    def order(self, opd: str, vendor_id: str, products: list[ProductListed]) -> Call:
        lines = [
            {"product_id": p.product_id, "quantity": self.rng.randint(1, 10)} for p in products
        ]
        headers = {**self.buyer(opd), "Idempotency-Key": str(uuid.uuid4())}
        body = {"opd_code": opd, "fiscal_year": self.fiscal_year, "lines": lines}
        return Call("/orders", body, headers, tag=opd)

    def next_order(self) -> Call:
        """A random OPD ordering one to three products of one random vendor."""
        vendor_id = self.rng.choice(list(self.products_by_vendor))
        offer = self.products_by_vendor[vendor_id]
        chosen = self.rng.sample(offer, self.rng.randint(1, min(3, len(offer))))
        return self.order(self.rng.choice(self.opds), vendor_id, chosen)

    async def recount(self, purchasing: httpx.AsyncClient) -> None:
        """Takes each OPD's number of orders from purchasing itself: a load generator stopped at
        the end of its window leaves orders in flight that are placed but whose 201 it never
        read (wrk), and an order the ledger does not know of would later be taken for one of
        the next ones, counted before it was placed."""
        for opd in self.opds:
            response = await purchasing.get("/orders", params={"limit": 1}, headers=self.buyer(opd))
            response.raise_for_status()
            self.ledger.counted[opd] = int(response.json()["total"]) - len(
                self.ledger.placed.get(opd, ())
            )

    async def prepare(self, kafka: str, purchasing: httpx.AsyncClient) -> None:
        await self._list_products(kafka)
        await self._allocate_budgets(purchasing)
        await self._wait_until_products_known(purchasing)

    async def _list_products(self, kafka: str) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
        await producer.start()
        try:
            for products in self.products_by_vendor.values():
                for product in products:
                    envelope = new_envelope(
                        product, source="bench/catalog", subject=product.product_id, sequence=1
                    )
                    record = encode(envelope)
                    await producer.send_and_wait(
                        record.topic, record.value, record.key, headers=record.headers
                    )
        finally:
            await producer.stop()

    async def _allocate_budgets(self, purchasing: httpx.AsyncClient) -> None:
        admin = _headers("admin", region=REGION)

        async def allocate(opd: str) -> None:
            body = {"opd_name": f"OPD benchmark {opd}", "region_code": REGION, "pagu_idr": PAGU_IDR}
            response = await purchasing.put(
                f"/budgets/{self.fiscal_year}/{opd}", json=body, headers=admin
            )
            response.raise_for_status()

        await asyncio.gather(*(allocate(opd) for opd in self.opds))

    async def _wait_until_products_known(self, purchasing: httpx.AsyncClient) -> None:
        """One order per vendor with all its products: 201 once purchasing has heard of them all
        (409 until then: purchasing first reads the products topic from its beginning)."""
        deadline = time.monotonic() + KNOWN_TIMEOUT_S
        for vendor_id, products in self.products_by_vendor.items():
            call = self.order(self.opds[0], vendor_id, products)
            while True:
                sent_at = time.perf_counter()
                response = await purchasing.post(call.path, json=call.body, headers=call.headers)
                answer = Answer(call, response.status_code, sent_at, time.perf_counter(), None)
                self.ledger.record(answer)
                if response.status_code == 201:
                    break
                if response.status_code != 409 or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"purchasing did not take the probe order: {response.status_code}"
                        f" {response.text[:500]}"
                    )
                await asyncio.sleep(0.5)


def _product(
    rng: random.Random,
    vendor_id: str,
    scale: Scale,
    legal_form: LegalForm,
    listed_at: datetime,
) -> ProductListed:
    local = rng.random() < 0.5
    certified = rng.random() < 0.6
    return ProductListed(
        product_id=str(uuid.uuid4()),
        vendor_id=vendor_id,
        catalog=Catalog.LOKAL if local else rng.choice([Catalog.NASIONAL, Catalog.TOKO_DARING]),
        catalog_region_code=REGION if local else None,
        category=rng.choice(CATEGORIES),
        name=f"Produk {rng.randint(1, 10**6)}",
        unit="unit",
        price_idr=rng.randint(50, 5_000) * 1_000,
        domestic=rng.random() < 0.9,
        tkdn_pct=Decimal(rng.randint(10, 80)) if certified else None,
        bmp_pct=Decimal(rng.randint(0, 15)) if certified else None,
        tkdn_certificate_no=f"TKDN-{rng.randint(1, 10**6)}" if certified else None,
        vendor_scale=scale,
        vendor_legal_form=legal_form,
        vendor_region_code=REGION,
        listed_at=listed_at,
    )
