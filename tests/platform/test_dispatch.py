"""Typed handlers: dispatch by the event type a handler declares, checked when it is made."""

from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from etalase_events.codec import decode, encode
from etalase_events.envelope import new_envelope
from etalase_events.models import Event, VendorSuspended, VendorVerified
from etalase_platform.consumer import Delivery, Dispatcher
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.platform.support import verified

SESSION: Any = object()  # the dispatcher only passes it on


def _delivery(event: Event, offset: int) -> Delivery:
    record = encode(new_envelope(event, source="test", subject="v", sequence=offset + 1))
    consumer_record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
        "t", 0, offset, 0, 0, record.key, record.value, None, 0, 0, record.headers
    )
    return Delivery(consumer_record, decode(record.value, record.headers))


def _suspended(vendor_id: str) -> VendorSuspended:
    return VendorSuspended(vendor_id=vendor_id, reason="test", suspended_at=datetime.now(UTC))


async def test_each_handler_gets_only_the_events_of_the_type_it_declares() -> None:
    got: list[tuple[str, Event]] = []

    async def on_verified(session: AsyncSession, delivery: Delivery[VendorVerified]) -> None:
        got.append(("verified", delivery.event))

    async def on_suspended(session: AsyncSession, delivery: Delivery[VendorSuspended]) -> None:
        got.append(("suspended", delivery.event))

    events: list[Event] = [verified("a"), _suspended("b"), verified("c")]
    deliveries = [_delivery(event, offset) for offset, event in enumerate(events)]
    await Dispatcher(on_verified, on_suspended).apply(SESSION, deliveries)
    assert got == [("verified", events[0]), ("suspended", events[1]), ("verified", events[2])]

    got.clear()
    await Dispatcher(on_suspended).apply(SESSION, deliveries)  # others are tolerated
    assert got == [("suspended", events[1])]


async def test_a_handler_may_take_a_union_of_event_types() -> None:
    got: list[Event] = []

    async def on_either(
        session: AsyncSession, delivery: Delivery[VendorVerified | VendorSuspended]
    ) -> None:
        got.append(delivery.event)

    events: list[Event] = [verified("a"), _suspended("b")]
    await Dispatcher(on_either).apply(
        SESSION, [_delivery(event, offset) for offset, event in enumerate(events)]
    )
    assert got == events
    assert Dispatcher(on_either).event_types == {VendorVerified, VendorSuspended}


async def _untyped(session: AsyncSession, delivery: Delivery) -> None: ...


async def _unannotated(session, delivery):  # type: ignore[no-untyped-def]
    ...


async def _not_a_delivery(session: AsyncSession, delivery: VendorVerified) -> None: ...


async def _not_an_event(session: AsyncSession, delivery: Delivery[Event]) -> None: ...


async def _one_argument(delivery: Delivery[VendorVerified]) -> None: ...


async def _verified(session: AsyncSession, delivery: Delivery[VendorVerified]) -> None: ...


async def _verified_too(session: AsyncSession, delivery: Delivery[VendorVerified]) -> None: ...


@pytest.mark.parametrize(
    "handlers",
    [
        (_untyped,),
        (_unannotated,),
        (_not_a_delivery,),
        (_not_an_event,),
        (_one_argument,),
        (_verified, _verified_too),
    ],
    ids=["bare Delivery", "no annotation", "not a Delivery", "Event itself", "arity", "twice"],
)
def test_a_registration_the_dispatcher_cannot_check_is_refused_when_it_is_made(
    handlers: tuple[Any, ...],
) -> None:
    with pytest.raises(TypeError, match=handlers[-1].__name__):  # the error names the culprit
        Dispatcher(*handlers)
