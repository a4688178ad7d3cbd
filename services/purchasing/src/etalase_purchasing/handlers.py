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


def _product_change(delivery: Delivery) -> catalog_view.ProductChange | None:
    sequence = delivery.sequence
    match delivery.event:
        case ProductPriceChanged(product_id=product_id, price_idr=price_idr):
            return catalog_view.ProductChange(product_id, sequence, price_idr=price_idr)
        case ProductTkdnCertified(product_id=product_id, tkdn_pct=tkdn_pct, bmp_pct=bmp_pct):
            return catalog_view.ProductChange(product_id, sequence, tkdn=(tkdn_pct, bmp_pct))
        case ProductDelisted(product_id=product_id):
            return catalog_view.ProductChange(product_id, sequence, tayang=False)
        case ProductRelisted(product_id=product_id):
            return catalog_view.ProductChange(product_id, sequence, tayang=True)
    return None


class CatalogView:
    """Applies a batch in a fixed number of statements, whatever its size and mix: its listings
    (`catalog_view.record_listings`), then the products' other events
    (`catalog_view.update_products`), then the vendors' registry facts
    (`catalog_view.record_registry_facts_of`).

    The end state is that of applying the batch event by event: a product's events arrive in
    sequence order (redeliveries repeat them), a listing sets the whole row, and every write
    is guarded by the row's sequence, so a later event is applied after its listing either way
    and an earlier one is refused either way; the vendors' facts and the listings' snapshots of
    them are columns apart."""

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        listings = of_type(deliveries, ProductListed)
        if listings:
            await catalog_view.record_listings(session, [(d.event, d.sequence) for d in listings])
        changes = [c for d in deliveries if (c := _product_change(d)) is not None]
        await catalog_view.update_products(session, changes)
        facts: list[Delivery[VendorRegistered | VendorProfileUpdated]] = of_type(
            deliveries, VendorRegistered, VendorProfileUpdated
        )
        await catalog_view.record_registry_facts_of(
            session,
            [
                catalog_view.RegistryFacts(
                    d.event.vendor_id,
                    d.sequence,
                    scale=d.event.scale,
                    legal_form=d.event.legal_form,
                    region_code=d.event.region_code,
                )
                for d in facts
            ],
        )


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
