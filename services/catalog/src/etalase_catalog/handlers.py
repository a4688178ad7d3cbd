"""The registration events the catalog consumes, to keep its own view of vendors."""

from collections.abc import Sequence

from etalase_events.models import (
    VendorProfileUpdated,
    VendorRegistered,
    VendorReinstated,
    VendorStatus,
    VendorSuspended,
    VendorVerified,
)
from etalase_events.topics import VENDORS
from etalase_platform.consumer import Delivery, Dispatcher, Subscription, of_type
from opentelemetry import trace
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_catalog import db, domain, service

VendorEvent = (
    VendorRegistered | VendorVerified | VendorProfileUpdated | VendorSuspended | VendorReinstated
)
VENDOR_EVENTS = (
    VendorRegistered,
    VendorVerified,
    VendorProfileUpdated,
    VendorSuspended,
    VendorReinstated,
)


REGISTERED = VendorStatus.REGISTERED


def _status(event: VendorEvent) -> VendorStatus | None:
    status: VendorStatus | None = domain.vendor_facts(event).get("status")
    return status


async def on_vendor_event(session: AsyncSession, delivery: Delivery[VendorEvent]) -> None:
    event = delivery.event
    await service.hear_vendor_event(session, event.vendor_id, event, delivery.sequence)


class Vendors:
    """Applies a batch of registration events: the vendors' rows locked in one statement, then
    the products their status changes may touch in another (vendor rows before their products,
    as `service` locks everywhere), then each event in order, as event by event (what each
    changes is flushed once, at the commit; products' events go to the outbox as one by one)."""

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        mine: list[Delivery[VendorEvent]] = of_type(deliveries, *VENDOR_EVENTS)
        if not mine:
            return
        vendor_ids = {d.event.vendor_id for d in mine}
        locked = await service.lock_vendors(session, vendor_ids)
        # a registration's status moves no product (`domain.follow_vendor_status`)
        moving = {d.event.vendor_id for d in mine if _status(d.event) not in (None, REGISTERED)}
        following = await db.lock_products_following_vendors(session, sorted(moving))
        for delivery in mine:
            event = delivery.event
            # products following a new status are published within the event's trace
            with trace.use_span(delivery.span, end_on_exit=False):
                await service.hear_vendor_event(
                    session,
                    event.vendor_id,
                    event,
                    delivery.sequence,
                    locked=locked,
                    following=following,
                )


def one_by_one() -> Dispatcher:
    """The same view applied event by event (the oracle of the batched one's tests)."""
    return Dispatcher(on_vendor_event)


def subscriptions() -> list[Subscription]:
    return [Subscription(name="vendors", topics=[VENDORS], projector=Vendors())]
