"""Projectors, and the typed handlers a `Dispatcher` makes one of.

A handler declares the event type it takes in its annotation, and only those events reach it:

    async def on_registered(session: AsyncSession, delivery: Delivery[VendorRegistered]) -> None:
        ...  # delivery.event is a VendorRegistered

    Dispatcher(on_registered, on_verified)

`Delivery[A | B]` takes either. A handler without such an annotation, naming a type that is not
an event of the contract, or claiming a type another handler has, is refused when the
dispatcher is made, not when the first event arrives.
"""

import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, Union

from etalase_events.models import EVENT_TYPES, Event
from opentelemetry import trace
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_platform.delivery import Delivery

T = TypeVar("T", bound=Event)


class Projector(Protocol):
    """Applies a batch of deliveries within the consumer's transaction."""

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None: ...


@dataclass(frozen=True)
class Subscription:
    """A consumer the service runs: its name (also its inbox key), topics and projector, and
    whether it keeps an inbox (see `IdempotentConsumer`)."""

    name: str
    topics: Sequence[str]
    projector: Projector
    inbox: bool = True


Handler = Callable[[Any, Delivery[Any]], Awaitable[None]]
"""`async def handler(session, delivery: Delivery[SomeEvent]) -> None`"""

_CONTRACT = frozenset(EVENT_TYPES.values())


def handled_types(handler: Handler) -> tuple[type[Event], ...]:
    """The event types a handler's `Delivery[...]` annotation names; TypeError if none."""
    parameters = list(inspect.signature(handler).parameters)
    if len(parameters) != 2:
        raise TypeError(f"{handler.__qualname__} must take (session, delivery)")
    annotation = typing.get_type_hints(handler).get(parameters[1])
    if typing.get_origin(annotation) is not Delivery:
        raise TypeError(
            f"{handler.__qualname__}: annotate its delivery as Delivery[<event type>],"
            f" not {annotation!r}"
        )
    (taken,) = typing.get_args(annotation)
    named = typing.get_args(taken) if typing.get_origin(taken) in (Union, types.UnionType) else ()
    event_types = named or (taken,)
    for event_type in event_types:
        if event_type not in _CONTRACT:
            raise TypeError(f"{handler.__qualname__}: {event_type!r} is not an event type")
    return event_types


class Dispatcher:
    """A projector applying each event, in order, with the handler declared for its type.

    Event types without a handler are tolerated and recorded as applied."""

    def __init__(self, *handlers: Handler) -> None:
        self._handlers: dict[type[Event], Handler] = {}
        for handler in handlers:
            for event_type in handled_types(handler):
                other = self._handlers.setdefault(event_type, handler)
                if other is not handler:
                    raise TypeError(
                        f"{event_type.__name__} has two handlers:"
                        f" {other.__qualname__} and {handler.__qualname__}"
                    )

    @property
    def event_types(self) -> frozenset[type[Event]]:
        return frozenset(self._handlers)

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        handlers = self._handlers
        for delivery in deliveries:
            handler = handlers.get(type(delivery.event))
            if handler is not None:
                with trace.use_span(delivery.span, end_on_exit=False):
                    await handler(session, delivery)


def of_type(deliveries: Iterable[Delivery], *event_types: type[T]) -> list[Delivery[T]]:
    """The deliveries whose event is one of `event_types`, typed as such, in order."""
    return [d for d in deliveries if isinstance(d.event, event_types)]  # type: ignore[misc]
