"""The registration events the catalog consumes, to keep its own view of vendors."""

from etalase_events.models import (
    VendorProfileUpdated,
    VendorRegistered,
    VendorReinstated,
    VendorSuspended,
    VendorVerified,
)
from etalase_events.topics import VENDORS
from etalase_platform.consumer import Delivery, Dispatcher
from etalase_platform.runtime import Subscription
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_catalog import service

VENDOR_EVENTS = (
    VendorRegistered,
    VendorVerified,
    VendorProfileUpdated,
    VendorSuspended,
    VendorReinstated,
)


async def on_vendor_event(session: AsyncSession, delivery: Delivery) -> None:
    event = delivery.event
    assert isinstance(event, VENDOR_EVENTS)
    await service.hear_vendor_event(session, event.vendor_id, event, delivery.sequence)


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            name="vendors",
            topics=[VENDORS],
            projector=Dispatcher(dict.fromkeys(VENDOR_EVENTS, on_vendor_event)),
        )
    ]
