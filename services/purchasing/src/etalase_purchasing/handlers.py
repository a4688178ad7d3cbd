"""Event handlers: catalog's and registration's events keep purchasing's product and vendor view.

Handlers only map an event to a view write; `catalog_view` drops what is stale by `sequence`.
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
from etalase_platform.consumer import Delivery, Dispatcher
from etalase_platform.runtime import Subscription
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_purchasing import catalog_view

CATALOG_VIEW = "catalog-view"


async def on_price_changed(session: AsyncSession, delivery: Delivery) -> None:
    event = delivery.event
    assert isinstance(event, ProductPriceChanged)
    await catalog_view.update_product(
        session, event.product_id, delivery.sequence, price_idr=event.price_idr
    )


async def on_tkdn_certified(session: AsyncSession, delivery: Delivery) -> None:
    event = delivery.event
    assert isinstance(event, ProductTkdnCertified)
    await catalog_view.certify_tkdn(
        session, event.product_id, delivery.sequence, event.tkdn_pct, event.bmp_pct
    )


async def on_delisted(session: AsyncSession, delivery: Delivery) -> None:
    assert isinstance(delivery.event, ProductDelisted)
    await catalog_view.update_product(
        session, delivery.event.product_id, delivery.sequence, tayang=False
    )


async def on_relisted(session: AsyncSession, delivery: Delivery) -> None:
    assert isinstance(delivery.event, ProductRelisted)
    await catalog_view.update_product(
        session, delivery.event.product_id, delivery.sequence, tayang=True
    )


async def on_vendor_registered(session: AsyncSession, delivery: Delivery) -> None:
    event = delivery.event
    assert isinstance(event, VendorRegistered)
    await catalog_view.record_registry_facts(
        session,
        event.vendor_id,
        delivery.sequence,
        scale=event.scale,
        legal_form=event.legal_form,
        region_code=event.region_code,
    )


async def on_vendor_profile_updated(session: AsyncSession, delivery: Delivery) -> None:
    event = delivery.event
    assert isinstance(event, VendorProfileUpdated)
    await catalog_view.record_registry_facts(
        session,
        event.vendor_id,
        delivery.sequence,
        scale=event.scale,
        legal_form=event.legal_form,
        region_code=event.region_code,
    )


class CatalogView:
    """Applies a batch: its listings first, in two statements (`catalog_view.record_listings`),
    then the other events in order, one write each.

    The end state is that of applying the batch event by event: a product's events arrive in
    sequence order (redeliveries repeat them), a listing sets the whole row, and every write
    is guarded by the row's sequence, so a later event is applied after its listing either way
    and an earlier one is refused either way."""

    def __init__(self) -> None:
        self._others = Dispatcher(
            {
                ProductPriceChanged: on_price_changed,
                ProductTkdnCertified: on_tkdn_certified,
                ProductDelisted: on_delisted,
                ProductRelisted: on_relisted,
                VendorRegistered: on_vendor_registered,
                VendorProfileUpdated: on_vendor_profile_updated,
            }
        )

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        listings = [d for d in deliveries if isinstance(d.event, ProductListed)]
        if listings:
            await catalog_view.record_listings(
                session,
                [(d.event, d.sequence) for d in listings],  # type: ignore[misc]
            )
        others = [d for d in deliveries if not isinstance(d.event, ProductListed)]
        await self._others.apply(session, others)


def subscriptions() -> list[Subscription]:
    return [Subscription(name=CATALOG_VIEW, topics=(PRODUCTS, VENDORS), projector=CatalogView())]


def one_by_one() -> Dispatcher:
    """The same view applied event by event (the oracle of the batched one's tests)."""

    async def on_product_listed(session: AsyncSession, delivery: Delivery) -> None:
        assert isinstance(delivery.event, ProductListed)
        await catalog_view.record_listing(session, delivery.event, delivery.sequence)

    return Dispatcher(
        {
            ProductListed: on_product_listed,
            ProductPriceChanged: on_price_changed,
            ProductTkdnCertified: on_tkdn_certified,
            ProductDelisted: on_delisted,
            ProductRelisted: on_relisted,
            VendorRegistered: on_vendor_registered,
            VendorProfileUpdated: on_vendor_profile_updated,
        }
    )
