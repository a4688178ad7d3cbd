"""The reference OPD consumer as a process (`python -m etalase_opd_consumer`) on the real broker
and PostgreSQL, fed by the real purchasing service: 1,000 orders of its OPD (and some of another)
placed, accepted, completed and cancelled over HTTP, the consumer killed and restarted midway,
records copied back onto the topic; its tables end equal to what purchasing holds for the OPD.
`OPD_CONSUMER_TEST_ORDERS` lowers the 1,000 on a machine too busy to place them in time."""

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from etalase_events.topics import BUDGETS, ORDERS, PARTITIONS
from etalase_platform.settings import DEV_JWT_SECRET
from etalase_purchasing.bootstrap import create_app
from etalase_purchasing.settings import Settings
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.helpers import DatabaseFactory, Infra, bearer, eventually, serve, unique
from tests.integrations.support import budget_status, orders_of
from tests.purchasing.support import YEAR, CatalogDouble, Published, admin, buyer, new_opd

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
ORDERS_OF_THE_OPD = int(os.environ.get("OPD_CONSUMER_TEST_ORDERS", "1000"))
ORDERS_OF_ANOTHER_OPD = 40
CONCURRENCY = 12
YEARS = (YEAR, YEAR + 1, YEAR + 2, YEAR + 3)
"""Orders of one OPD and year queue on its budget row: spread over years, they place in parallel."""


@pytest.fixture(scope="module")
async def published(infra: Infra) -> AsyncIterator[Published]:
    recorder = Published(infra.kafka, (ORDERS, BUDGETS))
    await recorder.start()
    yield recorder
    await recorder.stop()


@pytest.fixture(scope="module")
async def purchasing(
    infra: Infra, new_database: DatabaseFactory, published: Published
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=await new_database("purchasing"),
        kafka_bootstrap_servers=infra.kafka,
        consumer_group=unique("test.opd-consumer.purchasing."),
        jwt_secret=DEV_JWT_SECRET,
        environment="test",
    )
    async with serve(create_app(settings)) as client:
        yield client


class ConsumerProcess:
    """`python -m etalase_opd_consumer`, started and killed like an OPD's server would be."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "etalase_opd_consumer"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last commit; what was applied but not committed comes back."""
        assert self.process is not None and self.process.poll() is None, self.tail()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


async def _join_at_the_end(kafka: str, group: str) -> None:
    """Commits the group's offsets at the topics' ends: the OPD's system joins now (a real one
    starts from the earliest retained record; on a shared test broker that is everyone's)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in (ORDERS, BUDGETS) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit(dict(ends.items()))
    finally:
        await consumer.stop()


async def _place_orders(
    client: httpx.AsyncClient, opd: str, products: list[str], count: int
) -> list[dict[str, Any]]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def place(i: int) -> dict[str, Any]:
        body = {
            "opd_code": opd,
            "fiscal_year": YEARS[i % len(YEARS)],
            "lines": [{"product_id": products[i % len(products)], "quantity": 1 + i % 4}],
        }
        async with gate:
            response = await client.post("/orders", json=body, headers=buyer(opd))
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        return order

    return list(await asyncio.gather(*(place(i) for i in range(count))))


async def _move(client: httpx.AsyncClient, orders: list[dict[str, Any]]) -> None:
    """Every other order stays placed; the others are accepted, completed, cancelled, or
    accepted then cancelled (every request costs: 1,000 orders are what must be shown)."""
    gate = asyncio.Semaphore(CONCURRENCY)
    paths: list[list[str]] = [[], ["accept"], [], ["accept", "complete"], [], ["cancel"]]
    paths += [[], ["accept", "cancel"]]

    async def move(i: int, order: dict[str, Any]) -> None:
        for action in paths[i % len(paths)]:
            if action == "accept":
                headers = bearer("vendor", vendor_id=order["vendor_id"])
            else:
                headers = buyer(order["opd_code"])
            body = {"reason": "anggaran direvisi"} if action == "cancel" else None
            async with gate:
                response = await client.post(
                    f"/orders/{order['order_id']}/{action}", json=body, headers=headers
                )
            assert response.status_code == 200, response.text

    await asyncio.gather(*(move(i, order) for i, order in enumerate(orders)))


async def _copy_back(kafka: str, published: Published, order_ids: list[str]) -> int:
    """Publishes again, unchanged, every record already seen of `order_ids` (a relay that
    re-sent them after a crash): older sequences arrive after newer ones."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    copies = 0
    try:
        for order_id in order_ids:
            for event in published.of(order_id):
                headers = list(published.headers[event.attributes.id].items())
                await producer.send(
                    ORDERS, value=event.value, key=order_id.encode(), headers=headers
                )
                copies += 1
        await producer.flush()
    finally:
        await producer.stop()
    return copies


def dlq_example() -> str:
    """The Python block of docs/integrators.md that follows `<!-- dlq-example -->`."""
    text = (ROOT / "docs" / "integrators.md").read_text()
    block = text.split("<!-- dlq-example -->\n```python\n", 1)[1]
    return block.split("\n```\n", 1)[0] + "\n"


def _moment(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


async def _purchasing_view(client: httpx.AsyncClient, opd: str) -> dict[str, Any]:
    orders: dict[str, tuple[Any, ...]] = {}
    offset = 0
    while True:
        response = await client.get(
            "/orders",
            params={"opd_code": opd, "limit": 500, "offset": offset},
            headers=buyer(opd),
        )
        assert response.status_code == 200, response.text
        page = response.json()
        for o in page["items"]:
            orders[o["order_id"]] = (
                o["status"],
                o["total_idr"],
                o["vendor_id"],
                o["version"],
                *(_moment(o[f"{s}_at"]) for s in ("placed", "accepted", "completed", "cancelled")),
            )
        offset += len(page["items"])
        if offset >= page["total"] or not page["items"]:
            break
    response = await client.get("/budgets", headers=buyer(opd))
    assert response.status_code == 200, response.text
    budgets = {
        b["fiscal_year"]: (b["pagu_idr"], b["committed_idr"], b["remaining_idr"], b["version"])
        for b in response.json()["items"]
    }
    return {"orders": orders, "budgets": budgets}


async def _consumer_view(engine: AsyncEngine, opd: str) -> dict[str, Any]:
    rows = await orders_of(engine, opd)
    orders = {
        order_id: (
            r["status"],
            r["total_idr"],
            r["vendor_id"],
            r["sequence"],
            *(r[f"{s}_at"] for s in ("placed", "accepted", "completed", "cancelled")),
        )
        for order_id, r in rows.items()
    }
    budgets = {
        b["fiscal_year"]: (b["pagu_idr"], b["committed_idr"], b["remaining_idr"], b["version"])
        for b in await budget_status(engine, opd)
    }
    return {"orders": orders, "budgets": budgets}


@pytest.mark.timeout(900)
async def test_the_consumers_tables_equal_purchasing_after_duplicates_and_a_restart(
    infra: Infra,
    new_database: DatabaseFactory,
    purchasing: httpx.AsyncClient,
    published: Published,
    tmp_path: Path,
) -> None:
    catalog = CatalogDouble(infra.kafka, purchasing)
    await catalog.start()
    products = [
        (await catalog.list_product(price_idr=100_000 * (i + 1))).product_id for i in range(3)
    ]
    await catalog.known(*products)
    await catalog.stop()

    database_url = await new_database("opd")
    group = f"test.opd-consumer.{uuid.uuid4().hex[:8]}"
    await _join_at_the_end(infra.kafka, group)
    ours, theirs = new_opd(), new_opd()
    for opd, year in itertools.product((ours, theirs), YEARS):
        response = await purchasing.put(
            f"/budgets/{year}/{opd}",
            json={"opd_name": f"Dinas {opd}", "region_code": opd[:5], "pagu_idr": 10**12},
            headers=admin(opd[:5]),
        )
        assert response.status_code == 200, response.text

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka,
        "OPD_CONSUMER_DATABASE_URL": database_url,
        "OPD_CONSUMER_OPD_CODE": ours,
        "OPD_CONSUMER_GROUP_ID": group,
    }
    process = ConsumerProcess(env, tmp_path / "opd-consumer.log")
    engine = create_async_engine(database_url)
    process.start()
    try:
        half = ORDERS_OF_THE_OPD // 2
        first = await _place_orders(purchasing, ours, products, half)

        async def applied_some() -> bool:
            try:
                return len(await orders_of(engine, ours)) >= half // 4
            except Exception:  # the tables are created when it starts
                return False

        await eventually(applied_some, timeout=90)
        process.kill()  # mid-stream: rows committed, offsets partly not
        other = await _place_orders(purchasing, theirs, products, ORDERS_OF_ANOTHER_OPD)
        second = await _place_orders(purchasing, ours, products, ORDERS_OF_THE_OPD - half)
        process.start()
        await _move(purchasing, first + second + other)
        response = await purchasing.put(
            f"/budgets/{YEAR}/{ours}",
            json={"opd_name": f"Dinas {ours}", "region_code": ours[:5], "pagu_idr": 5 * 10**11},
            headers=admin(ours[:5]),
        )
        assert response.status_code == 200, response.text
        everything = [o["order_id"] for o in first + second + other]
        await published.wait_for(everything[-1], 1)
        copies = await _copy_back(infra.kafka, published, everything[::3])
        assert copies > ORDERS_OF_THE_OPD // 3

        expected = await _purchasing_view(purchasing, ours)
        assert len(expected["orders"]) == ORDERS_OF_THE_OPD
        assert {s for s, *_ in expected["orders"].values()} == {
            "placed",
            "accepted",
            "completed",
            "cancelled",
        }

        # it reads everything on the topics, other OPDs' traffic included; the final
        # comparison shows the difference, should it never catch up
        deadline = asyncio.get_running_loop().time() + 300
        while asyncio.get_running_loop().time() < deadline:
            if await _consumer_view(engine, ours) == expected:
                break
            await asyncio.sleep(2)
        actual = await _consumer_view(engine, ours)
        if actual != expected:
            print(process.tail())
        assert actual == expected
        rows = await orders_of(engine)
        assert set(rows) == set(expected["orders"])  # nothing of the other OPD
        assert all(r["applied"] == r["sequence"] for r in rows.values())  # no gap left

        # a version it cannot read yet goes to the DLQ, where the example of the docs finds it
        poison_key = f"opd-consumer-dlq-{uuid.uuid4()}"
        placed = published.of(first[0]["order_id"])[0]
        poison = placed.value.replace(b'"OrderPlaced.v1"', b'"OrderPlaced.v99"')
        producer = AIOKafkaProducer(bootstrap_servers=infra.kafka, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(ORDERS, value=poison, key=poison_key.encode())
        finally:
            await producer.stop()
        script = tmp_path / "dlq.py"
        script.write_text(dlq_example())
        lines: list[str] = []

        async def dead_lettered() -> bool:
            run = await asyncio.create_subprocess_exec(
                sys.executable, str(script), ORDERS, env=env, stdout=subprocess.PIPE
            )
            output, _ = await run.communicate()
            assert run.returncode == 0
            lines[:] = [
                line
                for line in output.decode().splitlines()
                # other consumers on a shared broker dead-letter it too
                if poison_key in line and " by etalase-opd-consumer: " in line
            ]
            return bool(lines)

        await eventually(dead_lettered, timeout=60, interval=1.0)
        [line] = lines
        assert f"OrderPlaced.v99 {placed.attributes.id}" in line
        assert "by etalase-opd-consumer: UnknownEventType:" in line
        assert line.startswith(f"{ORDERS}[")
    finally:
        process.stop()
        await engine.dispose()
