"""P3DN matching before the order: a few PPK ask `POST /orders/check` about a product that would be
a substitution line, take the first PDN-wajib alternative of this run's the check names, check
again, and order that instead. The scenario judges the answers from its own account of the
catalogue (every product of its own the check names is a displayed PDN-wajib product of the
category) and records the orders in the ledger like any other, so that its independent computation
of the figures still compares with reporting's.

The catalogue log is shared with earlier runs and other clients, whose cheaper local PDN-wajib
products can fill a category's five best. The scenario knows only its own products' facts, so when
the check names none of them the buyer takes this run's cheapest PDN-wajib product of the category
that it may buy instead: still the swap the check advised, and the step does not depend on what
else the log holds."""

from typing import Any

from demo import demand, orders
from demo.api import Unexpected
from demo.context import Context
from demo.ledger import Match, Order
from demo.world import Opd, Product, meets_pdn_wajib

BUYERS = 5
TRIES = 30
"""Checks at most: where other runs' products fill a category's five best, the next is tried."""


def _displayed(ctx: Context, product: Product) -> bool:
    """Displayed when the orders are placed: listed, never taken down, its vendor not suspended
    (a reinstated vendor's products are relisted)."""
    vendor = ctx.world.vendor_of(product)
    return (
        product.key in ctx.ledger.product_ids
        and product.delist is None
        and vendor.fate in ("verified", "reinstated")
    )


async def _check(ctx: Context, opd: Opd, product_id: str) -> dict[str, Any]:
    body = _body(ctx, opd, product_id)
    token = ctx.buyer(opd.code, opd.region_code)
    response = await ctx.api.call("purchasing", "POST", "/orders/check", token=token, body=body)
    if response.status_code != 200:
        raise Unexpected(f"check an order of {opd.code}", response)
    answer: dict[str, Any] = response.json()
    return answer


def _body(ctx: Context, opd: Opd, product_id: str) -> dict[str, Any]:
    return {
        "opd_code": opd.code,
        "fiscal_year": ctx.world.fiscal_year,
        "lines": [{"product_id": product_id, "quantity": 1}],
    }


async def take_alternatives(ctx: Context) -> None:
    world, ledger = ctx.world, ctx.ledger
    alternatives = orders.categories_with_pdn_wajib(ctx)
    key_of = {product_id: key for key, product_id in ledger.product_ids.items()}
    candidates = [
        p
        for p in world.products
        if world.vendor_of(p).orderable
        and _displayed(ctx, p)
        and p.category in alternatives
        and not meets_pdn_wajib(*p.final_tkdn)
    ]
    rng = ctx.rng("matching")
    rng.shuffle(candidates)
    progress = ctx.log.progress("P3DN matching: orders checked first", BUYERS)
    for number, product in enumerate(candidates[:TRIES]):
        if len(ledger.matches) == BUYERS:
            break
        opd = rng.choice(world.opds)
        try:
            if await _match(ctx, opd, product, key_of, alternatives, number):
                progress.tick()
        except Unexpected as error:
            ctx.failures.append(str(error))
    before = sum(m.substitution_before for m in ledger.matches)
    after = sum(m.substitution_after for m in ledger.matches)
    progress.finish(f"substitution lines {before} → {after}")


async def _match(
    ctx: Context,
    opd: Opd,
    product: Product,
    key_of: dict[str, int],
    alternatives: set[str],
    number: int,
) -> bool:
    """True when the buyer ordered the alternative."""
    world, ledger = ctx.world, ctx.ledger
    checked = await _check(ctx, opd, ledger.product_ids[product.key])
    (line,) = checked["lines"]
    suggested: list[str] = line["pdn_alternatives"]
    ours = [
        p
        for p in world.products
        if p.category == product.category and _displayed(ctx, p) and meets_pdn_wajib(*p.final_tkdn)
    ]
    # Of this run's products, only displayed PDN-wajib ones of the category may be named.
    named_of_ours = [key_of[p] for p in suggested if p in key_of]
    if not line["pdn_alternative_available"] or not set(named_of_ours) <= {p.key for p in ours}:
        ledger.snapshot_mismatches.append(
            f"check of {product.name}: suggested {suggested}, the scenario's PDN-wajib"
            f" {[ledger.product_ids[p.key] for p in ours]}"
        )
        return False
    if named_of_ours:
        taken = world.products[named_of_ours[0]]
    else:
        buyable = [p for p in ours if world.vendor_of(p).orderable and demand.may_buy(opd, p)]
        if not buyable:
            return False
        taken = min(buyable, key=lambda p: (p.final_price_idr, p.key))
    again = await _check(ctx, opd, ledger.product_ids[taken.key])
    if not again["within_pagu"]:
        return False
    response = await ctx.api.call(
        "purchasing",
        "POST",
        "/orders",
        token=ctx.buyer(opd.code, opd.region_code),
        body=_body(ctx, opd, ledger.product_ids[taken.key]),
        idempotency_key=ctx.key("match", number),
    )
    if response.status_code != 201:
        raise Unexpected(f"order the alternative of {product.name}", response)
    answered = response.json()
    if answered["lines"] != again["lines"]:
        ledger.snapshot_mismatches.append(f"order {answered['order_id']}: differs from its check")
    vendor = world.vendor_of(taken)
    order = Order(
        order_id=answered["order_id"],
        opd_code=opd.code,
        region_code=opd.region_code,
        fiscal_year=world.fiscal_year,
        vendor_scale=vendor.scale,
        vendor_legal_form=vendor.legal_form,
        vendor_region_code=vendor.region_code,
        lines=(orders.expected_line(ctx, taken, 1, alternatives),),
    )
    orders.compare_snapshot(ctx, order, answered)
    ledger.orders.append(order)
    ledger.matches.append(
        Match(
            opd_code=opd.code,
            checked=product.name,
            suggested=len(suggested),
            taken=taken.name,
            named=bool(named_of_ours),
            substitution_before=True,
            substitution_after=order.lines[0].pdn_alternative_available,
        )
    )
    return True


def print_matches(ctx: Context) -> None:
    matches, log = ctx.ledger.matches, ctx.log
    if not matches:
        return
    log.plain()
    before = sum(m.substitution_before for m in matches)
    after = sum(m.substitution_after for m in matches)
    log.plain(
        f"P3DN matching (POST /orders/check before ordering): {len(matches)} buyers were told"
        f" their line would be a PDN substitution and took the best alternative of this run's"
        f" catalogue;"
        f" substitution lines {before} → {after}"
    )
    for m in matches:
        log.plain(
            f"  {m.opd_code:<24} {m.checked[:40]:<40} → {m.taken[:40]:<40}"
            f" ({m.suggested} suggested{'' if m.named else ', none of this run'})"
        )
