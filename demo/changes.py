"""The catalogue moving before the year's orders: new prices, new TKDN certificates, products taken
down by their vendor or by the UKPBJ, vendors' profiles updated, a few vendors suspended and one
reinstated (catalog delists and relists their products on hearing of it)."""

from demo.context import Context
from demo.world import Product, Vendor

SUSPENSION_REASONS = (
    "Dokumen NIB tidak sesuai hasil verifikasi lapangan",
    "Sanksi daftar hitam dari LKPP",
    "Izin usaha habis masa berlakunya",
    "Terindikasi persekongkolan harga (laporan APIP)",
)


def _listed(ctx: Context, products: list[Product]) -> list[Product]:
    return [p for p in products if p.key in ctx.ledger.product_ids]


async def change_catalogue(ctx: Context) -> None:
    world = ctx.world
    repriced = _listed(ctx, [p for p in world.products if p.new_price_idr])
    certified = _listed(ctx, [p for p in world.products if p.certification])
    delisted = _listed(ctx, [p for p in world.products if p.delist])
    work = [("price", p) for p in repriced] + [("tkdn", p) for p in certified]
    work += [("delist", p) for p in delisted]
    progress = ctx.log.progress("catalogue changes", len(work))

    async def apply(item: tuple[str, Product]) -> None:
        kind, product = item
        product_id = ctx.ledger.product_ids[product.key]
        path, method, token = f"/products/{product_id}", "POST", ctx.vendor(product.vendor_key)
        body: dict[str, object] = {}
        if kind == "price":
            path, method, body = path + "/price", "PATCH", {"price_idr": product.new_price_idr}
        elif kind == "tkdn":
            assert product.certification is not None
            cert = product.certification
            path, method = path + "/tkdn", "PUT"
            body = {
                "tkdn_pct": float(cert.tkdn_pct),
                "bmp_pct": float(cert.bmp_pct),
                "certificate_no": cert.certificate_no,
                "valid_until": cert.valid_until,
            }
        else:
            path, body = path + "/delist", {"reason": product.delist}
            if product.delist == "admin":
                token = ctx.admin(product.catalog_region_code or "")
        await ctx.api.json(
            "catalog", method, path, f"{kind} {product.name}", token=token, body=body
        )

    await ctx.each(work, apply, progress)
    progress.finish(
        f"{len(repriced)} prices changed, {len(certified)} TKDN certificates,"
        f" {len(delisted)} products taken down"
    )


async def update_and_suspend_vendors(ctx: Context) -> None:
    world = ctx.world
    registered = [v for v in world.vendors if v.key in ctx.ledger.vendor_ids]
    growing = [v for v in registered if v.fate == "verified"][:: max(1, len(registered) // 12)]
    suspended = [v for v in registered if v.fate in ("suspended", "reinstated")]
    progress = ctx.log.progress("vendor changes", len(growing) + len(suspended))

    async def add_kbli(vendor: Vendor) -> None:
        # a new line of business (KBLI 47911: retail by mail order or internet)
        await ctx.api.json(
            "registration",
            "PATCH",
            f"/vendors/{ctx.ledger.vendor_ids[vendor.key]}",
            f"update {vendor.name}",
            token=ctx.admin(vendor.region_code),
            body={"kbli": [*vendor.kbli, "47911"]},
        )

    async def suspend(vendor: Vendor) -> None:
        reason = SUSPENSION_REASONS[vendor.key % len(SUSPENSION_REASONS)]
        await ctx.api.json(
            "registration",
            "POST",
            f"/vendors/{ctx.ledger.vendor_ids[vendor.key]}/suspend",
            f"suspend {vendor.name}",
            token=ctx.admin(vendor.region_code),
            body={"reason": reason},
        )

    await ctx.each(growing, add_kbli, progress)
    await ctx.each(suspended, suspend, progress)
    for vendor in suspended:
        if vendor.fate == "reinstated":
            await ctx.api.json(
                "registration",
                "POST",
                f"/vendors/{ctx.ledger.vendor_ids[vendor.key]}/reinstate",
                f"reinstate {vendor.name}",
                token=ctx.admin(vendor.region_code),
            )
    reinstated = sum(1 for v in suspended if v.fate == "reinstated")
    progress.finish(
        f"{len(growing)} profiles updated, {len(suspended)} suspended, {reinstated} reinstated"
    )
