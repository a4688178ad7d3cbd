"""From fetched records to a batch: deliveries (each in its trace, if it has one), the records
that cannot be decoded, and the next offset of each partition.

Per record only what the batch needs is done: decoding, and a span for the records that carry a
trace context. The next offsets come from the last record of each partition, as fetched."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from etalase_events.codec import DecodedEvent, EventDecodeError, decode
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanKind

from etalase_platform.delivery import Delivery
from etalase_platform.offsets import Partition
from etalase_platform.telemetry import LeanSpan, span_context_from_traceparent

SPANS = "etalase.consumer"
"""The instrumentation scope of a consumer's spans."""
_SCOPE = InstrumentationScope(SPANS)


@dataclass(frozen=True)
class Poison:
    """A record to dead-letter, and why."""

    record: ConsumerRecord[bytes, bytes]
    reason: str


@dataclass
class Batch:
    """Records as fetched, decoded."""

    records: list[ConsumerRecord[Any, Any]]
    deliveries: list[Delivery]
    poison: list[Poison]
    traced: list[Delivery]
    """The deliveries that have a span of their own (their record carried a trace context)."""
    next_offsets: dict[Partition, int]

    def end_spans(self) -> None:
        for delivery in self.traced:
            delivery.span.end()


def next_offsets(
    polled: Mapping[TopicPartition, Sequence[ConsumerRecord[Any, Any]]],
) -> dict[Partition, int]:
    """Kafka returns each partition's records in offset order: the last one says it."""
    return {(tp.topic, tp.partition): rs[-1].offset + 1 for tp, rs in polled.items() if rs}


class Decoder:
    def __init__(self, group_id: str) -> None:
        self._group_id = group_id

    def decode_into(self, batch: Batch, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        deliveries, poison, traced = batch.deliveries, batch.poison, batch.traced
        for record in records:
            headers = record.headers or ()
            try:
                decoded = decode(record.value, headers)
            except EventDecodeError as error:
                poison.append(Poison(record, f"{type(error).__name__}: {error}"))
                continue
            span = self._span(record, headers, decoded)
            if span is None:
                delivery = Delivery(record, decoded)
            else:
                delivery = Delivery(record, decoded, span)
                traced.append(delivery)
            deliveries.append(delivery)

    def _span(
        self,
        record: ConsumerRecord[Any, Any],
        headers: Sequence[tuple[str, bytes]],
        decoded: DecodedEvent,
    ) -> LeanSpan | None:
        """The span of the record's processing, in the trace of the request that caused it.

        A record without a trace context (a batch import, a bench), or with a `traceparent` the
        W3C propagator would not take, gets none: a new trace per record would cost more than
        projecting it and follow nothing; the batch's `apply` span still covers its SQL. A
        LeanSpan, not the SDK's: in a rebuild from a log whose records all carry one, the SDK's
        span was a quarter of the consumer's CPU (py-spy)."""
        traceparent = tracestate = None
        for name, value in headers:
            # a header may have no value (None): as good as absent
            if name == "traceparent" and isinstance(value, bytes):
                traceparent = value.decode("latin-1")
            elif name == "tracestate" and isinstance(value, bytes):
                tracestate = value.decode("latin-1")
        parent = (
            None if traceparent is None else span_context_from_traceparent(traceparent, tracestate)
        )
        if parent is None:
            return None
        return LeanSpan(
            parent,
            f"{record.topic} process",
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": record.topic,
                "messaging.consumer.group.name": self._group_id,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.offset": record.offset,
                "messaging.message.id": decoded.attributes.id,
                "cloudevents.event_type": decoded.attributes.type,
            },
            scope=_SCOPE,
        )
