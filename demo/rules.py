"""Calls made to be refused, to show the rules at work: a desk refusing a bad NIB or NPWP, the
catalogue refusing an unverified vendor, purchasing refusing an order over the pagu. Each answer
is recorded beside the status the contract says it must be."""

import httpx

from demo import identifiers
from demo.api import problem
from demo.context import Context
from demo.ledger import Rejection
from demo.registry import registration
from demo.world import Opd


async def show_registration_rules(ctx: Context) -> None:
    """Registrations a desk must refuse, and a registration outside the desk's region."""
    first = ctx.world.vendors[0]
    rng = ctx.rng("rules")
    good = registration(first, identifiers.nib(rng))
    cases: list[tuple[str, dict[str, object], str, int]] = [
        ("NIB of 12 digits", {**good, "nib": identifiers.nib(rng)[:12]}, first.region_code, 422),
        ("NIB with a letter", {**good, "nib": "91200A1234567"}, first.region_code, 422),
        (
            "NPWP with a wrong check digit",
            {**good, "npwp": identifiers.with_wrong_check_digit(identifiers.npwp(rng))},
            first.region_code,
            422,
        ),
        ("NPWP of 14 digits", {**good, "npwp": identifiers.npwp(rng)[:14]}, first.region_code, 422),
        (
            "NIB already registered",
            {**good, "nib": ctx.ledger.vendor_nibs.get(first.key, "")},
            first.region_code,
            409,
        ),
        ("KBLI of 4 digits", {**good, "kbli": ["1313"]}, first.region_code, 422),
    ]
    for what, body, region, expected in cases:
        token = ctx.desk(f"mpp-rules/{region}", region)
        response = await ctx.api.call("registration", "POST", "/vendors", token=token, body=body)
        record(ctx, f"register: {what}", expected, response)
    other = next(r for r in ("33.74", "33.75") if r != first.region_code)
    token = ctx.desk(f"mpp-rules/{other}", other)
    response = await ctx.api.call("registration", "POST", "/vendors", token=token, body=good)
    record(ctx, "register: a desk of another kota", 403, response)


def record(ctx: Context, what: str, expected: int, response: httpx.Response) -> None:
    body = problem(response)
    detail = str(body.get("detail") or body.get("errors") or body.get("title") or "")
    ctx.ledger.rejections.append(Rejection(what, expected, response.status_code, detail[:160]))


async def show_catalog_rules(ctx: Context) -> None:
    pending = next((v for v in ctx.world.vendors if v.fate == "unverified"), None)
    if pending is None or pending.key not in ctx.ledger.vendor_ids:
        return
    body = {
        "vendor_id": ctx.ledger.vendor_ids[pending.key],
        "catalog": "toko_daring",
        "category": pending.categories[0],
        "name": "Produk Uji",
        "unit": "buah",
        "price_idr": 10_000,
        "domestic": True,
    }
    response = await ctx.api.call(
        "catalog", "POST", "/products", token=ctx.vendor(pending.key), body=body
    )
    record(ctx, "list: a vendor not verified", 409, response)
    first = ctx.world.products[0]
    if first.key not in ctx.ledger.product_ids:
        return
    response = await ctx.api.call(
        "catalog",
        "PUT",
        f"/products/{ctx.ledger.product_ids[first.key]}/tkdn",
        token=ctx.vendor(first.vendor_key),
        body={"tkdn_pct": 140, "bmp_pct": 5, "certificate_no": "X", "valid_until": "2030-01-01"},
    )
    record(ctx, "certify: TKDN of 140 %", 422, response)


async def show_order_rules(ctx: Context) -> None:
    """Orders purchasing must refuse: two vendors in one order, more than the pagu left, a BAST
    before the vendor accepted."""
    world, ledger = ctx.world, ctx.ledger
    if not ledger.orders:
        return
    sample = ledger.orders[0]
    opd = next(o for o in world.opds if o.code == sample.opd_code)
    token = ctx.buyer(opd.code, opd.region_code)
    vendor_of = {
        ledger.product_ids[p.key]: p.vendor_key
        for p in world.products
        if p.key in ledger.product_ids
    }
    first = sample.lines[0].product_id
    stranger = next(
        (
            pid
            for pid, v in vendor_of.items()
            if v != vendor_of[first] and _orderable(ctx, pid, opd)
        ),
        None,
    )
    if stranger:
        body = {
            "opd_code": opd.code,
            "fiscal_year": world.fiscal_year,
            "lines": [
                {"product_id": first, "quantity": 1},
                {"product_id": stranger, "quantity": 1},
            ],
        }
        response = await ctx.api.call("purchasing", "POST", "/orders", token=token, body=body)
        await _keep_if_placed(ctx, "order: products of two vendors", 422, response)
    budget = ledger.budgets[opd.code]
    committed = sum(
        o.total_idr for o in ledger.orders if o.opd_code == opd.code and o.status != "cancelled"
    )
    quantity = min((budget.pagu_idr - committed) // sample.lines[0].unit_price_idr + 1, 10**9)
    body = {
        "opd_code": opd.code,
        "fiscal_year": world.fiscal_year,
        "lines": [{"product_id": first, "quantity": quantity}],
    }
    response = await ctx.api.call("purchasing", "POST", "/orders", token=token, body=body)
    await _keep_if_placed(ctx, "order: more than the pagu left", 409, response)
    waiting = next((o for o in ledger.orders if o.status == "placed"), None)
    if waiting:
        buyer = ctx.buyer(waiting.opd_code, waiting.region_code)
        response = await ctx.api.call(
            "purchasing", "POST", f"/orders/{waiting.order_id}/complete", token=buyer
        )
        record(ctx, "complete: an order the vendor has not accepted", 409, response)


def _orderable(ctx: Context, product_id: str, opd: Opd) -> bool:
    product = next(p for p in ctx.world.products if ctx.ledger.product_ids.get(p.key) == product_id)
    vendor = ctx.world.vendors[product.vendor_key]
    return (
        product.delist is None
        and vendor.orderable
        and (product.catalog != "lokal" or product.catalog_region_code == opd.region_code)
    )


async def _keep_if_placed(ctx: Context, what: str, expected: int, response: httpx.Response) -> None:
    """Records the answer; should the service have placed the order after all, it is real spend
    now, and is cancelled so the figures stay as planned (and both sides count it the same)."""
    record(ctx, what, expected, response)
    if response.status_code == 201:
        ctx.failures.append(f"{what}: expected {expected}, the order was placed")
        order = response.json()
        opd = next(o for o in ctx.world.opds if o.code == order["opd_code"])
        await ctx.api.call(
            "purchasing",
            "POST",
            f"/orders/{order['order_id']}/cancel",
            token=ctx.buyer(opd.code, opd.region_code),
            body={"reason": "Salah input"},
        )
