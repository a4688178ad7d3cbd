"""Event handlers: catalog's and registration's events keep purchasing's product and vendor view.

Handlers only map an event to a view write; `catalog_view` drops what is stale by `sequence`.
Each takes the event type its annotation names (`etalase_platform.dispatch`).
"""

from collections.abc import Sequence

from etalase_events.models import (
    ProductDelisted,
    ProductListed,
    ProductPriceChanged,
    ProductRelisted,
    ProductTkdnCertified,
    VendorProfileUpdated,
    VendorRegistered,
)
from etalase_events.topics import PRODUCTS, VENDORS
from etalase_platform.consumer import Delivery, Dispatcher, Subscription, of_type
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_purchasing import catalog_view

CATALOG_VIEW = "catalog-view"


async def on_price_changed(session: AsyncSession, delivery: Delivery[ProductPriceChanged]) -> None:
    event = delivery.event
    await catalog_view.update_product(
        session, event.product_id, delivery.sequence, price_idr=event.price_idr
    )


async def on_tkdn_certified(
    session: AsyncSession, delivery: Delivery[ProductTkdnCertified]
) -> None:
    event = delivery.event
    await catalog_view.certify_tkdn(
        session, event.product_id, delivery.sequence, event.tkdn_pct, event.bmp_pct
    )


async def on_delisted(session: AsyncSession, delivery: Delivery[ProductDelisted]) -> None:
    await catalog_view.update_product(
        session, delivery.event.product_id, delivery.sequence, tayang=False
    )


async def on_relisted(session: AsyncSession, delivery: Delivery[ProductRelisted]) -> None:
    await catalog_view.update_product(
        session, delivery.event.product_id, delivery.sequence, tayang=True
    )


async def on_registry_facts(
    session: AsyncSession, delivery: Delivery[VendorRegistered | VendorProfileUpdated]
) -> None:
    event = delivery.event
    await catalog_view.record_registry_facts(
        session,
        event.vendor_id,
        delivery.sequence,
        scale=event.scale,
        legal_form=event.legal_form,
        region_code=event.region_code,
    )


async def on_product_listed(session: AsyncSession, delivery: Delivery[ProductListed]) -> None:
    await catalog_view.record_listing(session, delivery.event, delivery.sequence)


class CatalogView:
    """Applies a batch: its listings first, in two statements (`catalog_view.record_listings`),
    then the other events in order, one write each.

    The end state is that of applying the batch event by event: a product's events arrive in
    sequence order (redeliveries repeat them), a listing sets the whole row, and every write
    is guarded by the row's sequence, so a later event is applied after its listing either way
    and an earlier one is refused either way."""

    def __init__(self) -> None:
        self._others = Dispatcher(
            on_price_changed, on_tkdn_certified, on_delisted, on_relisted, on_registry_facts
        )

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        listings = of_type(deliveries, ProductListed)
        if listings:
            await catalog_view.record_listings(session, [(d.event, d.sequence) for d in listings])
        await self._others.apply(session, deliveries)  # it has no handler for a listing


def subscriptions() -> list[Subscription]:
    return [Subscription(name=CATALOG_VIEW, topics=(PRODUCTS, VENDORS), projector=CatalogView())]


def one_by_one() -> Dispatcher:
    """The same view applied event by event (the oracle of the batched one's tests)."""
    return Dispatcher(
        on_product_listed,
        on_price_changed,
        on_tkdn_certified,
        on_delisted,
        on_relisted,
        on_registry_facts,
    )
