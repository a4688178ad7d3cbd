"""The fiscal year's e-purchasing, quarter by quarter: orders placed by the OPDs' PPK, accepted by
vendors, completed at the BAST or cancelled; the budget revision (APBD-Perubahan) in the third
quarter. Every order that succeeds goes into the ledger with the facts the scenario listed it with.
"""

from decimal import Decimal
from typing import Any

import httpx

from demo import registry
from demo.api import Unexpected, problem
from demo.context import Context
from demo.ledger import Line, Order
from demo.world import QUARTERS, OrderPlan, Product, meets_pdn_wajib

CANCEL_REASONS = (
    "Kebutuhan dibatalkan karena refocusing anggaran",
    "Penyedia tidak sanggup memenuhi jadwal pengiriman",
    "Spesifikasi barang tidak sesuai kebutuhan",
    "Harga melebihi HPS setelah negosiasi",
)


def _purchasing_not_ready(response: httpx.Response) -> bool:
    """Purchasing has not heard of the product or its vendor yet."""
    return response.status_code == 409 and problem(response).get("rule") in (
        "product_unknown",
        "vendor_unknown",
    )


def categories_with_pdn_wajib(ctx: Context) -> set[str]:
    """Categories holding a displayed product with TKDN >= 25 and TKDN + BMP >= 40, by the
    scenario's own account of its catalogue when the orders are placed."""
    world = ctx.world
    return {
        p.category
        for p in world.products
        if p.key in ctx.ledger.product_ids
        and p.delist is None
        and world.vendors[p.vendor_key].orderable
        and meets_pdn_wajib(*p.final_tkdn)
    }


def expected_order(ctx: Context, plan: OrderPlan, order_id: str, alternatives: set[str]) -> Order:
    world = ctx.world
    products = [world.products[key] for key, _ in plan.lines]
    vendor = world.vendor_of(products[0])
    opd = next(o for o in world.opds if o.code == plan.opd_code)
    return Order(
        order_id=order_id,
        opd_code=opd.code,
        region_code=opd.region_code,
        fiscal_year=world.fiscal_year,
        vendor_scale=vendor.scale,
        vendor_legal_form=vendor.legal_form,
        vendor_region_code=vendor.region_code,
        lines=tuple(
            expected_line(ctx, product, quantity, alternatives)
            for product, (_, quantity) in zip(products, plan.lines, strict=True)
        ),
    )


def expected_line(ctx: Context, product: Product, quantity: int, alternatives: set[str]) -> Line:
    tkdn, bmp = product.final_tkdn
    return Line(
        product_id=ctx.ledger.product_ids[product.key],
        category=product.category,
        catalog=product.catalog,
        quantity=quantity,
        unit_price_idr=product.final_price_idr,
        domestic=product.domestic,
        tkdn_pct=tkdn,
        bmp_pct=bmp,
        pdn_alternative_available=product.category in alternatives
        and not meets_pdn_wajib(tkdn, bmp),
    )


def compare_snapshot(ctx: Context, expected: Order, answered: dict[str, Any]) -> None:
    """Purchasing snapshots what it last heard; differences mean its view was behind."""
    got = [
        (
            line["product_id"],
            line["unit_price_idr"],
            line["domestic"],
            None if line.get("tkdn_pct") is None else Decimal(str(line["tkdn_pct"])),
            line["pdn_alternative_available"],
        )
        for line in answered["lines"]
    ]
    want = [
        (ln.product_id, ln.unit_price_idr, ln.domestic, ln.tkdn_pct, ln.pdn_alternative_available)
        for ln in expected.lines
    ]
    facts = (
        answered["vendor_scale"],
        answered["vendor_legal_form"],
        answered["vendor_region_code"],
    )
    if got != want or facts != (
        expected.vendor_scale,
        expected.vendor_legal_form,
        expected.vendor_region_code,
    ):
        ctx.ledger.snapshot_mismatches.append(f"order {expected.order_id}: {got} != {want}")


async def _place(ctx: Context, plan: OrderPlan, alternatives: set[str]) -> Order:
    opd = next(o for o in ctx.world.opds if o.code == plan.opd_code)
    body = {
        "opd_code": opd.code,
        "fiscal_year": ctx.world.fiscal_year,
        "rup_code": str(40_000_000 + plan.key * 7919 % 9_000_000),
        "lines": [
            {"product_id": ctx.ledger.product_ids[key], "quantity": quantity}
            for key, quantity in plan.lines
        ],
    }
    response = await ctx.api.call(
        "purchasing",
        "POST",
        "/orders",
        token=ctx.buyer(opd.code, opd.region_code),
        body=body,
        idempotency_key=ctx.key("order", plan.key),
        retry_while=_purchasing_not_ready,
    )
    if response.status_code != 201:
        raise Unexpected(f"order {plan.key} of {opd.code}", response)
    answered = response.json()
    order = expected_order(ctx, plan, answered["order_id"], alternatives)
    compare_snapshot(ctx, order, answered)
    ctx.ledger.orders.append(order)
    return order


async def _move(ctx: Context, order: Order, action: str, plan: OrderPlan) -> None:
    """accept (the vendor), complete or cancel (the buyer); on a lost answer, asks the order."""
    if action == "accept":
        token = ctx.vendor(ctx.world.products[plan.lines[0][0]].vendor_key)
    else:
        token = ctx.buyer(order.opd_code, order.region_code)
    body = (
        {"reason": CANCEL_REASONS[plan.key % len(CANCEL_REASONS)]} if action == "cancel" else None
    )
    path = f"/orders/{order.order_id}"
    response = await ctx.api.call("purchasing", "POST", f"{path}/{action}", token=token, body=body)
    target = {"accept": "accepted", "complete": "completed", "cancel": "cancelled"}[action]
    if response.status_code == 409:  # a retried call whose first answer was lost?
        current = await ctx.api.json("purchasing", "GET", path, "order", token=ctx.auditor())
        if current.get("status") == target:
            order.moved_to(target)
            return
    if response.status_code != 200:
        raise Unexpected(f"{action} order {order.order_id}", response)
    order.moved_to(target)


def _moves(plan: OrderPlan, quarter: int) -> list[str]:
    """What happens to an order in `quarter`, in order: the vendor accepts, the buyer signs the
    BAST or cancels."""
    moves = []
    if plan.quarter == quarter and plan.fate in ("completed", "cancelled_accepted", "accepted"):
        moves.append("accept")
    if plan.quarter == quarter and plan.fate.startswith("cancelled"):
        moves.append("cancel")
    if plan.fate == "completed" and plan.settle_quarter == quarter:
        moves.append("complete")
    return moves


async def play_year(ctx: Context) -> None:
    world, ledger = ctx.world, ctx.ledger
    alternatives = categories_with_pdn_wajib(ctx)
    placed: dict[int, Order] = {}
    for quarter in range(QUARTERS):
        if quarter == 2 and world.revised_pagu_idr:
            await registry.allocate_budgets(ctx, world.revised_pagu_idr, "APBD-Perubahan budgets")
        plans = [p for p in world.orders if p.quarter == quarter and _listed(ctx, p)]
        progress = ctx.log.progress(f"Q{quarter + 1} orders placed", len(plans))

        async def place(plan: OrderPlan) -> None:
            placed[plan.key] = await _place(ctx, plan, alternatives)

        await ctx.each(plans, place, progress)
        progress.finish()
        moving = [(p, _moves(p, quarter)) for p in world.orders if p.key in placed]
        moving = [(plan, moves) for plan, moves in moving if moves]
        progress = ctx.log.progress(f"Q{quarter + 1} accepted, completed, cancelled", len(moving))

        async def move(item: tuple[OrderPlan, list[str]]) -> None:
            plan, moves = item
            for action in moves:
                await _move(ctx, placed[plan.key], action, plan)

        await ctx.each(moving, move, progress)
        progress.finish(
            f"so far {ledger.count('completed')} completed, {ledger.count('cancelled')} cancelled,"
            f" {ledger.count('accepted') + ledger.count('placed')} in progress"
        )


def _listed(ctx: Context, plan: OrderPlan) -> bool:
    return all(key in ctx.ledger.product_ids for key, _ in plan.lines)
