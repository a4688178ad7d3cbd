"""The FastStream application: two subscribers, one per purchasing topic, and the DLQs.

A record is decoded from its value with `etalase_events.codec` (never from headers, so records
written before and after the `event-type` header both read the same), applied in one database
transaction, and only then acknowledged: FastStream commits the offset after the handler returns
(`AckPolicy.NACK_ON_ERROR`), and seeks back to the record when the handler raises, so a crash or a
database outage redelivers instead of losing. Redelivery is harmless: see `store`.
"""

import asyncio
import json
import logging
from typing import Annotated, Any

from etalase_events.codec import DecodedEvent, EventDecodeError, UnknownEventType, decode
from etalase_events.models import (
    BudgetAllocated,
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
from faststream.message import StreamMessage
from faststream.specification import AsyncAPI
from pydantic import WithJsonSchema
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from etalase_opd_consumer import store
from etalase_opd_consumer.settings import Settings

log = logging.getLogger("etalase_opd_consumer")

CONSUMER_NAME = "etalase-opd-consumer"
RETRY_DELAY_S = 1.0
"""Pause before a record whose transaction failed is delivered again."""

ORDER_EVENTS = (OrderPlaced, OrderAccepted, OrderCompleted, OrderCancelled)
HANDLED_NAMES = frozenset(model.event_name for model in (*ORDER_EVENTS, BudgetAllocated))


def _value(*models: type[Any]) -> Any:
    """The record value as bytes (decoded by `etalase_events.codec`, not FastStream), documented
    in the AsyncAPI document as the envelopes of `models`."""
    variants = [_inlined(event_json_schema(m)) for m in models]
    return Annotated[bytes | None, WithJsonSchema({"title": "CloudEvent", "oneOf": variants})]


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


OrdersValue = _value(*ORDER_EVENTS)
BudgetsValue = _value(BudgetAllocated)


async def _raw_value(message: StreamMessage[Any]) -> Any:
    """Hands the handler the record's bytes whatever its content-type says."""
    return message.body or None


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

    async def handle(self, value: bytes | None, message: StreamMessage[Any]) -> str:
        """Applies one record; returns what became of it (for logs and tests)."""
        record = message.raw_message
        headers = [(k, v) for k, v in (record.headers or ())]
        name = _event_name(dict(headers).get("event-type"))
        if name is not None and name not in HANDLED_NAMES:
            return "ignored"  # a new kind of event: not this consumer's business
        try:
            decoded = decode(value, headers)
        except UnknownEventType as error:
            if _event_name(_body_type(value)) not in HANDLED_NAMES:
                return "ignored"
            # a newer version of an event we keep: park it until the library can read it
            await self._dead_letter(record, value, f"{type(error).__name__}: {error}")
            return "dead_lettered"
        except EventDecodeError as error:
            await self._dead_letter(record, value, f"{type(error).__name__}: {error}")
            return "dead_lettered"
        try:
            return await self._apply(decoded)
        except (OperationalError, InterfaceError, DBAPIError, OSError) as error:
            log.warning("database unavailable, %s will be redelivered: %s", decoded.attributes.id, error)
            await asyncio.sleep(RETRY_DELAY_S)
            raise

    async def _apply(self, decoded: DecodedEvent) -> str:
        event, attributes = decoded.event, decoded.attributes
        async with self.engine.begin() as connection:
            if isinstance(event, ORDER_EVENTS):
                outcome = await store.apply_order_event(
                    connection, self.scope, event_id=attributes.id, sequence=attributes.sequence, event=event
                )
            elif isinstance(event, BudgetAllocated):
                outcome = await store.apply_budget_event(
                    connection, self.scope, event_id=attributes.id, sequence=attributes.sequence, event=event
                )
            else:
                return "ignored"
        return outcome.value

    async def _dead_letter(self, record: Any, value: bytes | None, reason: str) -> None:
        log.error("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason)
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
        await self._dlq[record.topic].publish(value, key=record.key, headers=headers)


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
    broker = KafkaBroker(settings.kafka_bootstrap_servers, client_id=CONSUMER_NAME)
    consumer = OpdConsumer(settings, broker)
    options: dict[str, Any] = {
        "group_id": settings.group,
        "auto_offset_reset": settings.start_from,
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "decoder": _raw_value,
    }

    @broker.subscriber(
        ORDERS,
        title=f"{ORDERS}:subscribe",
        description=f"Orders of the OPD: placed, accepted, completed, cancelled.",
        **options,
    )
    async def on_order(value: OrdersValue, message: KafkaMessage) -> None:
        outcome = await consumer.handle(value, message)
        log.debug("%s@%s: %s", ORDERS, message.raw_message.offset, outcome)

    @broker.subscriber(
        BUDGETS,
        title=f"{BUDGETS}:subscribe",
        description="The OPD's pagu per fiscal year; a later allocation replaces the earlier.",
        **options,
    )
    async def on_budget(value: BudgetsValue, message: KafkaMessage) -> None:
        outcome = await consumer.handle(value, message)
        log.debug("%s@%s: %s", BUDGETS, message.raw_message.offset, outcome)

    specification = AsyncAPI(
        broker,
        title="Etalase reference OPD consumer",
        version="0.1.0",
        description=(
            f"Keeps the orders and remaining pagu of one OPD ({settings.opd_code}) from"
            " Etalase's purchasing events."
        ),
    )
    app = FastStream(
        broker, on_startup=[consumer.start], after_shutdown=[consumer.stop], specification=specification
    )
    app.context.set_global("opd_consumer", consumer)
    return app
