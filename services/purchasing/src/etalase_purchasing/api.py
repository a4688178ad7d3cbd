"""HTTP routes: parse, call the use case, answer."""

from typing import Annotated

from etalase_platform.auth import CurrentPrincipal
from etalase_platform.deps import Engine, IdempotencyKey, Page, Paging, RegionFilter, Sessions
from etalase_platform.idempotency import respond
from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from etalase_purchasing import service
from etalase_purchasing.domain import OrderAction, OrderStatus
from etalase_purchasing.schemas import (
    OPD_CODE,
    BudgetAllocation,
    BudgetPublic,
    CancelOrder,
    OrderCheck,
    OrderPublic,
    PlaceOrder,
)

FiscalYearPath = Annotated[int, Path(ge=2000, le=2100)]
FiscalYearQuery = Annotated[int | None, Query(ge=2000, le=2100)]
OpdCodePath = Annotated[
    str, Path(min_length=1, max_length=100, json_schema_extra={"pattern": OPD_CODE})
]
OrderIdPath = Annotated[str, Path(min_length=1, max_length=100)]

budgets = APIRouter(tags=["budgets"])
orders = APIRouter(tags=["orders"])


@budgets.put("/budgets/{fiscal_year}/{opd_code}")
async def allocate_budget(
    fiscal_year: FiscalYearPath,
    opd_code: OpdCodePath,
    allocation: BudgetAllocation,
    principal: CurrentPrincipal,
    sessions: Sessions,
) -> BudgetPublic:
    """Set (or replace) an OPD's pagu for a fiscal year: an admin of the OPD's region."""
    return await service.allocate_budget(sessions, principal, fiscal_year, opd_code, allocation)


@budgets.get("/budgets")
async def list_budgets(
    principal: CurrentPrincipal,
    sessions: Sessions,
    paging: Paging,
    fiscal_year: FiscalYearQuery = None,
    region_code: RegionFilter = None,
) -> Page[BudgetPublic]:
    return await service.list_budgets(
        sessions, principal, fiscal_year=fiscal_year, region_code=region_code, paging=paging
    )


@orders.post(
    "/orders",
    status_code=201,
    response_model=OrderPublic,
    responses={201: {"description": "The order, placed (or, on a retry, as first answered)"}},
)
async def place_order(
    request: PlaceOrder,
    principal: CurrentPrincipal,
    engine: Engine,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Place an order for the buyer's own OPD (403 for another), priced and snapshotted from
    the catalog as purchasing last heard of it.

    - 409 `product_unknown`: purchasing has not heard of a product (yet): retry later;
    - 409 `product_not_displayed`: a product is delisted (not tayang);
    - 409 `budget_missing`: the OPD has no budget for the fiscal year;
    - 409 `pagu_exceeded`: placed, uncancelled spend would exceed the pagu;
    - 422: an empty order, a quantity that is not a whole number >= 1, a product on two lines
      (`lines.N.product_id`; lines are not merged), or products of several vendors (`lines`).

    A retry with the same `Idempotency-Key` gets the first answer (header
    `Idempotent-Replayed: true`) and creates nothing; the key reused for another body is 422.
    """
    return respond(await service.place_order(engine, principal, request, idempotency_key))


@orders.post("/orders/check")
async def check_order(
    request: PlaceOrder, principal: CurrentPrincipal, sessions: Sessions
) -> OrderCheck:
    """What `POST /orders` with this body would do, computed the same way, changing nothing
    (no order, no event): the total and the remaining pagu, per line whether it would be a
    substitution line and the PDN-wajib products of its category it would pass over (up to
    five: UMK-K first, then the OPD's own kab/kota, then the cheapest), whether it would be a
    reserved-package violation, and the OPD's shares before and after it (over placed,
    uncancelled orders). The same scope (the buyer of the OPD) and the same 403/409/422 as
    `POST /orders`, except that an order above the remaining pagu is answered with
    `within_pagu: false` rather than 409."""
    return await service.check_order(sessions, principal, request)


_CHANGED: dict[int | str, dict[str, object]] = {
    200: {"description": "The order as it now is (or, on a retry, as first answered)"}
}


@orders.post("/orders/{order_id}/accept", response_model=OrderPublic, responses=_CHANGED)
async def accept_order(
    order_id: OrderIdPath,
    principal: CurrentPrincipal,
    sessions: Sessions,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The vendor the order is addressed to accepts it (placed → accepted). A retry with the
    same `Idempotency-Key` gets the first answer and changes nothing."""
    return respond(
        await service.change_order(
            sessions, principal, order_id, OrderAction.ACCEPT, idempotency_key
        )
    )


@orders.post("/orders/{order_id}/complete", response_model=OrderPublic, responses=_CHANGED)
async def complete_order(
    order_id: OrderIdPath,
    principal: CurrentPrincipal,
    sessions: Sessions,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The buyer records the handover (BAST): accepted → completed. A retry with the same
    `Idempotency-Key` gets the first answer and changes nothing."""
    return respond(
        await service.change_order(
            sessions, principal, order_id, OrderAction.COMPLETE, idempotency_key
        )
    )


@orders.post("/orders/{order_id}/cancel", response_model=OrderPublic, responses=_CHANGED)
async def cancel_order(
    order_id: OrderIdPath,
    body: CancelOrder,
    principal: CurrentPrincipal,
    sessions: Sessions,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The buyer cancels a placed or accepted order. A retry with the same `Idempotency-Key`
    gets the first answer and changes nothing."""
    return respond(
        await service.change_order(
            sessions, principal, order_id, OrderAction.CANCEL, idempotency_key, body.reason
        )
    )


@orders.get("/orders/{order_id}")
async def get_order(
    order_id: OrderIdPath, principal: CurrentPrincipal, sessions: Sessions
) -> OrderPublic:
    return await service.get_order(sessions, principal, order_id)


@orders.get("/orders")
async def list_orders(
    principal: CurrentPrincipal,
    sessions: Sessions,
    paging: Paging,
    opd_code: Annotated[
        str | None, Query(min_length=1, max_length=100, json_schema_extra={"pattern": OPD_CODE})
    ] = None,
    fiscal_year: FiscalYearQuery = None,
    status: OrderStatus | None = None,
) -> Page[OrderPublic]:
    return await service.list_orders(
        sessions,
        principal,
        opd_code=opd_code,
        fiscal_year=fiscal_year,
        status=status,
        paging=paging,
    )
