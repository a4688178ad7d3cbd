"""The catalog's use cases: each opens a transaction, checks scope, asks the domain, writes the
new state and enqueues its event in the same transaction.

Locking: a product change locks its vendor's row shared, then the product row exclusively; the
consumer applying a vendor event locks the vendor row exclusively, then the vendor's products.
Same order everywhere, so no deadlock; and a suspension waits for product changes in flight, then
sees them (a product relisted concurrently with a suspension is still taken down).
"""

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from etalase_events.models import Catalog, DelistReason, Event, VendorStatus
from etalase_platform.auth import Principal, Role
from etalase_platform.consumer import Delivery
from etalase_platform.db import SessionFactory, session_transaction
from etalase_platform.deps import Page, PageParams
from etalase_platform.idempotency import Answer, StoredResponse, run_once
from etalase_platform.models import respond
from etalase_platform.outbox import enqueue
from etalase_platform.problems import Forbidden, NotFound
from opentelemetry import trace
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_catalog import db, domain
from etalase_catalog.domain import Actor, Change, Product, VendorView
from etalase_catalog.schemas import (
    CategoryCount,
    PriceChange,
    ProductCreate,
    ProductPublic,
    TkdnCertificate,
)

SOURCE = "etalase/catalog"
WIB = ZoneInfo("Asia/Jakarta")

Decision = Callable[[Product, Actor, VendorView, datetime], Change | None]


def _now() -> datetime:
    return datetime.now(UTC)


def _today_in_wib() -> date:
    return datetime.now(WIB).date()


def public(product: Product, vendor: VendorView) -> ProductPublic:
    return respond(
        ProductPublic,
        product,
        vendor_scale=vendor.scale,
        vendor_legal_form=vendor.legal_form,
        vendor_region_code=vendor.region_code,
    )


async def _enqueue(session: AsyncSession, product: Product, event: Event) -> None:
    await enqueue(
        session, event, source=SOURCE, subject=product.product_id, sequence=product.version
    )


# --- commands -------------------------------------------------------------------------------


async def list_product(
    sessions: SessionFactory, principal: Principal, body: ProductCreate, idempotency_key: str | None
) -> StoredResponse:
    principal.require_role(Role.VENDOR)
    if body.vendor_id != principal.vendor_id:
        raise Forbidden(f"a vendor lists only its own products, not vendor {body.vendor_id}'s")

    async def create(session: AsyncSession, _answer: Answer) -> dict[str, Any]:
        vendor_row = await db.lock_vendor(session, body.vendor_id, share=True)
        vendor = db.vendor_view(vendor_row) if vendor_row else None
        product, event = domain.list_product(
            body.draft(), vendor, product_id=str(uuid.uuid4()), now=_now()
        )
        assert vendor is not None  # list_product refuses unknown vendors
        session.add(db.new_product_row(product))
        await _enqueue(session, product, event)
        return public(product, vendor).model_dump(mode="json")

    return await run_once(
        session_transaction(sessions),
        key=idempotency_key,
        scope=f"catalog.products:{body.vendor_id}",
        request=body,
        create=create,
    )


async def change_price(
    sessions: SessionFactory, principal: Principal, product_id: str, body: PriceChange
) -> ProductPublic:
    def decide(product: Product, actor: Actor, vendor: VendorView, now: datetime) -> Change | None:
        return domain.change_price(product, body.price_idr, vendor, now)

    return await _change(sessions, principal, product_id, decide, admin_may=False)


async def certify_tkdn(
    sessions: SessionFactory, principal: Principal, product_id: str, body: TkdnCertificate
) -> ProductPublic:
    def decide(product: Product, actor: Actor, vendor: VendorView, now: datetime) -> Change | None:
        return domain.certify_tkdn(
            product,
            tkdn_pct=body.tkdn_pct,
            bmp_pct=body.bmp_pct,
            certificate_no=body.certificate_no,
            valid_until=body.valid_until,
            vendor=vendor,
            now=now,
            today=_today_in_wib(),
        )

    return await _change(sessions, principal, product_id, decide, admin_may=False)


async def delist(
    sessions: SessionFactory, principal: Principal, product_id: str, reason: DelistReason | None
) -> ProductPublic:
    def decide(product: Product, actor: Actor, vendor: VendorView, now: datetime) -> Change:
        return domain.delist(product, actor, vendor, now, requested=reason)

    return await _change(sessions, principal, product_id, decide, admin_may=True)


async def relist(sessions: SessionFactory, principal: Principal, product_id: str) -> ProductPublic:
    return await _change(sessions, principal, product_id, domain.relist, admin_may=True)


async def _change(
    sessions: SessionFactory,
    principal: Principal,
    product_id: str,
    decide: Decision,
    *,
    admin_may: bool,
) -> ProductPublic:
    principal.require_role(Role.VENDOR, *([Role.ADMIN] if admin_may else []))
    async with sessions() as session, session.begin():
        vendor_id = await db.product_vendor_id(session, product_id)
        if vendor_id is None:
            raise NotFound(f"product {product_id} not found")
        vendor_row = await db.lock_vendor(session, vendor_id, share=True)
        row = await db.lock_product(session, product_id)
        assert vendor_row is not None and row is not None  # foreign key; products stay
        product, vendor = db.product(row), db.vendor_view(vendor_row)
        actor = _actor(principal, product)
        change = decide(product, actor, vendor, _now())
        if change is not None:
            product, event = change
            db.store_product(row, product)
            await _enqueue(session, product, event)
        return public(product, vendor)


def _actor(principal: Principal, product: Product) -> Actor:
    """The vendor acts on its own products; an admin on its region's local catalogue."""
    if principal.role is Role.VENDOR:
        if principal.vendor_id != product.vendor_id:
            raise Forbidden(f"product {product.product_id} belongs to another vendor")
        return Actor.VENDOR
    region = product.catalog_region_code
    if (
        product.catalog is not Catalog.LOKAL
        or region is None
        or not principal.covers_region(region)
    ):
        raise Forbidden(
            f"product {product.product_id} is not in the local catalogue of region"
            f" {principal.region}"
        )
    return Actor.ADMIN


# --- the vendor view, from registration events ----------------------------------------------


async def hear_vendor_events(
    session: AsyncSession, deliveries: Sequence[Delivery[domain.VendorEvent]]
) -> None:
    """Apply a batch of registration events in the consumer's transaction, ending as the same
    events applied one per batch would (a stale or repeated one is a no-op): the batch's
    vendors locked in one statement, their events folded in order by the domain's rule, the new
    views written in one statement; then,
    if statuses changed, the products following them locked in one and written in one, and
    their events enqueued in order, each within the trace of the vendor event behind it."""
    now = _now()
    read = await db.lock_vendor_views(session, sorted({d.event.vendor_id for d in deliveries}))
    views = dict(read)
    changed: set[str] = set()
    moves: list[tuple[Delivery[domain.VendorEvent], VendorStatus]] = []
    for delivery in deliveries:
        vendor_id = delivery.event.vendor_id
        before = views.get(vendor_id) or VendorView(vendor_id)
        after, status = domain.hear(before, delivery.sequence, delivery.event)
        if after is before:
            continue
        views[vendor_id] = after
        changed.add(vendor_id)
        if status is not None:
            moves.append((delivery, status))
    await db.write_vendor_views(session, [views[v] for v in sorted(changed)], known=read, now=now)
    if moves:
        await _products_follow(session, moves, now)


async def _products_follow(
    session: AsyncSession,
    moves: list[tuple[Delivery[domain.VendorEvent], VendorStatus]],
    now: datetime,
) -> None:
    """The products of the vendors whose status `moves` changed, in order, follow each change."""
    following = await db.lock_products_following_vendors(
        session, sorted({d.event.vendor_id for d, _ in moves})
    )
    followed: dict[str, Product] = {}
    published: list[tuple[Delivery[domain.VendorEvent], list[Change]]] = []
    for delivery, status in moves:
        vendor_id = delivery.event.vendor_id
        at = domain.status_change_time(delivery.event) or now
        changes = domain.follow_vendor_status(status, following.get(vendor_id, []), at)
        if not changes:
            continue
        moved = {product.product_id: product for product, _ in changes}
        following[vendor_id] = [moved.get(p.product_id, p) for p in following[vendor_id]]
        followed.update(moved)
        published.append((delivery, changes))
    await db.store_followers(session, [followed[p] for p in sorted(followed)])
    for delivery, changes in published:
        # published within the trace of the vendor event behind them
        with trace.use_span(delivery.span, end_on_exit=False):
            for product, event in changes:
                await _enqueue(session, product, event)


# --- reads ------------------------------------------------------------------------------------


async def get_product(sessions: SessionFactory, product_id: str) -> ProductPublic:
    async with sessions() as session:
        found = await db.product_with_vendor(session, product_id)
    if found is None:
        raise NotFound(f"product {product_id} not found")
    row, vendor_row = found
    return public(db.product(row), db.vendor_view(vendor_row))


async def search_products(
    sessions: SessionFactory,
    where: db.ProductFilter,
    paging: PageParams,
    sort: db.ProductSort = db.ProductSort.NEWEST,
) -> Page[ProductPublic]:
    async with sessions() as session:
        # one snapshot for the page and its total, whatever events are applied meanwhile
        await session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
        found, total = await db.search_products(
            session, where, limit=paging.limit, offset=paging.offset, sort=sort
        )
    items = [public(db.product(row), db.vendor_view(vendor)) for row, vendor in found]
    return Page[ProductPublic](items=items, total=total)


async def categories(
    sessions: SessionFactory, catalog: Catalog | None, region_code: str | None, paging: PageParams
) -> Page[CategoryCount]:
    async with sessions() as session:
        found, total = await db.displayed_categories(
            session,
            catalog=catalog,
            region_code=region_code,
            limit=paging.limit,
            offset=paging.offset,
        )
    items = [CategoryCount(category=category, tayang=n) for category, n in found]
    return Page[CategoryCount](items=items, total=total)
