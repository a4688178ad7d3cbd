"""Use cases: each checks the caller's scope, applies the domain rules, writes, and enqueues its
event in the same transaction."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from etalase_events.models import (
    BudgetAllocated,
    OrderAccepted,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
)
from etalase_platform.auth import Principal, Role
from etalase_platform.db import SessionFactory, session_transaction
from etalase_platform.deps import Page, PageParams
from etalase_platform.driver import DriverTransaction, Transactional, transaction
from etalase_platform.idempotency import Answer, StoredResponse, run_once
from etalase_platform.models import respond
from etalase_platform.outbox import enqueue
from etalase_platform.problems import Conflict, Forbidden, NotFound
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_purchasing import catalog_view, db, domain
from etalase_purchasing.domain import OrderAction, OrderStatus, RequestedLine
from etalase_purchasing.schemas import (
    BudgetAllocation,
    BudgetPublic,
    OrderCheck,
    OrderPublic,
    PlaceOrder,
)

SOURCE = "etalase/purchasing"


def _now() -> datetime:
    return datetime.now(UTC)


# --- budgets -----------------------------------------------------------------------------------


async def allocate_budget(
    sessions: SessionFactory,
    principal: Principal,
    fiscal_year: int,
    opd_code: str,
    allocation: BudgetAllocation,
) -> BudgetPublic:
    domain.check_opd_code(opd_code, allocation.region_code)
    principal.require_role(Role.ADMIN)
    principal.require_region(allocation.region_code)
    async with sessions() as session, session.begin():
        budget = await db.upsert_budget(
            session,
            fiscal_year=fiscal_year,
            opd_code=opd_code,
            opd_name=allocation.opd_name,
            region_code=allocation.region_code,
            pagu_idr=allocation.pagu_idr,
            allocated_at=_now(),
        )
        event = BudgetAllocated(
            fiscal_year=budget.fiscal_year,
            opd_code=budget.opd_code,
            opd_name=budget.opd_name,
            region_code=budget.region_code,
            pagu_idr=budget.pagu_idr,
            allocated_at=budget.allocated_at,
        )
        await enqueue(
            session,
            event,
            source=SOURCE,
            subject=domain.budget_subject(fiscal_year, opd_code),
            sequence=budget.version,
            time=budget.allocated_at,
        )
    return _budget(budget)


async def list_budgets(
    sessions: SessionFactory,
    principal: Principal,
    *,
    fiscal_year: int | None,
    region_code: str | None,
    paging: PageParams,
) -> Page[BudgetPublic]:
    principal.require_role(Role.ADMIN, Role.AUDITOR, Role.BUYER)
    if principal.role is Role.BUYER:
        opd_code, region = principal.opd, region_code  # its own OPD, wherever that is
    else:
        if region_code is not None:
            principal.require_region(region_code)
        opd_code, region = None, region_code or principal.region
    async with sessions() as session:
        budgets, total = await db.list_budgets(
            session,
            fiscal_year=fiscal_year,
            region=region,
            opd_code=opd_code,
            limit=paging.limit,
            offset=paging.offset,
        )
    return Page(items=[_budget(budget) for budget in budgets], total=total)


def _budget(budget: db.Budget) -> BudgetPublic:
    return respond(BudgetPublic, budget, remaining_idr=budget.pagu_idr - budget.committed_idr)


# --- placing an order --------------------------------------------------------------------------


def _require_buyer_of(principal: Principal, opd_code: str) -> None:
    principal.require_role(Role.BUYER)
    if principal.opd != opd_code:
        raise Forbidden(f"a buyer of OPD {principal.opd} may not act for OPD {opd_code}")


@dataclass(frozen=True)
class BuiltOrder:
    """An order as placing it would record it, and the budget it would count against."""

    event: OrderPlaced
    budget: db.BudgetBase
    committed_idr: int
    """Placed, uncancelled spend of the OPD and year before this order."""
    alternatives: dict[str, list[catalog_view.Alternative]]
    """Per category of the order, the PDN-wajib products its lines were ranked against."""


async def build_order(
    session: Transactional, principal: Principal, request: PlaceOrder, *, lock_budget: bool
) -> BuiltOrder:
    """The one computation behind `POST /orders` and `POST /orders/check`: scope, lines,
    snapshots, substitution flags and their alternatives, budget and commitments. Writes
    nothing; with `lock_budget` (placing) orders of the OPD and year queue on its budget row."""
    _require_buyer_of(principal, request.opd_code)
    requested = [RequestedLine(line.product_id, line.quantity) for line in request.lines]
    domain.check_distinct_products(requested)
    # Placing locks the budget row here, with the reads (when a product is known: see
    # catalog_view._order_facts_sql): orders of this OPD and year queue on it.
    facts = await catalog_view.order_facts(
        session,
        [line.product_id for line in requested],
        domain.region_of_opd(request.opd_code),
        (request.fiscal_year, request.opd_code),
        lock_budget=lock_budget,
    )
    ranked = {
        category: [found.product_id for found in products]
        for category, products in facts.alternatives.items()
    }
    draft = domain.draft_order(requested, facts.products, ranked)
    vendor = domain.resolve_vendor(*facts.vendor(draft.vendor_id))
    if vendor is None:
        raise Conflict(
            f"the facts of vendor {draft.vendor_id} are not known yet; retry later",
            rule="vendor_unknown",
        )
    budget = facts.budget
    if budget is None:
        raise Conflict(
            f"OPD {request.opd_code} has no budget for {request.fiscal_year}",
            rule="budget_missing",
        )
    committed = budget.committed_idr
    event = OrderPlaced(
        order_id=str(uuid.uuid4()),
        opd_code=budget.opd_code,
        region_code=budget.region_code,
        fiscal_year=budget.fiscal_year,
        rup_code=request.rup_code,
        vendor_id=draft.vendor_id,
        vendor_scale=vendor.scale,
        vendor_legal_form=vendor.legal_form,
        vendor_region_code=vendor.region_code,
        lines=draft.lines,
        total_idr=draft.total_idr,
        placed_at=_now(),
    )
    return BuiltOrder(event, budget, committed, facts.alternatives)


async def place_order(
    engine: AsyncEngine,
    principal: Principal,
    request: PlaceOrder,
    idempotency_key: str | None,
) -> StoredResponse:
    """Place an order at most once per `Idempotency-Key`. Every statement of it goes to the
    driver, so it runs in the driver's transaction rather than an ORM session's."""

    async def create(begun: DriverTransaction, answer: Answer) -> dict[str, Any]:
        return await _place_order(begun, principal, request, answer)

    return await run_once(
        transaction(engine),
        key=idempotency_key,
        # keys are the caller's: the same key from another buyer is another request
        scope=f"POST /orders {principal.role}:{principal.sub}:{principal.opd}",
        request=request,
        create=create,
    )


async def _place_order(
    begun: DriverTransaction, principal: Principal, request: PlaceOrder, answer: Answer
) -> dict[str, Any]:
    """In the transaction that also claims the Idempotency-Key; the response, which it returns,
    is stored by the order's own statement."""
    built = await build_order(begun, principal, request, lock_budget=True)
    event = built.event
    domain.check_fits_pagu(
        pagu_idr=built.budget.pagu_idr,
        committed_idr=built.committed_idr,
        order_total_idr=event.total_idr,
    )
    body = respond(OrderPublic, event, **db.JUST_PLACED).model_dump(mode="json")
    # the order, its total on the budget row, its event and the key's answer in one statement,
    # under the row's lock
    await enqueue(
        begun,
        event,
        source=SOURCE,
        subject=event.order_id,
        sequence=1,
        time=event.placed_at,
        along=db.placing(event, answer.parameters(body)),
    )
    return body


async def check_order(
    sessions: SessionFactory, principal: Principal, request: PlaceOrder
) -> OrderCheck:
    """What placing `request` would mean, from the same computation as placing it; changes
    nothing (a read-only transaction, no row, no event)."""
    async with sessions() as session, session.begin():
        await session.connection(execution_options={"postgresql_readonly": True})
        built = await build_order(session, principal, request, lock_budget=False)
        committed = [
            placed_event(order)
            for order in await db.committing_orders(
                session, built.budget.fiscal_year, built.budget.opd_code
            )
        ]
    return OrderCheck.of(
        built.event,
        pagu_idr=built.budget.pagu_idr,
        committed_idr=built.committed_idr,
        committed=committed,
        alternatives=[found for products in built.alternatives.values() for found in products],
    )


def placed_event(order: db.Order) -> OrderPlaced:
    """The OrderPlaced an order was placed with (its row keeps every field of it)."""
    return respond(OrderPlaced, order)


# --- the order lifecycle -----------------------------------------------------------------------


def _authorize_change(principal: Principal, order: db.Order, action: OrderAction) -> None:
    if action is OrderAction.ACCEPT:
        principal.require_role(Role.VENDOR)
        if principal.vendor_id != order.vendor_id:
            raise Forbidden("only the vendor the order is addressed to may accept it")
    else:
        _require_buyer_of(principal, order.opd_code)


async def change_order(
    sessions: SessionFactory,
    principal: Principal,
    order_id: str,
    action: OrderAction,
    idempotency_key: str | None,
    reason: str | None = None,
) -> StoredResponse:
    """A state change at most once per `Idempotency-Key`: a client that lost the answer retries
    and gets the first one (`Idempotent-Replayed: true`), not a 409 for the state it caused."""

    async def change(session: AsyncSession, _answer: Answer) -> dict[str, Any]:
        changed = await _change_order(session, principal, order_id, action, reason)
        return changed.model_dump(mode="json")

    return await run_once(
        session_transaction(sessions),
        key=idempotency_key,
        scope=f"POST /orders/{{id}}/{action.value} {principal.role}:{principal.sub}",
        request={"order_id": order_id, "reason": reason},
        create=change,
        status_code=200,
    )


async def _change_order(
    session: AsyncSession,
    principal: Principal,
    order_id: str,
    action: OrderAction,
    reason: str | None,
) -> OrderPublic:
    """In the transaction that also claims the Idempotency-Key."""
    order = await db.get_order(session, order_id, lock=True)
    if order is None:
        raise NotFound(f"order {order_id} does not exist")
    _authorize_change(principal, order, action)
    status = domain.transition(OrderStatus(order.status), action)
    now = _now()
    order.status = status
    order.version += 1
    event: OrderAccepted | OrderCompleted | OrderCancelled
    if action is OrderAction.ACCEPT:
        order.accepted_at = now
        event = OrderAccepted(order_id=order_id, accepted_at=now)
    elif action is OrderAction.COMPLETE:
        order.completed_at = now
        event = OrderCompleted(order_id=order_id, completed_at=now)
    else:
        assert reason is not None  # the API requires it
        order.cancelled_at, order.cancel_reason = now, reason
        event = OrderCancelled(order_id=order_id, reason=reason, cancelled_at=now)
        await db.release_committed(session, order)
    session.add(order)
    await enqueue(session, event, source=SOURCE, subject=order_id, sequence=order.version, time=now)
    return respond(OrderPublic, order)


# --- reading orders ----------------------------------------------------------------------------


def _may_read(principal: Principal, order: db.Order) -> bool:
    match principal.role:
        case Role.BUYER:
            return principal.opd == order.opd_code
        case Role.VENDOR:
            return principal.vendor_id == order.vendor_id
        case Role.ADMIN | Role.AUDITOR:
            return principal.covers_region(order.region_code)
        case _:
            return False


async def get_order(sessions: SessionFactory, principal: Principal, order_id: str) -> OrderPublic:
    async with sessions() as session:
        order = await db.get_order(session, order_id)
    if order is None:
        raise NotFound(f"order {order_id} does not exist")
    if not _may_read(principal, order):
        raise Forbidden(f"order {order_id} is outside this token's scope")
    return respond(OrderPublic, order)


async def list_orders(
    sessions: SessionFactory,
    principal: Principal,
    *,
    opd_code: str | None,
    fiscal_year: int | None,
    status: OrderStatus | None,
    paging: PageParams,
) -> Page[OrderPublic]:
    principal.require_role(Role.BUYER, Role.VENDOR, Role.ADMIN, Role.AUDITOR)
    region, vendor_id = None, None
    if principal.role is Role.BUYER:
        if opd_code is not None and opd_code != principal.opd:
            raise Forbidden(f"a buyer of OPD {principal.opd} may not read OPD {opd_code}")
        opd_code = principal.opd
    elif principal.role is Role.VENDOR:
        vendor_id = principal.vendor_id
    else:
        if opd_code is not None:
            principal.require_region(domain.region_of_opd(opd_code))
        region = principal.region
    async with sessions() as session:
        orders, total = await db.list_orders(
            session,
            region=region,
            opd_code=opd_code,
            vendor_id=vendor_id,
            fiscal_year=fiscal_year,
            status=status.value if status else None,
            limit=paging.limit,
            offset=paging.offset,
        )
    return Page(items=[respond(OrderPublic, order) for order in orders], total=total)
