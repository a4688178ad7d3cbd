"""The CloudEvents 1.0 envelope (structured JSON mode) that carries every event."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from etalase_events.base import Event
from etalase_events.primitives import UtcDatetime

_NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class CloudEventAttributes(BaseModel):
    """The attributes of a CloudEvents 1.0 envelope: everything but its `data`."""

    model_config = ConfigDict(extra="ignore", frozen=True, use_attribute_docstrings=True)

    specversion: Literal["1.0"] = "1.0"
    id: _NonEmpty
    """Unique per event: the deduplication key everywhere."""
    source: _NonEmpty
    """The producing service, `etalase/<service>`."""
    type: _NonEmpty
    """`<EventName>.v<N>`."""
    subject: _NonEmpty
    """The aggregate id; also the Kafka record key."""
    time: UtcDatetime
    sequence: Annotated[int, Field(ge=1)]
    """The aggregate's version: 1 for its first event, +1 for each next one."""
    datacontenttype: Literal["application/json"] = "application/json"


class CloudEvent(CloudEventAttributes):
    """A CloudEvents 1.0 envelope in structured JSON mode: the value of every Kafka record."""

    data: dict[str, Any]


@dataclass(frozen=True)
class DecodedEvent:
    attributes: CloudEventAttributes
    """The envelope's attributes as received (its `type` may be of an older version)."""
    event: Event
    """The event, already upcast to the newest version."""
    value: bytes = field(repr=False, compare=False)
    """The record's value."""

    @cached_property
    def envelope(self) -> CloudEvent:
        """The envelope as received, `data` as JSON data (parsed again when first asked for:
        consumers need the attributes and the event only)."""
        return CloudEvent.model_validate_json(self.value)


def new_envelope(
    event: Event,
    *,
    source: str,
    subject: str,
    sequence: int,
    time: datetime | None = None,
    id: str | None = None,
) -> CloudEvent:
    """Wrap `event`; `id` defaults to a new UUID, `time` to now."""
    return CloudEvent(
        id=id if id is not None else str(uuid.uuid4()),
        source=source,
        type=event.event_type,
        subject=subject,
        time=time if time is not None else datetime.now(UTC),
        sequence=sequence,
        data=event.model_dump(mode="json"),
    )


def envelope_json_schema(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema of the envelope of `event_type` with `data` as the schema of its data.

    It describes what producers emit, so the attributes the model defaults are required here.
    """
    schema = CloudEvent.model_json_schema()
    properties = schema["properties"]
    properties["type"] = {**properties["type"], "const": event_type}
    properties["data"] = data
    defaulted = {"specversion", "datacontenttype"}
    schema["required"] = [
        name for name in properties if name in schema["required"] or name in defaulted
    ]
    schema["title"] = event_type
    return schema
