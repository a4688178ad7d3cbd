"""Outbox relay throughput: the platform's `OutboxRelay` publishing pre-written outbox rows, next
to a raw aiokafka producer sending the same records with the same settings (acks=all).

Both send OrderPlaced envelopes of the sample's size, with a fresh order id per record so that
keys spread over partitions and buckets as they do in production.

`python -m bench.relay --a OUTBOX_PY [--events N] [--rounds R]` compares another build's relay
(A: its outbox.py, e.g. `git show main:libs/platform/src/etalase_platform/outbox.py`) with the
working tree's (B) in turns, each round next to the raw producer, for traced and untraced rows:
on a shared machine only figures of one round compare. Needs the environment of `python -m bench`.
"""

import argparse
import asyncio
import importlib.util
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from etalase_events.codec import encode, kafka_headers
from etalase_events.envelope import new_envelope
from etalase_events.samples import ORDER_ID, SAMPLES
from etalase_platform.db import create_engine, upgrade_to_head
from etalase_platform.outbox import OutboxRelay, bucket_of, kafka_producer
from etalase_platform.telemetry import setup_tracing

from bench.environment import Infra, libpq_url

MIGRATIONS = Path(__file__).parent / "migrations"
EVENT_TYPE = "OrderPlaced.v1"
# a request's trace context, as rows written by a traced request carry one
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
RAW_IN_FLIGHT = 10_000


@dataclass(frozen=True)
class Record:
    event_id: str
    key: str
    payload: str


class RecordFactory:
    """Envelopes of one template with fresh ids; building each through pydantic would make
    preparing a million rows slower than publishing them."""

    def __init__(self) -> None:
        envelope = new_envelope(SAMPLES[EVENT_TYPE], source="bench", subject=ORDER_ID, sequence=1)
        self._template = encode(envelope).value.decode()
        self._envelope_id = envelope.id

    def make(self) -> Record:
        event_id, order_id = str(uuid.uuid4()), str(uuid.uuid4())
        payload = self._template.replace(self._envelope_id, event_id).replace(ORDER_ID, order_id)
        return Record(event_id, order_id, payload)

    @property
    def size(self) -> int:
        return len(self._template.encode())


async def _write_outbox(url: str, topic: str, records: list[Record], *, traced: bool) -> None:
    traceparent = TRACEPARENT if traced else None
    connection = await asyncpg.connect(libpq_url(url))
    try:
        await connection.copy_records_to_table(
            "outbox",
            columns=[
                "event_id",
                "topic",
                "message_key",
                "bucket",
                "sequence",
                "event_type",
                "payload",
                "traceparent",
            ],
            records=[
                (r.event_id, topic, r.key, bucket_of(r.key), 1, EVENT_TYPE, r.payload, traceparent)
                for r in records
            ],
        )
        await connection.execute("ANALYZE outbox")
    finally:
        await connection.close()


@dataclass(frozen=True)
class Rate:
    per_s: float
    cpu_us_per_event: float
    """CPU this process spent per event: unlike the rate, barely moved by other load."""


def _rate(events: int, elapsed_s: float, cpu_s: float) -> Rate:
    return Rate(events / elapsed_s, cpu_s / events * 1e6)


async def relay_rate(
    infra: Infra,
    records: list[Record],
    *,
    traced: bool = True,
    relay_class: type[OutboxRelay] = OutboxRelay,
) -> Rate:
    """Events/s from unpublished outbox rows to Kafka acks, through one relay as a service runs it
    (tracing set up as in the services, default batch size).

    `traced` rows carry a sampled request's `traceparent`, as every row a service writes while
    handling a request does (the services sample every trace), so each gets a producer span; the
    others carry none, as rows written outside any trace."""
    # one database per measurement: a run measures traced and untraced rows
    url = await infra.new_database(f"relay_{uuid.uuid4().hex[:8]}")
    await upgrade_to_head(MIGRATIONS, url)
    topic = await infra.new_topic("relay")
    await _write_outbox(url, topic, records, traced=traced)
    setup_tracing("bench-relay", otlp_endpoint=None, trace_file=None)
    engine = create_engine(url)
    producer = kafka_producer(infra.kafka, "bench-relay")
    await producer.start()
    try:
        relay = relay_class(engine, producer, service="bench")
        started, cpu = time.perf_counter(), time.process_time()
        published = 0
        while published < len(records):
            published += await relay.publish_batch()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        await producer.stop()
        await engine.dispose()
        await infra.delete_topics([topic])
    return _rate(len(records), elapsed, cpu)


async def raw_rate(infra: Infra, records: list[Record]) -> Rate:
    """Events/s of aiokafka alone: the same records, producer settings and headers, pipelined."""
    topic = await infra.new_topic("raw-producer")
    producer = kafka_producer(infra.kafka, "bench-raw")
    await producer.start()
    headers = kafka_headers(EVENT_TYPE, traceparent=TRACEPARENT)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        pending = []
        for record in records:
            pending.append(
                await producer.send(
                    topic, value=record.payload.encode(), key=record.key.encode(), headers=headers
                )
            )
            if len(pending) >= RAW_IN_FLIGHT:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        await producer.stop()
        await infra.delete_topics([topic])
    return _rate(len(records), elapsed, cpu)


async def measure(infra: Infra, events: int) -> dict[str, float]:
    factory = RecordFactory()
    records = [factory.make() for _ in range(events)]
    raw = await raw_rate(infra, records)
    relay = await relay_rate(infra, records)
    untraced = await relay_rate(infra, records, traced=False)
    return {
        "events": events,
        "message_bytes": factory.size,
        "raw_per_s": raw.per_s,
        "relay_per_s": relay.per_s,
        "ratio": relay.per_s / raw.per_s,
        "raw_cpu_us_per_event": raw.cpu_us_per_event,
        "relay_cpu_us_per_event": relay.cpu_us_per_event,
        "untraced_relay_per_s": untraced.per_s,
        "untraced_ratio": untraced.per_s / raw.per_s,
        "untraced_relay_cpu_us_per_event": untraced.cpu_us_per_event,
    }


def _relay_class(outbox_py: str) -> type[OutboxRelay]:
    spec = importlib.util.spec_from_file_location("bench_relay_a", outbox_py)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    relay_class: type[OutboxRelay] = module.OutboxRelay
    return relay_class


async def compare(infra: Infra, events: int, rounds: int, a: type[OutboxRelay]) -> None:
    factory = RecordFactory()
    records = [factory.make() for _ in range(events)]
    for round_ in range(rounds):
        raw = await raw_rate(infra, records)
        figures = {"round": round_, "raw_per_s": raw.per_s, "raw_cpu_us": raw.cpu_us_per_event}
        for rows in ("traced", "untraced"):
            for label, relay_class in (("a", a), ("b", OutboxRelay)):
                rate = await relay_rate(
                    infra, records, traced=rows == "traced", relay_class=relay_class
                )
                figures[f"{label}_{rows}_ratio"] = round(rate.per_s / raw.per_s, 2)
                figures[f"{label}_{rows}_cpu_us"] = round(rate.cpu_us_per_event, 1)
        figures["load_average"] = os.getloadavg()[0]
        print(json.dumps(figures), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--a", required=True, help="outbox.py of the relay to compare with")
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    infra = Infra.from_environment()

    async def run() -> None:
        try:
            await compare(infra, args.events, args.rounds, _relay_class(args.a))
        finally:
            await infra.drop_databases()

    asyncio.run(run())


if __name__ == "__main__":
    main()
