"""The registration events the catalog consumes, to keep its own view of vendors."""

from collections.abc import Sequence

from etalase_events.models import (
    VendorProfileUpdated,
    VendorRegistered,
    VendorReinstated,
    VendorSuspended,
    VendorVerified,
)
from etalase_events.topics import VENDORS
from etalase_platform.consumer import Delivery, Subscription, of_type
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_catalog import service
from etalase_catalog.domain import VendorEvent

VENDOR_EVENTS = (
    VendorRegistered,
    VendorVerified,
    VendorProfileUpdated,
    VendorSuspended,
    VendorReinstated,
)


class Vendors:
    """Applies a batch of registration events in a few set-based statements
    (`service.hear_vendor_events`)."""

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        mine: list[Delivery[VendorEvent]] = of_type(deliveries, *VENDOR_EVENTS)
        if mine:
            await service.hear_vendor_events(session, mine)


def subscriptions() -> list[Subscription]:
    return [Subscription(name="vendors", topics=[VENDORS], projector=Vendors())]
