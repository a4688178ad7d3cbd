"""The reference OPD consumer's handlers, on FastStream's in-memory broker (`TestKafkaBroker`)
and a real PostgreSQL: duplicates, every arrival order, other OPDs, unknown events, the DLQ,
and records with the old (`ce_type`) and new (`event-type`) headers."""

import itertools
import json
from typing import Any

import pytest
from etalase_events.codec import KafkaRecord
from etalase_events.topics import BUDGETS, ORDERS, dlq
from etalase_opd_consumer.__main__ import main
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from tests.integrations.conftest import Harness
from tests.integrations.support import OrderHistory, budget, budget_status, opd, orders_of

pytestmark = pytest.mark.infra


def _final_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "order_id"}


async def _play(consumer: Harness, records: list[KafkaRecord]) -> None:
    for record in records:
        await consumer.deliver(record)


async def test_an_order_and_the_budget_give_status_and_remaining_pagu(consumer: Harness) -> None:
    completed = OrderHistory(consumer.opd_code, total_idr=3_000_000).place().accept().complete()
    cancelled = OrderHistory(consumer.opd_code, total_idr=900_000).place().accept().cancel()
    placed = OrderHistory(consumer.opd_code, total_idr=600_000).place()
    await consumer.deliver(budget(consumer.opd_code, 10_000_000, 1))
    await _play(consumer, completed.records + cancelled.records + placed.records)

    rows = await orders_of(consumer.engine, consumer.opd_code)
    assert {k: (r["status"], r["sequence"], r["applied"]) for k, r in rows.items()} == {
        completed.order_id: ("completed", 3, 3),
        cancelled.order_id: ("cancelled", 3, 3),
        placed.order_id: ("placed", 1, 1),
    }
    assert rows[cancelled.order_id]["cancel_reason"] == "anggaran direvisi"
    assert rows[completed.order_id]["accepted_at"] is not None
    [status] = await budget_status(consumer.engine, consumer.opd_code)
    # cancelled spend is released; completed and placed spend is committed
    assert (status["pagu_idr"], status["committed_idr"], status["remaining_idr"]) == (
        10_000_000,
        3_600_000,
        6_400_000,
    )


@pytest.mark.parametrize("ending", ["complete", "cancel"])
async def test_every_arrival_order_with_duplicates_gives_the_same_row(
    consumer: Harness, ending: str
) -> None:
    reference = OrderHistory(consumer.opd_code).place().accept()
    getattr(reference, ending)()
    await _play(consumer, reference.records)
    expected = _final_row((await orders_of(consumer.engine))[reference.order_id])

    for permutation in itertools.permutations(range(3)):
        history = OrderHistory(consumer.opd_code).place().accept()
        getattr(history, ending)()
        # each event twice, the copy after the next one: a relay that re-sent a batch
        arrivals = [history.records[i] for i in permutation]
        await _play(consumer, [arrivals[0], arrivals[1], arrivals[0], arrivals[2], arrivals[1]])
        row = (await orders_of(consumer.engine))[history.order_id]
        assert _final_row(row) == expected, permutation


async def test_a_gap_shows_until_the_missing_event_arrives(consumer: Harness) -> None:
    history = OrderHistory(consumer.opd_code).place().accept().complete()
    placed, accepted, completed = history.records
    await _play(consumer, [placed, completed])
    row = (await orders_of(consumer.engine))[history.order_id]
    assert (row["status"], row["sequence"], row["applied"], row["accepted_at"]) == (
        "completed",
        3,
        2,
        None,
    )
    await consumer.deliver(accepted)  # late: fills the gap, does not roll the status back
    row = (await orders_of(consumer.engine))[history.order_id]
    assert (row["status"], row["sequence"], row["applied"]) == ("completed", 3, 3)
    assert row["accepted_at"] is not None


async def test_a_cancellation_that_arrives_before_its_order_never_counts(consumer: Harness) -> None:
    await consumer.deliver(budget(consumer.opd_code, 5_000_000, 1))
    history = OrderHistory(consumer.opd_code).place().cancel()
    placed, cancelled = history.records
    await consumer.deliver(cancelled)
    assert await orders_of(consumer.engine, consumer.opd_code) == {}  # no OPD known yet
    await consumer.deliver(placed)
    row = (await orders_of(consumer.engine, consumer.opd_code))[history.order_id]
    assert (row["status"], row["sequence"], row["applied"]) == ("cancelled", 2, 2)
    [status] = await budget_status(consumer.engine, consumer.opd_code)
    assert status["remaining_idr"] == 5_000_000


async def test_other_opds_orders_and_budgets_leave_no_trace(consumer: Harness) -> None:
    other = opd()
    early = OrderHistory(other).place().accept().complete()
    # a follow-up that arrives before its OrderPlaced is kept only until that says whose it is
    await consumer.deliver(early.records[1])
    await _play(consumer, [early.records[0], early.records[2]])
    await _play(consumer, OrderHistory(other).place().cancel().records)
    await consumer.deliver(budget(other, 7_000_000, 1))

    assert await orders_of(consumer.engine) == {}
    assert await budget_status(consumer.engine, other) == []


async def test_a_fiscal_year_setting_keeps_that_year_only(consumer_2025: Harness) -> None:
    consumer = consumer_2025
    kept = OrderHistory(consumer.opd_code, fiscal_year=2025).place()
    skipped = OrderHistory(consumer.opd_code, fiscal_year=2026).place().accept()
    await _play(consumer, kept.records + skipped.records)
    await consumer.deliver(budget(consumer.opd_code, 1_000_000, 1, year=2026))
    assert set(await orders_of(consumer.engine)) == {kept.order_id}
    assert await budget_status(consumer.engine, consumer.opd_code) == []


async def test_the_newest_allocation_wins_in_any_arrival_order(consumer: Harness) -> None:
    first, second, third = (budget(consumer.opd_code, p, s) for s, p in ((1, 10), (2, 30), (3, 20)))
    await _play(consumer, [first, third, second, first])
    [status] = await budget_status(consumer.engine, consumer.opd_code)
    assert (status["pagu_idr"], status["version"]) == (20, 3)


def _with_type(record: KafkaRecord, event_type: str) -> bytes:
    envelope = json.loads(record.value)
    envelope["type"] = event_type
    return json.dumps(envelope).encode()


async def test_unknown_events_are_ignored_and_undecodable_ones_dead_lettered(
    consumer: Harness,
) -> None:
    dead: list[tuple[bytes, dict[str, str]]] = []
    broker: KafkaBroker = consumer.broker

    @broker.subscriber(dlq(ORDERS))
    async def collect(message: KafkaMessage) -> None:
        dead.append((message.body, message.headers))

    await broker.start()  # subscribers added after the start are started by hand
    placed = OrderHistory(consumer.opd_code).place().records[0]
    new_kind = _with_type(placed, "OrderDisputed.v1")
    newer_version = _with_type(placed, "OrderPlaced.v9")
    junk = b'{"specversion": "1.0", "type": "OrderPlaced.v1"'
    # a new kind of event is not this consumer's business, with or without the header
    await broker.publish(new_kind, topic=ORDERS, key=placed.key)
    await broker.publish(b"not even json", topic=ORDERS, headers={"event-type": "OrderDisputed.v1"})
    # a version it cannot read yet of an event it keeps, and junk, go to the DLQ
    await broker.publish(newer_version, topic=ORDERS, key=placed.key, headers={"traceparent": "x"})
    await broker.publish(junk, topic=ORDERS, key=b"k", headers={"ce_type": "OrderPlaced.v1"})

    assert await orders_of(consumer.engine) == {}
    assert [body for body, _ in dead] == [newer_version, junk]
    reasons = [headers["dlq_reason"].split(":")[0] for _, headers in dead]
    assert reasons == ["UnknownEventType", "MalformedRecord"]
    for _, headers in dead:
        assert headers["dlq_consumer"] == "etalase-opd-consumer"
        assert headers["dlq_original_topic"] == ORDERS
        assert {"dlq_original_partition", "dlq_original_offset"} <= set(headers)
        assert not [name for name in headers if name.startswith("ce_")]
    assert dead[0][1]["traceparent"] == "x"


async def test_records_decode_from_the_body_with_old_new_or_no_headers(consumer: Harness) -> None:
    history = OrderHistory(consumer.opd_code).place().accept().complete()
    placed, accepted, completed = history.records
    await consumer.deliver(placed, headers={"ce_type": "OrderPlaced.v1"})  # written before
    await consumer.deliver(accepted, headers={"event-type": "OrderAccepted.v1"})
    await consumer.deliver(completed, headers={})
    await consumer.deliver(budget(consumer.opd_code, 9_000_000, 1), headers={})
    row = (await orders_of(consumer.engine))[history.order_id]
    assert (row["status"], row["applied"]) == ("completed", 3)
    assert [
        s["remaining_idr"] for s in await budget_status(consumer.engine, consumer.opd_code)
    ] == [9_000_000 - history.total_idr]


def test_the_asyncapi_document_comes_from_faststream_and_names_both_topics(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["asyncapi"])
    document = json.loads(capsys.readouterr().out)
    assert document["asyncapi"].startswith("3.")
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {ORDERS, BUDGETS, dlq(ORDERS), dlq(BUDGETS)}
    actions = {name: op["action"] for name, op in document["operations"].items()}
    assert actions == {
        f"{ORDERS}:subscribe": "receive",
        f"{BUDGETS}:subscribe": "receive",
        f"{dlq(ORDERS)}:publish": "send",
        f"{dlq(BUDGETS)}:publish": "send",
    }
    payload = document["components"]["schemas"][f"{ORDERS}:subscribe:Message:Payload"]
    types = {variant["properties"]["type"]["const"] for variant in payload["oneOf"]}
    assert types == {"OrderPlaced.v1", "OrderAccepted.v1", "OrderCompleted.v1", "OrderCancelled.v1"}
