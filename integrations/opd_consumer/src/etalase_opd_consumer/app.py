"""The FastStream application: two subscribers, one per purchasing topic, and the DLQs.

Records come in batches. Each is decoded from its value with `etalase_events.codec` (never from
headers alone, so records written before and after the `event-type` header read the same); a
batch is applied in one database transaction and only then acknowledged: FastStream commits the
offsets after the handler returns (`AckPolicy.NACK_ON_ERROR`) and seeks back to the batch's first
records when it raises, so a crash or a database outage redelivers instead of losing.
Redelivery is harmless: see `store`.
"""

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Annotated, Any

from aiokafka import ConsumerRecord
from etalase_events.codec import DecodedEvent, EventDecodeError, UnknownEventType, decode
from etalase_events.models import (
    BudgetAllocated,
    Event,
    OrderAccepted,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
)
from etalase_events.schemas import event_json_schema
from etalase_events.topics import BUDGETS, ORDERS, dlq
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.publisher.usecase import DefaultPublisher
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.message import StreamMessage
from faststream.specification import AsyncAPI
from pydantic import WithJsonSchema
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from etalase_opd_consumer import store
from etalase_opd_consumer.settings import Settings

log = logging.getLogger("etalase_opd_consumer")

CONSUMER_NAME = "etalase-opd-consumer"
BATCH_RECORDS = 500
"""At most this many records per transaction (and per offset commit)."""
RETRY_DELAY_S = 1.0
"""Pause before a record whose transaction failed is delivered again."""

ORDER_EVENTS = (OrderPlaced, OrderAccepted, OrderCompleted, OrderCancelled)
HANDLED_NAMES = frozenset(model.event_name for model in (*ORDER_EVENTS, BudgetAllocated))


def _record_schema(*models: type[Event]) -> WithJsonSchema:
    """The AsyncAPI payload: the envelopes of `models`. The handler itself takes the record
    values as bytes, decoded by `etalase_events.codec`, not by FastStream; it receives them in
    batches, but the schema that matters to a producer is the one of a record."""
    variants = [_inlined(event_json_schema(m)) for m in models]
    return WithJsonSchema({"title": "CloudEvent", "oneOf": variants})


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its local `$ref`s replaced by their definitions (FastStream collects
    payload schemas under its own components and cannot follow a nested `$defs`)."""
    definitions = schema.pop("$defs", {})
    schema.pop("$schema", None)

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"$ref"} and node["$ref"].startswith("#/$defs/"):
                return resolve(definitions[node["$ref"].removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


OrdersValue = Annotated[list[bytes | None], _record_schema(*ORDER_EVENTS)]
BudgetsValue = Annotated[list[bytes | None], _record_schema(BudgetAllocated)]


async def _raw_values(message: StreamMessage[Any]) -> Any:
    """The records' bytes, whatever their content-type says (decoding is `codec`'s job)."""
    return [record.value for record in message.raw_message]


class OpdConsumer:
    """What the subscribers share: settings, the database and the dead-letter publishers."""

    def __init__(self, settings: Settings, broker: KafkaBroker) -> None:
        self.settings = settings
        self.scope = store.Scope(settings.opd_code, settings.fiscal_year)
        self._engine: AsyncEngine | None = None
        self._dlq: dict[str, DefaultPublisher] = {
            topic: broker.publisher(
                dlq(topic),
                title=f"{dlq(topic)}:publish",
                description="Records this consumer cannot decode, unchanged, with dlq_* headers.",
                schema=bytes,
            )
            for topic in (ORDERS, BUDGETS)
        }

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("the consumer has not started")
        return self._engine

    async def start(self) -> None:
        self._engine = create_async_engine(self.settings.database_url, pool_size=2, max_overflow=2)
        await store.create_tables(self._engine)

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def handle(self, records: Sequence[ConsumerRecord[Any, Any]]) -> list[str]:
        """Applies a batch of records in one transaction; returns what became of each."""
        outcomes: list[str] = []
        events: list[tuple[int, DecodedEvent]] = []
        for record in records:
            decoded = await self._decode(record)
            if isinstance(decoded, str):
                outcomes.append(decoded)
            else:
                events.append((len(outcomes), decoded))
                outcomes.append("")
        if not events:
            return outcomes
        try:
            async with self.engine.begin() as connection:
                for index, decoded in events:
                    outcomes[index] = await self._apply(connection, decoded)
        except (OperationalError, InterfaceError, DBAPIError, OSError) as error:
            log.warning("database unavailable, the batch will be redelivered: %s", error)
            await asyncio.sleep(RETRY_DELAY_S)
            raise
        return outcomes

    async def _decode(self, record: ConsumerRecord[Any, Any]) -> DecodedEvent | str:
        """The event, or what became of a record that carries none to apply."""
        headers = list(record.headers or ())
        routing = dict(headers).get("event-type")
        name = _event_name(routing.decode(errors="replace") if routing is not None else None)
        if name is not None and name not in HANDLED_NAMES:
            return "ignored"  # a new kind of event, named before parsing: not ours to keep
        try:
            return decode(record.value, headers)
        except UnknownEventType as error:
            if _event_name(_body_type(record.value)) not in HANDLED_NAMES:
                return "ignored"
            # a version of an event we keep that this library cannot read yet: park it
            await self._dead_letter(record, f"{type(error).__name__}: {error}")
        except EventDecodeError as error:
            await self._dead_letter(record, f"{type(error).__name__}: {error}")
        return "dead_lettered"

    async def _apply(self, connection: AsyncConnection, decoded: DecodedEvent) -> str:
        event, attributes = decoded.event, decoded.attributes
        event_id, sequence = attributes.id, attributes.sequence
        if isinstance(event, ORDER_EVENTS):
            outcome = await store.apply_order_event(
                connection, self.scope, event_id=event_id, sequence=sequence, event=event
            )
        elif isinstance(event, BudgetAllocated):
            outcome = await store.apply_budget_event(
                connection, self.scope, event_id=event_id, sequence=sequence, event=event
            )
        else:
            return "ignored"
        return outcome.value

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], reason: str) -> None:
        log.error(
            "dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason
        )
        headers = {
            k: v.decode(errors="replace")
            for k, v in (record.headers or ())
            if not k.startswith("ce_")  # ce_* would make the copy read as binary mode
        }
        headers |= {
            "dlq_reason": reason[:1000],
            "dlq_consumer": CONSUMER_NAME,
            "dlq_original_topic": record.topic,
            "dlq_original_partition": str(record.partition),
            "dlq_original_offset": str(record.offset),
        }
        await self._dlq[record.topic].publish(record.value, key=record.key, headers=headers)


def _event_name(event_type: str | None) -> str | None:
    """`OrderPlaced` of `OrderPlaced.v1`."""
    return None if event_type is None else event_type.rsplit(".v", 1)[0]


def _body_type(value: bytes | None) -> str | None:
    try:
        envelope = json.loads(value or b"")
    except ValueError:
        return None
    event_type = envelope.get("type") if isinstance(envelope, dict) else None
    return event_type if isinstance(event_type, str) else None


def create_app(settings: Settings) -> FastStream:
    # per-record "Received/Processed" lines at DEBUG: a busy topic would flood the log
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers, client_id=CONSUMER_NAME, log_level=logging.DEBUG
    )
    consumer = OpdConsumer(settings, broker)

    def subscriber(topic: str, description: str) -> BatchSubscriber:
        return broker.subscriber(
            topic,
            group_id=settings.group,
            auto_offset_reset=settings.start_from,
            # commit after the handler's transaction; on an exception seek back and redeliver
            ack_policy=AckPolicy.NACK_ON_ERROR,
            batch=True,
            max_records=BATCH_RECORDS,
            decoder=_raw_values,
            title=f"{topic}:subscribe",
            description=description,
        )

    @subscriber(ORDERS, _ORDERS_DOC)
    async def on_orders(values: OrdersValue, message: KafkaMessage) -> None:
        _log_outcomes(ORDERS, await consumer.handle(message.raw_message))

    @subscriber(BUDGETS, _BUDGETS_DOC)
    async def on_budgets(values: BudgetsValue, message: KafkaMessage) -> None:
        _log_outcomes(BUDGETS, await consumer.handle(message.raw_message))

    specification = AsyncAPI(
        broker,
        title="Etalase reference OPD consumer",
        version="0.1.0",
        description=(
            f"Keeps the orders and remaining pagu of one OPD ({settings.opd_code}) from"
            " Etalase's purchasing events. Records are CloudEvents 1.0 in structured JSON mode"
            " (content-type application/cloudevents+json); payloads below are their values."
        ),
    )
    app = FastStream(
        broker,
        on_startup=[consumer.start],
        after_shutdown=[consumer.stop],
        specification=specification,
    )
    app.context.set_global("opd_consumer", consumer)
    return app


_ORDERS_DOC = (
    "Every order event; those of orders placed by the configured OPD are kept. Keyed by"
    " order_id, so one order's events are in order on one partition."
)
_BUDGETS_DOC = (
    "Budget allocations (pagu) keyed by <fiscal_year>:<opd_code>; the newest sequence of the"
    " configured OPD's key is kept."
)


def _log_outcomes(topic: str, outcomes: list[str]) -> None:
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%s: %s", topic, {o: outcomes.count(o) for o in set(outcomes)})
