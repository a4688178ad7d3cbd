"""Kafka records from envelopes and back: the only place events are turned into bytes.

A record's value is the envelope in structured JSON mode; its key is the envelope's subject.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from etalase_events.envelope import CloudEvent, new_envelope
from etalase_events.models import EVENT_TYPES, Event
from etalase_events.upcasting import upcast

CONTENT_TYPE = "application/cloudevents+json"


@dataclass(frozen=True)
class KafkaRecord:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True)
class DecodedEvent:
    envelope: CloudEvent
    """The envelope as received (its `type` and `data` may be of an older version)."""
    event: Event
    """The event, already upcast to the newest version."""


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
    headers = [("content-type", CONTENT_TYPE.encode()), ("ce_type", envelope.type.encode())]
    if traceparent is not None:
        headers.append(("traceparent", traceparent.encode()))
    if tracestate is not None:
        headers.append(("tracestate", tracestate.encode()))
    return KafkaRecord(
        topic=model.topic,
        key=envelope.subject.encode(),
        value=envelope.model_dump_json().encode(),
        headers=headers,
    )


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
    `encode` and not needed to decode a structured-mode record.
    """
    if value is None:
        raise MalformedRecord("record has no value")
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
    return DecodedEvent(envelope, event)


def _describe(error: ValidationError, limit: int = 5) -> str:
    problems = [
        f"{'.'.join(str(part) for part in problem['loc']) or 'value'}: {problem['msg']}"
        for problem in error.errors(include_url=False)
    ]
    more = len(problems) - limit
    return "; ".join(problems[:limit]) + (f"; and {more} more" if more > 0 else "")
