"""What a run must show, checked against the load generator's ledger: every acknowledged order
counted once by reporting, to the rupiah; one OrderPlaced per order on the orders topic; the
tight pagu never overspent; no 5xx (nor unanswered request) outside the fault windows."""

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from etalase_events.codec import EventDecodeError, decode
from etalase_events.models import OrderPlaced
from etalase_events.topics import ORDERS

from chaos.load import REGION, TIGHT_PAGU_IDR, Ledger, World, headers

CATCH_UP_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Window:
    fault: str
    started: float
    recovered: float | None
    """`time.monotonic()`; None when the system never recovered."""

    @property
    def recovery_s(self) -> float | None:
        return None if self.recovered is None else self.recovered - self.started


@dataclass
class Verdict:
    figures: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


async def counted_orders(reporting: str, world: World) -> dict[str, list[tuple[str, int]]]:
    """Per OPD of the run: the orders reporting counts as placed, (order id, total)."""
    auditor = headers("auditor")
    counted: dict[str, list[tuple[str, int]]] = {}
    async with httpx.AsyncClient(base_url=reporting, timeout=30) as http:
        for opd in [*world.opds, world.tight_opd, world.probe_opd]:
            items: list[tuple[str, int]] = []
            while True:
                response = await http.get(
                    f"/compliance/opd/{world.fiscal_year}/{opd}/orders",
                    params={"limit": 500, "offset": len(items)},
                    headers=auditor,
                )
                response.raise_for_status()
                page = response.json()
                items += [(o["order_id"], int(o["total_idr"])) for o in page["items"]]
                if len(items) >= page["total"] or not page["items"]:
                    break
            counted[opd] = items
    return counted


async def _opd_figures(reporting: str, world: World) -> dict[str, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=reporting, timeout=30) as http:
        response = await http.get(
            "/compliance/opd",
            params={"fiscal_year": world.fiscal_year, "region_code": REGION},
            headers=headers("auditor"),
        )
        response.raise_for_status()
        return {item["opd_code"]: item for item in response.json()["items"]}


def _expected(ledger: Ledger) -> dict[str, dict[str, int]]:
    expected: dict[str, dict[str, int]] = defaultdict(dict)
    for order in ledger.acknowledged.values():
        expected[order.opd_code][order.order_id] = order.total_idr
    return expected


async def wait_counted(reporting: str, world: World, ledger: Ledger) -> float:
    """Until reporting lists every acknowledged order (or the timeout: then they are lost)."""
    started = time.monotonic()
    while time.monotonic() - started < CATCH_UP_TIMEOUT_S:
        try:
            counted = await counted_orders(reporting, world)
        except httpx.HTTPError:
            counted = {}
        listed = {order_id for orders in counted.values() for order_id, _ in orders}
        if set(ledger.acknowledged) <= listed:
            break
        await asyncio.sleep(1.0)
    return time.monotonic() - started


async def order_placed_events(kafka: str) -> dict[str, Counter[str]]:
    """order id → event id → records of it on the orders topic, read from its beginning."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        described = await admin.describe_topics([ORDERS])
    finally:
        await admin.close()
    partitions = [TopicPartition(ORDERS, p["partition"]) for p in described[0]["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False)
    await consumer.start()
    found: dict[str, Counter[str]] = defaultdict(Counter)
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for records in batches.values():
                for record in records:
                    try:
                        decoded = decode(record.value)
                    except EventDecodeError:
                        continue  # not an order event at all: not this check's business
                    if isinstance(decoded.event, OrderPlaced):
                        found[decoded.event.order_id][decoded.attributes.id] += 1
    finally:
        await consumer.stop()
    return found


async def verify(
    *,
    reporting: str,
    purchasing: str,
    kafka: str,
    world: World,
    ledger: Ledger,
    windows: list[Window],
    excused: list[Window],
    grace_s: float,
) -> Verdict:
    """`excused`: the windows of faults during which purchasing may fail requests (its own
    death, its database's); a broker or another service down must not fail an order."""
    verdict = Verdict()
    figures = verdict.figures
    expected = _expected(ledger)
    counted = await counted_orders(reporting, world)
    acknowledged = {oid: opd for opd, orders in expected.items() for oid in orders}
    seen: Counter[str] = Counter(oid for items in counted.values() for oid, _ in items)
    figures["orders acknowledged"] = len(acknowledged)
    figures["orders counted by reporting"] = sum(seen.values())
    lost = sorted(set(acknowledged) - set(seen))
    figures["lost (acknowledged, not counted)"] = len(lost)
    figures["duplicated (counted twice)"] = sum(n - 1 for n in seen.values() if n > 1)
    figures["counted, never acknowledged"] = len(set(seen) - set(acknowledged))
    rupiah_off = 0
    report = await _opd_figures(reporting, world)
    for opd, orders in expected.items():
        placed = report.get(opd, {}).get("placed", {})
        rupiah_off += abs(int(placed.get("total_idr", 0)) - sum(orders.values()))
        rupiah_off += abs(int(placed.get("orders", 0)) - len(orders))
    figures["rupiah difference (reporting vs ledger)"] = rupiah_off
    if lost:
        verdict.failures.append(f"lost orders: {[(o, acknowledged[o]) for o in lost[:5]]}")
    for name in (
        "duplicated (counted twice)",
        "counted, never acknowledged",
        "rupiah difference (reporting vs ledger)",
    ):
        if figures[name]:
            verdict.failures.append(f"{name}: {figures[name]}")

    events = await order_placed_events(kafka)
    not_one = [oid for oid in acknowledged if len(events.get(oid, ())) != 1]
    figures["orders without exactly one OrderPlaced"] = len(not_one)
    figures["OrderPlaced records republished (same event id)"] = sum(
        n - 1 for ids in events.values() for n in ids.values()
    )
    if not_one:
        verdict.failures.append(f"orders without exactly one OrderPlaced: {not_one[:5]}")

    tight_spent = sum(expected.get(world.tight_opd, {}).values())
    async with httpx.AsyncClient(base_url=purchasing, timeout=30) as http:
        budgets = await http.get(
            "/budgets",
            params={"fiscal_year": world.fiscal_year},
            headers=headers("buyer", opd=world.tight_opd, region=REGION),
        )
    committed = int(budgets.json()["items"][0]["committed_idr"])
    figures["tight pagu (Rp)"] = TIGHT_PAGU_IDR
    figures["tight OPD acknowledged spend (Rp)"] = tight_spent
    figures["orders refused 409 pagu_exceeded"] = ledger.refused.get("409 pagu_exceeded", 0)
    if max(tight_spent, committed) > TIGHT_PAGU_IDR:
        verdict.failures.append(f"pagu overspent: {max(tight_spent, committed)} > {TIGHT_PAGU_IDR}")

    def in_window(at: float) -> bool:
        return any(
            w.started <= at <= (w.recovered if w.recovered is not None else at) + grace_s
            for w in excused
        )

    failed = [e for e in ledger.exchanges if e.status >= 500 or e.status == 0]
    outside = [e for e in failed if not in_window(e.at)]
    inside = [e for e in failed if in_window(e.at)]
    figures["5xx or no answer, outside fault windows"] = len(outside)
    figures["503 inside purchasing/database faults (retried)"] = sum(
        e.status == 503 for e in inside
    )
    figures["no answer inside purchasing/database faults (retried)"] = sum(
        e.status == 0 for e in inside
    )
    # an outage is a 503 the client can retry; a 500 says "bug", whenever it comes
    figures["500 answers (any time)"] = sum(e.status == 500 for e in failed)
    figures["other refusals (4xx)"] = sum(
        n for reason, n in ledger.refused.items() if reason != "409 pagu_exceeded"
    )
    figures["orders never answered definitely"] = ledger.unresolved
    if figures["500 answers (any time)"]:
        verdict.failures.append(f"{figures['500 answers (any time)']} answers were 500")
    if outside:
        verdict.failures.append(f"{len(outside)} 5xx or unanswered requests outside the faults")
    if figures["other refusals (4xx)"]:
        verdict.failures.append(f"unexpected refusals: {dict(ledger.refused)}")
    if ledger.unresolved:
        verdict.failures.append(f"{ledger.unresolved} orders never got a definite answer")
    for window in windows:
        if window.recovered is None:
            verdict.failures.append(f"{window.fault}: never recovered")
    return verdict
