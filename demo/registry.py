"""Phases before the first order: budgets, vendors at the MPP desks and online, their products,
and the catalogue's changes through the year's first weeks."""

import httpx

from demo import identifiers
from demo.api import Unexpected, problem
from demo.context import Context
from demo.ledger import Budget
from demo.world import Product, Vendor


async def allocate_budgets(ctx: Context, pagu: dict[str, int], label: str) -> None:
    fy = ctx.world.fiscal_year
    opds = [opd for opd in ctx.world.opds if opd.code in pagu]
    progress = ctx.log.progress(label, len(opds))

    async def allocate(opd_code: str) -> None:
        opd = next(o for o in ctx.world.opds if o.code == opd_code)
        body = {"opd_name": opd.name, "region_code": opd.region_code, "pagu_idr": pagu[opd_code]}
        await ctx.api.json(
            "purchasing",
            "PUT",
            f"/budgets/{fy}/{opd_code}",
            f"budget {opd_code}",
            token=ctx.admin(opd.region_code),
            body=body,
        )
        ctx.ledger.budgets[opd_code] = Budget(opd_code, opd.name, opd.region_code, pagu[opd_code])

    await ctx.each([opd.code for opd in opds], allocate, progress)
    total = sum(pagu[opd.code] for opd in opds)
    progress.finish(f"{len(opds)} OPDs, pagu Rp{total:,}".replace(",", "."))


def registration(vendor: Vendor, nib: str) -> dict[str, object]:
    body: dict[str, object] = {
        "nib": nib,
        "npwp": identifiers.printed_npwp(vendor.npwp) if len(vendor.npwp) == 15 else vendor.npwp,
        "name": vendor.name,
        "legal_form": vendor.legal_form,
        "scale": vendor.scale,
        "region_code": vendor.region_code,
        "kbli": vendor.kbli,
        "address": vendor.address,
    }
    if vendor.phone:
        body["phone"] = vendor.phone
    if vendor.email:
        body["email"] = vendor.email
    return body


def _registrar(ctx: Context, vendor: Vendor) -> str:
    if vendor.desk:
        return ctx.desk(vendor.desk, vendor.region_code)
    return ctx.admin(vendor.region_code)


async def register_vendors(ctx: Context) -> None:
    vendors = ctx.world.vendors
    progress = ctx.log.progress("vendors registered", len(vendors))
    renumbered = 0

    async def register(vendor: Vendor) -> None:
        nonlocal renumbered
        nib = vendor.nib
        rng = ctx.rng("nib", vendor.key)
        for attempt in range(5):
            response = await ctx.api.call(
                "registration",
                "POST",
                "/vendors",
                token=_registrar(ctx, vendor),
                body=registration(vendor, nib),
                idempotency_key=ctx.key("vendor", vendor.key, attempt),
            )
            if response.status_code == 201:
                ctx.ledger.vendor_ids[vendor.key] = response.json()["vendor_id"]
                ctx.ledger.vendor_nibs[vendor.key] = nib
                return
            if response.status_code != 409:
                raise Unexpected(f"register {vendor.name}", response)
            renumbered += 1  # an earlier run drew the same NIB: draw another
            nib = identifiers.nib(rng)
        raise Unexpected(f"register {vendor.name}", response)

    await ctx.each(vendors, register, progress)
    desk = sum(1 for v in vendors if v.channel == "mpp_desk")
    progress.finish(
        f"{desk} at MPP desks, {len(vendors) - desk} online"
        + (f", {renumbered} NIBs already taken and redrawn" if renumbered else "")
    )


async def verify_vendors(ctx: Context) -> None:
    to_verify = [v for v in ctx.world.vendors if v.fate != "unverified"]
    progress = ctx.log.progress("vendors verified", len(to_verify))

    async def verify(vendor: Vendor) -> None:
        vendor_id = ctx.ledger.vendor_ids[vendor.key]
        await ctx.api.json(
            "registration",
            "POST",
            f"/vendors/{vendor_id}/verify",
            f"verify {vendor.name}",
            token=_registrar(ctx, vendor),
        )

    await ctx.each([v for v in to_verify if v.key in ctx.ledger.vendor_ids], verify, progress)
    progress.finish(f"{len(ctx.world.vendors) - len(to_verify)} still awaiting documents")


def _catalog_not_ready(response: httpx.Response) -> bool:
    """Catalog has not heard yet that the vendor is verified: worth asking again."""
    if response.status_code != 409:
        return False
    return problem(response).get("vendor_status") in ("unknown", "registered")


def _listing(ctx: Context, product: Product) -> dict[str, object]:
    body: dict[str, object] = {
        "vendor_id": ctx.ledger.vendor_ids[product.vendor_key],
        "catalog": product.catalog,
        "category": product.category,
        "name": product.name,
        "brand": product.brand,
        "unit": product.unit,
        "price_idr": product.price_idr,
        "domestic": product.domestic,
    }
    if product.catalog_region_code:
        body["catalog_region_code"] = product.catalog_region_code
    if product.tkdn_pct is not None:
        body["tkdn_pct"] = float(product.tkdn_pct)
        body["bmp_pct"] = float(product.bmp_pct or 0)
        body["tkdn_certificate_no"] = product.certificate_no
    return body


async def list_products(ctx: Context) -> None:
    products = [p for p in ctx.world.products if p.vendor_key in ctx.ledger.vendor_ids]
    progress = ctx.log.progress("products listed", len(products))

    async def list_one(product: Product) -> None:
        response = await ctx.api.call(
            "catalog",
            "POST",
            "/products",
            token=ctx.vendor(product.vendor_key),
            body=_listing(ctx, product),
            idempotency_key=ctx.key("product", product.key),
            retry_while=_catalog_not_ready,
        )
        if response.status_code != 201:
            raise Unexpected(f"list {product.name}", response)
        ctx.ledger.product_ids[product.key] = response.json()["product_id"]

    await ctx.each(products, list_one, progress)
    waits = sum(n for reason, n in ctx.api.retries.items() if reason.startswith("catalog 409"))
    progress.finish(f"{waits} answers of 409 retried while catalog heard of verifications")
