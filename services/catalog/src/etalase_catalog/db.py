"""The catalog's tables and the queries on them.

Tables get their own SQLAlchemy registry: other services also have a `vendors` table, and their
models may be imported into the same process (tests, tools), which one shared metadata forbids.
"""

import json
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from etalase_events.compliance import p3dn_order_by_sql, pdn_wajib_sql, umkk_sql
from etalase_events.models import Catalog, DelistReason, LegalForm, Scale, VendorStatus
from etalase_platform.models import DecimalNumber, TextEnum, entity, store
from etalase_platform.scope import covered_by
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    DateTime,
    Index,
    Numeric,
    Text,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    not_,
    or_,
    text,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import registry
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select, SelectOfScalar

from etalase_catalog.domain import Product, ProductStatus, VendorView


class CatalogTable(SQLModel, registry=registry()):
    pass


PDN_WAJIB = pdn_wajib_sql("products.tkdn_pct", "products.bmp_pct")
"""compliance.md's PDN-wajib on the product row; the partial index below is built from it."""
UMKK = umkk_sql("vendors.scale", "vendors.legal_form")
"""compliance.md's UMK-K on catalog's current view of the vendor."""


class VendorRow(CatalogTable, table=True):
    __tablename__ = "vendors"
    __table_args__ = (Index("vendors_region", "region_code"),)

    vendor_id: str = Field(primary_key=True, sa_type=Text)
    status: VendorStatus | None = Field(default=None, sa_type=TextEnum(VendorStatus))
    legal_form: LegalForm | None = Field(default=None, sa_type=TextEnum(LegalForm))
    scale: Scale | None = Field(default=None, sa_type=TextEnum(Scale))
    region_code: str | None = Field(default=None, sa_type=Text)
    fact_versions: dict[str, int] = Field(
        default_factory=dict, sa_type=JSONB, sa_column_kwargs={"server_default": "{}"}
    )
    """The sequence of the event that set each fact: older events cannot overwrite it."""
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))


class ProductBase(SQLModel):
    """A product's fields, declared once for its row and its public shape (`ProductPublic`
    adds the vendor as catalog last heard of it). Names and meanings are `domain.Product`'s;
    `ProductCreate` keeps its own declarations, as it constrains what a client may send."""

    product_id: str = Field(primary_key=True, sa_type=Text)
    vendor_id: str = Field(foreign_key="vendors.vendor_id", sa_type=Text)
    catalog: Catalog = Field(sa_type=TextEnum(Catalog))
    catalog_region_code: str | None = Field(sa_type=Text)
    category: str = Field(sa_type=Text)
    name: str = Field(sa_type=Text)
    brand: str | None = Field(sa_type=Text)
    unit: str = Field(sa_type=Text)
    price_idr: int = Field(sa_type=BigInteger)
    domestic: bool
    tkdn_pct: DecimalNumber | None = Field(sa_type=Numeric(5, 2))
    bmp_pct: DecimalNumber | None = Field(sa_type=Numeric(5, 2))
    tkdn_certificate_no: str | None = Field(sa_type=Text)
    tkdn_valid_until: date | None = Field(sa_type=Date)
    status: ProductStatus = Field(sa_type=TextEnum(ProductStatus))
    delist_reason: DelistReason | None = Field(sa_type=TextEnum(DelistReason))
    listed_at: datetime = Field(sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))
    version: int = Field(description="The sequence of the product's latest event.")


class ProductRow(ProductBase, CatalogTable, table=True):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_idr > 0", name="products_price_positive"),
        CheckConstraint(
            "catalog <> 'lokal' OR catalog_region_code IS NOT NULL", name="products_lokal_region"
        ),
        Index("products_vendor", "vendor_id", "status"),
        Index("products_catalog", "catalog", "status", "category"),
        Index("products_listed", text("listed_at DESC"), "product_id"),
        # P3DN search (migration 0002): displayed PDN-wajib products of a category by price,
        # any displayed product of a category by price (sort=p3dn), and `tkdn_min`
        Index(
            "products_pdn_wajib",
            "category",
            "price_idr",
            postgresql_where=text(f"status = 'tayang' AND {PDN_WAJIB}"),
        ),
        Index(
            "products_tayang_category_price",
            "category",
            "price_idr",
            postgresql_where=text("status = 'tayang'"),
        ),
        Index("products_tkdn", "tkdn_pct"),
    )


# --- rows <-> domain: by field name, so a new field needs no code here -------------------------


def vendor_view(row: VendorRow) -> VendorView:
    return entity(VendorView, row)


def product(row: ProductRow) -> Product:
    return entity(Product, row)


def store_product(row: ProductRow, state: Product) -> None:
    store(row, state)


def new_product_row(state: Product) -> ProductRow:
    return ProductRow(**asdict(state))


# --- queries ----------------------------------------------------------------------------------


async def lock_vendor(session: AsyncSession, vendor_id: str, *, share: bool) -> VendorRow | None:
    """The vendor row, locked: shared by product changes (which must see the vendor as it stays
    until they commit), exclusive by the consumer changing the vendor. Both lock the vendor
    before its products, so they cannot deadlock."""
    query = select(VendorRow).where(VendorRow.vendor_id == vendor_id)
    query = query.with_for_update(read=share).execution_options(populate_existing=True)
    return (await session.exec(query)).first()


async def product_vendor_id(session: AsyncSession, product_id: str) -> str | None:
    query = select(ProductRow.vendor_id).where(ProductRow.product_id == product_id)
    return (await session.exec(query)).first()


async def lock_product(session: AsyncSession, product_id: str) -> ProductRow | None:
    """Locked so that concurrent changes take turns and never reuse a sequence."""
    query = select(ProductRow).where(ProductRow.product_id == product_id).with_for_update()
    return (await session.exec(query.execution_options(populate_existing=True))).first()


def _text_array(values: Sequence[str]) -> BindParameter[Sequence[str]]:
    """One array parameter, where `in_` would render a parameter per value: the statement's
    text then stays the same whatever the batch's size, so it is compiled and prepared once."""
    return bindparam(None, values, type_=ARRAY(Text))  # anonymous: two in one statement differ


def _following(vendor_ids: list[str]) -> ColumnElement[bool]:
    """The products of `vendor_ids` that a suspension or reinstatement may change."""
    return and_(
        col(ProductRow.vendor_id) == any_(_text_array(vendor_ids)),
        or_(
            col(ProductRow.status) == ProductStatus.TAYANG,
            col(ProductRow.delist_reason) == DelistReason.VENDOR_SUSPENDED,
        ),
    )


_OLDEST_FIRST = (col(ProductRow.vendor_id), col(ProductRow.listed_at), col(ProductRow.product_id))


async def product_with_vendor(
    session: AsyncSession, product_id: str
) -> tuple[ProductRow, VendorRow] | None:
    query = (
        select(ProductRow, VendorRow)
        .join(VendorRow, col(VendorRow.vendor_id) == col(ProductRow.vendor_id))
        .where(ProductRow.product_id == product_id)
    )
    return (await session.exec(query)).first()


# --- the vendor view a batch at a time: Core statements over arrays, no ORM rows -----------------
# (ORM rows built, compared and flushed per event cost more than the statements themselves)

_VENDORS = VendorRow.__table__  # type: ignore[attr-defined]
_PRODUCTS = ProductRow.__table__  # type: ignore[attr-defined]


async def lock_vendor_views(session: AsyncSession, vendor_ids: list[str]) -> dict[str, VendorView]:
    """The views of those of `vendor_ids` that have a row, locked exclusively in `vendor_id`
    order, as the consumer changing them locks them."""
    query = (
        sa_select(*(_VENDORS.c[f.name] for f in fields(VendorView)))
        .where(_VENDORS.c.vendor_id == any_(_text_array(vendor_ids)))
        .order_by(_VENDORS.c.vendor_id)
        .with_for_update()
    )
    connection = await session.connection()
    return {row.vendor_id: entity(VendorView, row) for row in await connection.execute(query)}


_VENDOR_COLUMNS = {
    "vendor_id": "text",
    "status": "text",
    "legal_form": "text",
    "scale": "text",
    "region_code": "text",
    "fact_versions": "jsonb",  # sent as JSON text: arrays of text need no codec of their own
    "version": "integer",
}
_VENDOR_ARRAYS = ", ".join(
    f"CAST(:{c} AS {'text' if t == 'jsonb' else t}[])" for c, t in _VENDOR_COLUMNS.items()
)
_VENDOR_VALUES = ", ".join(f"CAST(u.{c} AS {t})" for c, t in _VENDOR_COLUMNS.items())
_VENDOR_SET = ", ".join(
    f"{c} = CAST(u.{c} AS {t})" for c, t in _VENDOR_COLUMNS.items() if c != "vendor_id"
)
# Rows locked by `lock_vendor_views` are updated, the others inserted, in one round trip. A plain
# INSERT, not an upsert: a row another transaction made since the lock (only while the group
# rebalances) fails the batch, which is applied again and then finds it, rather than being
# overwritten with what was folded without it.
_WRITE_VENDORS = text(
    f"""WITH u AS (
        SELECT * FROM unnest({_VENDOR_ARRAYS}, CAST(:known AS boolean[]))
            AS u({", ".join(_VENDOR_COLUMNS)}, known)
    ), updated AS (
        UPDATE vendors SET {_VENDOR_SET}, updated_at = :now
        FROM u WHERE vendors.vendor_id = u.vendor_id AND u.known
    )
    INSERT INTO vendors ({", ".join(_VENDOR_COLUMNS)}, updated_at)
    SELECT {_VENDOR_VALUES}, :now FROM u WHERE NOT u.known"""
)


async def write_vendor_views(
    session: AsyncSession, views: list[VendorView], *, known: Collection[str], now: datetime
) -> None:
    """Each view onto its vendor's row: updated if `known` (locked by `lock_vendor_views`),
    else created."""
    if not views:
        return
    params: dict[str, Any] = {
        name: [_sql(getattr(view, name)) for view in views] for name in _VENDOR_COLUMNS
    }
    params["known"] = [view.vendor_id in known for view in views]
    params["now"] = now
    connection = await session.connection()
    await connection.execute(_WRITE_VENDORS, params)


def _sql(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return json.dumps(value)
    return value


async def lock_products_following_vendors(
    session: AsyncSession, vendor_ids: list[str]
) -> dict[str, list[Product]]:
    """Per vendor of `vendor_ids` (whose rows are locked already), its products a suspension or
    reinstatement may change, locked in one statement, oldest first."""
    if not vendor_ids:
        return {}
    query = sa_select(_PRODUCTS).where(_following(vendor_ids)).order_by(*_OLDEST_FIRST)
    connection = await session.connection()
    following: dict[str, list[Product]] = {}
    for row in await connection.execute(query.with_for_update()):
        following.setdefault(row.vendor_id, []).append(entity(Product, row))
    return following


# What following a vendor's status changes on a product (`domain.follow_vendor_status`).
_FOLLOWED = text(
    """UPDATE products SET status = u.status, delist_reason = u.delist_reason,
        version = u.version, updated_at = u.updated_at
    FROM unnest(
        CAST(:product_ids AS text[]), CAST(:statuses AS text[]),
        CAST(:delist_reasons AS text[]), CAST(:versions AS integer[]),
        CAST(:updated_ats AS timestamptz[])
    ) AS u(product_id, status, delist_reason, version, updated_at)
    WHERE products.product_id = u.product_id"""
)


async def store_followers(session: AsyncSession, products: list[Product]) -> None:
    """Products locked by `lock_products_following_vendors`, as their vendors' statuses left
    them, in one statement."""
    if not products:
        return
    connection = await session.connection()
    await connection.execute(
        _FOLLOWED,
        {
            "product_ids": [p.product_id for p in products],
            "statuses": [p.status.value for p in products],
            "delist_reasons": [_sql(p.delist_reason) for p in products],
            "versions": [p.version for p in products],
            "updated_ats": [p.updated_at for p in products],
        },
    )


@dataclass(frozen=True)
class ProductFilter:
    vendor_id: str | None = None
    catalog: Catalog | None = None
    category: str | None = None
    region_code: str | None = None
    """The vendor's region: a kab/kota, or a province for all its kab/kota."""
    status: ProductStatus | None = None
    text: str | None = None
    """Case-insensitive search in name and brand."""
    pdn_wajib: bool | None = None
    """TKDN >= 25 and TKDN + BMP >= 40 (compliance.md), or (False) not."""
    tkdn_min: Decimal | None = None
    umkk: bool | None = None
    """The vendor (as catalog last heard of it) is mikro, kecil or a koperasi, or (False) not."""
    local_to: str | None = None
    """The vendor (as catalog last heard of it) is of this kab/kota."""


class ProductSort(StrEnum):
    NEWEST = "newest"
    """Newest listing first."""
    P3DN = "p3dn"
    """PDN-wajib first, then UMK-K, then local to `local_to`, then the cheapest."""


def _conditions(where: ProductFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.vendor_id is not None:
        conditions.append(col(ProductRow.vendor_id) == where.vendor_id)
    if where.catalog is not None:
        conditions.append(col(ProductRow.catalog) == where.catalog.value)
    if where.category is not None:
        conditions.append(col(ProductRow.category) == where.category)
    if where.status is not None:
        conditions.append(col(ProductRow.status) == where.status.value)
    if where.region_code is not None:
        conditions.append(covered_by(VendorRow.region_code, where.region_code))
    if where.pdn_wajib is not None:
        # literal SQL, as the partial index has it, so that the planner can match the two
        pdn_wajib = literal_column(PDN_WAJIB, Boolean())
        conditions.append(pdn_wajib if where.pdn_wajib else not_(func.coalesce(pdn_wajib, False)))
    if where.tkdn_min is not None:
        conditions.append(col(ProductRow.tkdn_pct) >= where.tkdn_min)
    if where.umkk is not None:
        umkk = literal_column(UMKK, Boolean())
        conditions.append(umkk if where.umkk else not_(umkk))
    if where.local_to is not None:
        conditions.append(col(VendorRow.region_code) == where.local_to)
    if where.text:
        pattern = f"%{_escape_like(where.text)}%"
        conditions.append(
            or_(
                col(ProductRow.name).ilike(pattern, escape="\\"),
                col(ProductRow.brand).ilike(pattern, escape="\\"),
            )
        )
    return conditions


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _p3dn_ranking(local_to: str | None) -> Any:
    ranking = text(
        p3dn_order_by_sql(
            pdn_wajib=PDN_WAJIB,
            umkk=UMKK,
            local="vendors.region_code = :local_to" if local_to is not None else "false",
            price="products.price_idr",
            tiebreak='products.product_id COLLATE "C"',
        )
    )
    return ranking.bindparams(local_to=local_to) if local_to is not None else ranking


def search_statements(
    where: ProductFilter, *, limit: int, offset: int, sort: ProductSort = ProductSort.NEWEST
) -> tuple[SelectOfScalar[int], Select[ProductRow, VendorRow]]:
    """(the count, the page) of a search; apart from running them so that the benchmark can
    EXPLAIN exactly what the API runs."""
    joined = col(VendorRow.vendor_id) == col(ProductRow.vendor_id)
    conditions = _conditions(where)
    count = select(func.count()).select_from(ProductRow).join(VendorRow, joined).where(*conditions)
    rows = select(ProductRow, VendorRow).join(VendorRow, joined).where(*conditions)
    if sort is ProductSort.P3DN:
        rows = rows.order_by(_p3dn_ranking(where.local_to))
    else:
        rows = rows.order_by(col(ProductRow.listed_at).desc(), col(ProductRow.product_id))
    return count, rows.limit(limit).offset(offset)


async def search_products(
    session: AsyncSession,
    where: ProductFilter,
    *,
    limit: int,
    offset: int,
    sort: ProductSort = ProductSort.NEWEST,
) -> tuple[list[tuple[ProductRow, VendorRow]], int]:
    count, rows = search_statements(where, limit=limit, offset=offset, sort=sort)
    total = (await session.exec(count)).one()
    found = (await session.exec(rows)).all()
    return [(p, v) for p, v in found], total


async def displayed_categories(
    session: AsyncSession,
    *,
    catalog: Catalog | None,
    region_code: str | None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[str, int]], int]:
    """Categories with their count of displayed products (categories with none are left out)."""
    where = ProductFilter(catalog=catalog, region_code=region_code, status=ProductStatus.TAYANG)
    joined = col(VendorRow.vendor_id) == col(ProductRow.vendor_id)
    counted = (
        select(col(ProductRow.category), func.count())
        .select_from(ProductRow)
        .join(VendorRow, joined)
        .where(*_conditions(where))
        .group_by(col(ProductRow.category))
    )
    total = (await session.exec(select(func.count()).select_from(counted.subquery()))).one()
    page = counted.order_by(col(ProductRow.category)).limit(limit).offset(offset)
    found = (await session.exec(page)).all()
    return [(category, int(n)) for category, n in found], total
