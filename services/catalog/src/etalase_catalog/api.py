"""The catalog's HTTP routes (api.md, "catalog"): reads are public, writes need a token."""

from decimal import Decimal
from typing import Annotated

from etalase_events.models import Catalog
from etalase_events.primitives import KabKotaCode
from etalase_platform.auth import CurrentPrincipal
from etalase_platform.deps import IdempotencyKey, Page, Paging, RegionFilter, Sessions
from etalase_platform.idempotency import respond
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from etalase_catalog import service
from etalase_catalog.db import ProductFilter, ProductSort
from etalase_catalog.domain import ProductStatus
from etalase_catalog.schemas import (
    CategoryCount,
    DelistRequest,
    PriceChange,
    ProductCreate,
    ProductPublic,
    TkdnCertificate,
)

router = APIRouter(tags=["catalog"])


@router.post("/products", status_code=201, response_model=ProductPublic)
async def list_product(
    body: ProductCreate,
    principal: CurrentPrincipal,
    sessions: Sessions,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """List a product (tayang). Only a verified, unsuspended vendor, for itself; otherwise 409
    with `rule`: `vendor_unknown` or `vendor_not_verified` while the catalog has not heard of its
    registration or verification (retry once the events arrived), `vendor_suspended`, or
    `lokal_outside_vendor_region` for a lokal product outside the vendor's region."""
    return respond(await service.list_product(sessions, principal, body, idempotency_key))


@router.get("/products/{product_id}")
async def get_product(product_id: str, sessions: Sessions) -> ProductPublic:
    return await service.get_product(sessions, product_id)


@router.get("/products")
async def search_products(
    sessions: Sessions,
    paging: Paging,
    vendor_id: str | None = None,
    catalog: Catalog | None = None,
    category: str | None = None,
    region_code: RegionFilter = None,
    status: ProductStatus | None = None,
    q: Annotated[str | None, Query(description="Words in the name or brand, any case")] = None,
    pdn_wajib: Annotated[
        bool | None,
        Query(description="TKDN >= 25 and TKDN + BMP >= 40 (a missing BMP counts as 0), or not"),
    ] = None,
    tkdn_min: Annotated[
        Decimal | None, Query(ge=0, le=100, description="TKDN at least this (percent)")
    ] = None,
    umkk: Annotated[
        bool | None,
        Query(description="The vendor is usaha mikro, kecil or a koperasi (any size), or not"),
    ] = None,
    local_to: Annotated[
        KabKotaCode | None, Query(description="The vendor is of this kab/kota (e.g. the buyer's)")
    ] = None,
    sort: Annotated[
        ProductSort,
        Query(
            description="`newest` (default), or `p3dn`: PDN-wajib first, then UMK-K, then"
            " vendors of `local_to`, then the cheapest"
        ),
    ] = ProductSort.NEWEST,
) -> Page[ProductPublic]:
    """Search the catalogue. The vendor filters (`region_code`, `umkk`, `local_to`) read the
    vendor as catalog last heard of it from registration, not as it was when listing."""
    where = ProductFilter(
        vendor_id=vendor_id,
        catalog=catalog,
        category=category,
        region_code=region_code,
        status=status,
        text=q.strip() if q else None,
        pdn_wajib=pdn_wajib,
        tkdn_min=tkdn_min,
        umkk=umkk,
        local_to=local_to,
    )
    return await service.search_products(sessions, where, paging, sort)


@router.get("/categories")
async def categories(
    sessions: Sessions,
    paging: Paging,
    catalog: Catalog | None = None,
    region_code: RegionFilter = None,
) -> Page[CategoryCount]:
    """Categories with their count of displayed products."""
    return await service.categories(sessions, catalog, region_code, paging)


@router.patch("/products/{product_id}/price")
async def change_price(
    product_id: str, body: PriceChange, principal: CurrentPrincipal, sessions: Sessions
) -> ProductPublic:
    return await service.change_price(sessions, principal, product_id, body)


@router.put("/products/{product_id}/tkdn")
async def certify_tkdn(
    product_id: str, body: TkdnCertificate, principal: CurrentPrincipal, sessions: Sessions
) -> ProductPublic:
    return await service.certify_tkdn(sessions, principal, product_id, body)


@router.post("/products/{product_id}/delist")
async def delist(
    product_id: str,
    principal: CurrentPrincipal,
    sessions: Sessions,
    body: DelistRequest | None = None,
) -> ProductPublic:
    """By its vendor (`vendor_request`) or by the admin of the region whose local catalogue it is
    in (`admin`). 409 `transition_forbidden` when already delisted, `vendor_suspended` while its
    vendor is suspended."""
    reason = body.reason if body else None
    return await service.delist(sessions, principal, product_id, reason)


@router.post("/products/{product_id}/relist")
async def relist(product_id: str, principal: CurrentPrincipal, sessions: Sessions) -> ProductPublic:
    """Display a delisted product again; whoever delisted it relists it (else 409
    `relist_by_delister_only`; 409 `transition_forbidden` when it is displayed)."""
    return await service.relist(sessions, principal, product_id)
