"""The catalog's tables and the queries on them.

Tables get their own SQLAlchemy registry: other services also have a `vendors` table, and their
models may be imported into the same process (tests, tools), which one shared metadata forbids.
"""

from dataclasses import asdict, dataclass
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
    func,
    literal_column,
    not_,
    or_,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
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


def store_vendor(row: VendorRow, view: VendorView, now: datetime) -> None:
    store(row, view)
    row.version = view.version
    row.updated_at = now


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


async def lock_vendors(session: AsyncSession, vendor_ids: list[str]) -> list[VendorRow]:
    """Vendor rows locked exclusively, in `vendor_id` order (as the consumer changing them)."""
    query = (
        select(VendorRow)
        .where(col(VendorRow.vendor_id).in_(vendor_ids))
        .order_by(col(VendorRow.vendor_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(await session.exec(query))


async def product_vendor_id(session: AsyncSession, product_id: str) -> str | None:
    query = select(ProductRow.vendor_id).where(ProductRow.product_id == product_id)
    return (await session.exec(query)).first()


async def lock_product(session: AsyncSession, product_id: str) -> ProductRow | None:
    """Locked so that concurrent changes take turns and never reuse a sequence."""
    query = select(ProductRow).where(ProductRow.product_id == product_id).with_for_update()
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def lock_products_following_vendor(session: AsyncSession, vendor_id: str) -> list[ProductRow]:
    """The vendor's products a suspension or reinstatement may change, locked, oldest first."""
    return (await lock_products_following_vendors(session, [vendor_id])).get(vendor_id, [])


async def lock_products_following_vendors(
    session: AsyncSession, vendor_ids: list[str]
) -> dict[str, list[ProductRow]]:
    """Per vendor of `vendor_ids` (whose rows are locked already), its products a suspension or
    reinstatement may change, locked in one statement, oldest first."""
    if not vendor_ids:
        return {}
    query = (
        select(ProductRow)
        .where(col(ProductRow.vendor_id).in_(vendor_ids))
        .where(
            or_(
                col(ProductRow.status) == ProductStatus.TAYANG,
                col(ProductRow.delist_reason) == DelistReason.VENDOR_SUSPENDED,
            )
        )
        .order_by(col(ProductRow.vendor_id), col(ProductRow.listed_at), col(ProductRow.product_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    following: dict[str, list[ProductRow]] = {}
    for row in (await session.exec(query)).all():
        following.setdefault(row.vendor_id, []).append(row)
    return following


async def product_with_vendor(
    session: AsyncSession, product_id: str
) -> tuple[ProductRow, VendorRow] | None:
    query = (
        select(ProductRow, VendorRow)
        .join(VendorRow, col(VendorRow.vendor_id) == col(ProductRow.vendor_id))
        .where(ProductRow.product_id == product_id)
    )
    return (await session.exec(query)).first()


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
