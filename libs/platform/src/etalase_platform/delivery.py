"""What a projector is given: a decoded event with the record it came from.

`Delivery[VendorRegistered]` is a delivery whose event is a `VendorRegistered`: a handler declares
the type it takes that way, and the `Dispatcher` gives it only those (`etalase_platform.dispatch`).
"""

from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic

from aiokafka import ConsumerRecord
from etalase_events.codec import DecodedEvent
from etalase_events.models import Event
from opentelemetry.trace import INVALID_SPAN, Span

if TYPE_CHECKING:  # a default for the type checker only: `Delivery` alone is `Delivery[Event]`
    from typing_extensions import TypeVar

    E = TypeVar("E", bound=Event, covariant=True, default=Event)
else:
    from typing import TypeVar

    E = TypeVar("E", bound=Event, covariant=True)


class EventRejected(Exception):
    """A well-formed event this consumer can never apply: it is dead-lettered, not retried."""


class Delivery(Generic[E]):
    """A decoded event with the record it came from and the span of its processing.

    Its attributes are read once, when it is made: a projector reads them several times per
    event in batches of thousands."""

    __slots__ = (
        "decoded",
        "event",
        "event_id",
        "offset",
        "partition",
        "record",
        "sequence",
        "span",
        "time",
        "topic",
    )

    def __init__(
        self,
        record: ConsumerRecord[Any, Any],
        decoded: DecodedEvent,
        span: Span = INVALID_SPAN,
    ) -> None:
        attributes = decoded.attributes
        self.record = record
        self.decoded = decoded
        self.span = span
        self.topic: str = record.topic
        self.partition: int = record.partition
        self.offset: int = record.offset
        # the dispatcher's lookup by type is what makes this `E`
        self.event: E = decoded.event  # type: ignore[assignment]
        self.event_id: str = attributes.id
        self.sequence: int = attributes.sequence
        self.time: datetime = attributes.time
