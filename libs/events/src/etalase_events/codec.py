"""Kafka records from envelopes and back: the only place events are turned into bytes.

A record's value is the envelope in structured JSON mode; its key is the envelope's subject. Its
headers are `content-type`, `event-type` (the envelope's `type`, to route before parsing) and the
W3C trace context. No header starts with `ce_`: in the CloudEvents Kafka binding any `ce_*` header
means binary mode, and the SDKs would then ignore the structured value and reject the record.
Records written before that rule carry `ce_type`; decoding reads only the value, so they decode.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter, ValidationError, create_model

from etalase_events import lean
from etalase_events.envelope import CloudEvent, CloudEventAttributes, new_envelope
from etalase_events.envelope import DecodedEvent as DecodedEvent  # where it was declared before
from etalase_events.models import EVENT_TYPES, Event
from etalase_events.upcasting import upcast

CONTENT_TYPE = "application/cloudevents+json"
EVENT_TYPE_HEADER = "event-type"
BINARY_MODE_PREFIX = "ce_"
"""Headers the CloudEvents Kafka binding reads as binary-mode attributes: never written."""


@dataclass(frozen=True)
class KafkaRecord:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class EventDecodeError(Exception):
    """A record that can never be decoded; the message says why, naming fields."""

    reason: str = "undecodable"
    """Short, machine-friendly kind of failure."""


class MalformedRecord(EventDecodeError):
    """Not JSON, or not a CloudEvents envelope."""

    reason = "malformed_record"


class UnknownEventType(EventDecodeError):
    """An event type that neither is current nor can be upcast to a current one."""

    reason = "unknown_event_type"


class InvalidEventData(EventDecodeError):
    """The envelope is fine but its data does not fit the event's model."""

    reason = "invalid_event_data"


def encode(
    envelope: CloudEvent, *, traceparent: str | None = None, tracestate: str | None = None
) -> KafkaRecord:
    """The record for `envelope`, on its event type's topic.

    Raises UnknownEventType when the envelope's type is not a current event type.
    """
    model = EVENT_TYPES.get(envelope.type)
    if model is None:
        raise UnknownEventType(f"{envelope.type}: not a current event type, so it has no topic")
    return KafkaRecord(
        topic=model.topic,
        key=envelope.subject.encode(),
        value=envelope.model_dump_json().encode(),
        headers=kafka_headers(envelope.type, traceparent=traceparent, tracestate=tracestate),
    )


def kafka_headers(
    event_type: str, *, traceparent: str | None = None, tracestate: str | None = None
) -> list[tuple[str, bytes]]:
    """The headers of a record carrying an event of `event_type`, with the trace context given."""
    headers = [("content-type", CONTENT_TYPE.encode()), (EVENT_TYPE_HEADER, event_type.encode())]
    if traceparent:
        headers.append(("traceparent", traceparent.encode()))
    if tracestate:
        headers.append(("tracestate", tracestate.encode()))
    return headers


def without_binary_mode_headers(headers: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """`headers` less any `ce_*` one, so that a copied record (a dead letter) parses in
    structured mode even when the original was written with `ce_type`."""
    return [(name, value) for name, value in headers if not _is_binary_mode(name)]


def _is_binary_mode(name: str) -> bool:
    return name[: len(BINARY_MODE_PREFIX)].lower() == BINARY_MODE_PREFIX


def encode_event(
    event: Event,
    *,
    source: str,
    subject: str,
    sequence: int,
    time: datetime | None = None,
    id: str | None = None,
    traceparent: str | None = None,
    tracestate: str | None = None,
) -> KafkaRecord:
    """`encode(new_envelope(event, ...))`."""
    envelope = new_envelope(
        event, source=source, subject=subject, sequence=sequence, time=time, id=id
    )
    return encode(envelope, traceparent=traceparent, tracestate=tracestate)


def decode(value: bytes | None, headers: Sequence[tuple[str, bytes]] = ()) -> DecodedEvent:
    """The envelope and the (upcast) event of a record's value.

    The envelope in the value is authoritative; `headers` are accepted for symmetry with
    `encode` and not needed to decode a structured-mode record. A record of a current event type
    is decoded by `etalase_events.lean` (msgspec, the same rules); what that does not accept is
    decided by pydantic, which names the reason.
    """
    if value is None:
        raise MalformedRecord("record has no value")
    fast = lean.decode(value)
    if fast is not None:
        return fast
    try:
        current = _CURRENT_ENVELOPES.validate_json(value)
        return DecodedEvent(current, current.data, value)
    except ValidationError:
        pass  # an older version to upcast, or not valid: decoded step by step below
    try:
        envelope = CloudEvent.model_validate_json(value)
    except ValidationError as error:
        raise MalformedRecord(f"not a CloudEvents JSON envelope: {_describe(error)}") from None
    try:
        event_type, data = upcast(envelope.type, envelope.data)
    except KeyError as error:
        raise InvalidEventData(f"{envelope.type}: missing field {error}") from None
    except (TypeError, ValueError) as error:
        raise InvalidEventData(f"{envelope.type}: {error}") from None
    model = EVENT_TYPES.get(event_type)
    if model is None:
        raise UnknownEventType(f"{envelope.type}: unknown event type")
    try:
        event = model.model_validate(data)
    except ValidationError as error:
        raise InvalidEventData(f"{event_type}: {_describe(error)}") from None
    return DecodedEvent(envelope, event, value)


def _current_envelope(model: type[Event]) -> type[CloudEventAttributes]:
    """The envelope of the current version of `model`, with its data typed."""
    event_type: Any = Literal[model.event_type]
    return create_model(
        f"{model.__name__}Envelope",
        __base__=CloudEventAttributes,
        type=(event_type, ...),
        data=(model, ...),
    )


def _by_type(envelopes: tuple[type[CloudEventAttributes], ...]) -> Any:
    union: Any = Union[envelopes]  # noqa: UP007 (a union built at run time)
    return Annotated[union, Field(discriminator="type")]


_CURRENT_ENVELOPES: TypeAdapter[Any] = TypeAdapter(
    _by_type(tuple(_current_envelope(model) for model in EVENT_TYPES.values()))
)
"""Every current event type's envelope, told apart by `type`: a record of a current version is
validated in one pass from its bytes, the envelope and its data together (a quarter less CPU than
the envelope first and then its data)."""


def _describe(error: ValidationError, limit: int = 5) -> str:
    problems = [
        f"{'.'.join(str(part) for part in problem['loc']) or 'value'}: {problem['msg']}"
        for problem in error.errors(include_url=False)
    ]
    more = len(problems) - limit
    return "; ".join(problems[:limit]) + (f"; and {more} more" if more > 0 else "")
