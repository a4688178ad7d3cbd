"""Purchasing's own view of catalog products and their vendors: written by the event handlers,
read when an order is placed.

Each write applies an event only when it is newer than what the row already reflects (by the
aggregate's `sequence`), so redelivered or stale events change nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from etalase_events.compliance import (
    MAX_PDN_ALTERNATIVES,
    meets_pdn_wajib,
    p3dn_order_by_sql,
    umkk_sql,
)
from etalase_events.models import Catalog, LegalForm, ProductListed, Scale
from etalase_platform.driver import DriverStatement, Transactional
from sqlalchemy import and_, func, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_purchasing.db import (
    BUDGET_OF_ORDER_SQL,
    BudgetBase,
    CatalogProduct,
    VendorFactsRow,
    budget_of_row,
)
from etalase_purchasing.domain import KnownProduct, VendorFacts

# --- writes (event handlers) -------------------------------------------------------------------


_LISTING_COLUMNS = {
    "product_id": "text",
    "vendor_id": "text",
    "catalog": "text",
    "catalog_region_code": "text",
    "category": "text",
    "name": "text",
    "unit": "text",
    "price_idr": "bigint",
    "domestic": "boolean",
    "tkdn_pct": "numeric",
    "bmp_pct": "numeric",
    "pdn_wajib": "boolean",
    "tayang": "boolean",
    "sequence": "bigint",
}
# From arrays, one per column: one statement whatever the number of rows, and no SQL to build
# per row (a multi-row VALUES cost more to compile than to run).
_UPSERT_LISTINGS = text(
    f"""INSERT INTO catalog_products ({", ".join(_LISTING_COLUMNS)})
    SELECT * FROM unnest({", ".join(f"CAST(:{c} AS {t}[])" for c, t in _LISTING_COLUMNS.items())})
    ON CONFLICT (product_id) DO UPDATE SET
        {", ".join(f"{c} = excluded.{c}" for c in _LISTING_COLUMNS if c != "product_id")}
    WHERE catalog_products.sequence < excluded.sequence"""
)
_UPSERT_SNAPSHOTS = text(
    """INSERT INTO vendor_facts (vendor_id, sequence, listing_scale, listing_legal_form,
        listing_region_code, listing_at)
    SELECT vendor_id, 0, scale, legal_form, region_code, at FROM unnest(
        CAST(:vendor_ids AS text[]), CAST(:scales AS text[]), CAST(:legal_forms AS text[]),
        CAST(:region_codes AS text[]), CAST(:ats AS timestamptz[])
    ) AS u(vendor_id, scale, legal_form, region_code, at)
    ON CONFLICT (vendor_id) DO UPDATE SET listing_scale = excluded.listing_scale,
        listing_legal_form = excluded.listing_legal_form,
        listing_region_code = excluded.listing_region_code, listing_at = excluded.listing_at
    WHERE vendor_facts.listing_at IS NULL OR vendor_facts.listing_at <= excluded.listing_at"""
)


async def record_listing(session: AsyncSession, event: ProductListed, sequence: int) -> None:
    await record_listings(session, [(event, sequence)])


async def record_listings(
    session: AsyncSession, listings: Sequence[tuple[ProductListed, int]]
) -> None:
    """Listings with their sequences, in the order they arrived: a statement for the products and
    one for the vendors' snapshots, whatever their number. A listing sets the whole row, so only
    each product's newest one needs writing (one statement may not write a row twice)."""
    newest: dict[str, tuple[ProductListed, int]] = {}
    for event, sequence in listings:
        if event.product_id not in newest or newest[event.product_id][1] < sequence:
            newest[event.product_id] = (event, sequence)
    ordered = [newest[product_id] for product_id in sorted(newest)]  # rows locked in key order
    connection = await session.connection()
    await connection.execute(
        _UPSERT_LISTINGS,
        {
            "product_id": [e.product_id for e, _ in ordered],
            "vendor_id": [e.vendor_id for e, _ in ordered],
            "catalog": [e.catalog.value for e, _ in ordered],
            "catalog_region_code": [e.catalog_region_code for e, _ in ordered],
            "category": [e.category for e, _ in ordered],
            "name": [e.name for e, _ in ordered],
            "unit": [e.unit for e, _ in ordered],
            "price_idr": [e.price_idr for e, _ in ordered],
            "domestic": [e.domestic for e, _ in ordered],
            "tkdn_pct": [e.tkdn_pct for e, _ in ordered],
            "bmp_pct": [e.bmp_pct for e, _ in ordered],
            "pdn_wajib": [meets_pdn_wajib(e.tkdn_pct, e.bmp_pct) for e, _ in ordered],
            "tayang": [True] * len(ordered),
            "sequence": [sequence for _, sequence in ordered],
        },
    )
    await _record_listing_snapshots(session, [event for event, _ in listings])


async def _record_listing_snapshots(session: AsyncSession, events: list[ProductListed]) -> None:
    # Listings of different products of one vendor arrive in no particular order: keep the
    # snapshot of the newest listing (of equally new ones, the last to arrive).
    newest: dict[str, ProductListed] = {}
    for event in events:
        if event.vendor_id not in newest or newest[event.vendor_id].listed_at <= event.listed_at:
            newest[event.vendor_id] = event
    ordered = [newest[vendor_id] for vendor_id in sorted(newest)]
    connection = await session.connection()
    await connection.execute(
        _UPSERT_SNAPSHOTS,
        {
            "vendor_ids": [e.vendor_id for e in ordered],
            "scales": [e.vendor_scale.value for e in ordered],
            "legal_forms": [e.vendor_legal_form.value for e in ordered],
            "region_codes": [e.vendor_region_code for e in ordered],
            "ats": [e.listed_at for e in ordered],
        },
    )


async def update_product(
    session: AsyncSession, product_id: str, sequence: int, **changes: Any
) -> None:
    """Apply a later product event; an event for a product never listed here is ignored (its
    listing precedes it on the same partition, so it is not coming)."""
    await session.execute(
        update(CatalogProduct)
        .where(
            and_(
                col(CatalogProduct.product_id) == product_id,
                col(CatalogProduct.sequence) < sequence,
            )
        )
        .values(sequence=sequence, **changes)
    )


async def certify_tkdn(
    session: AsyncSession, product_id: str, sequence: int, tkdn_pct: Decimal, bmp_pct: Decimal
) -> None:
    await update_product(
        session,
        product_id,
        sequence,
        tkdn_pct=tkdn_pct,
        bmp_pct=bmp_pct,
        pdn_wajib=meets_pdn_wajib(tkdn_pct, bmp_pct),
    )


async def record_registry_facts(
    session: AsyncSession,
    vendor_id: str,
    sequence: int,
    *,
    scale: Scale | None,
    legal_form: LegalForm | None,
    region_code: str | None,
) -> None:
    """Registration's word on the vendor; a None field is one the event did not change."""
    facts = {
        "scale": scale.value if scale else None,
        "legal_form": legal_form.value if legal_form else None,
        "region_code": region_code,
    }
    insert = pg_insert(VendorFactsRow).values(vendor_id=vendor_id, sequence=sequence, **facts)
    current = VendorFactsRow.__table__.c  # type: ignore[attr-defined]
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["vendor_id"],
            set_={
                "sequence": insert.excluded.sequence,
                **{name: func.coalesce(insert.excluded[name], current[name]) for name in facts},
            },
            where=col(VendorFactsRow.sequence) < insert.excluded.sequence,
        )
    )


@dataclass(frozen=True)
class ProductChange:
    """A product event other than its listing, as the view takes it: a field left None is one the
    event does not change (`tkdn` is (tkdn_pct, bmp_pct))."""

    product_id: str
    sequence: int
    price_idr: int | None = None
    tkdn: tuple[Decimal, Decimal] | None = None
    tayang: bool | None = None


@dataclass(frozen=True)
class RegistryFacts:
    """A registration event's word on a vendor; a None field is one it did not change."""

    vendor_id: str
    sequence: int
    scale: Scale | None = None
    legal_form: LegalForm | None = None
    region_code: str | None = None


@dataclass
class _Newest:
    """What an aggregate's events of a batch can still write, whatever its row holds: each field's
    newest (sequence, value). Event by event, an event applies only above the row's sequence and
    above every earlier event of the batch, so only events newer than all before them (`top`)
    ever apply; and of those, the ones above the row's sequence, which the statement decides."""

    top: int
    fields: dict[str, tuple[int, Any]]


def _newest(changes: Sequence[tuple[str, int, dict[str, Any]]]) -> dict[str, _Newest]:
    newest: dict[str, _Newest] = {}
    for key, sequence, fields in changes:
        found = newest.get(key)
        if found is None:
            found = newest[key] = _Newest(sequence, {})
        elif sequence <= found.top:
            continue  # older than an event before it: refused whatever the row holds
        found.top = sequence
        found.fields.update({name: (sequence, value) for name, value in fields.items()})
    return newest


def _column(newest: dict[str, _Newest], name: str) -> tuple[list[int | None], list[Any]]:
    sequences: list[int | None] = []
    values: list[Any] = []
    for found in newest.values():
        sequence, value = found.fields.get(name, (None, None))
        sequences.append(sequence)
        values.append(value)
    return sequences, values


# Each field takes the newest value of the batch that is newer than the row (the right-hand side
# reads the row as it was): what applying the batch's events one by one leaves.
_UPDATE_PRODUCTS = text(
    """UPDATE catalog_products AS cp SET
        price_idr = CASE WHEN u.price_seq > cp.sequence THEN u.price_idr ELSE cp.price_idr END,
        tkdn_pct = CASE WHEN u.tkdn_seq > cp.sequence THEN u.tkdn_pct ELSE cp.tkdn_pct END,
        bmp_pct = CASE WHEN u.tkdn_seq > cp.sequence THEN u.bmp_pct ELSE cp.bmp_pct END,
        pdn_wajib = CASE WHEN u.tkdn_seq > cp.sequence THEN u.pdn_wajib ELSE cp.pdn_wajib END,
        tayang = CASE WHEN u.tayang_seq > cp.sequence THEN u.tayang ELSE cp.tayang END,
        sequence = u.top
    FROM unnest(
        CAST(:product_ids AS text[]), CAST(:tops AS bigint[]),
        CAST(:price_seqs AS bigint[]), CAST(:prices AS bigint[]),
        CAST(:tkdn_seqs AS bigint[]), CAST(:tkdn_pcts AS numeric[]), CAST(:bmp_pcts AS numeric[]),
        CAST(:pdn_wajibs AS boolean[]), CAST(:tayang_seqs AS bigint[]), CAST(:tayangs AS boolean[])
    ) AS u(product_id, top, price_seq, price_idr, tkdn_seq, tkdn_pct, bmp_pct, pdn_wajib,
        tayang_seq, tayang)
    WHERE cp.product_id = u.product_id AND cp.sequence < u.top"""
)


async def update_products(session: AsyncSession, changes: Sequence[ProductChange]) -> None:
    """Product events in the order they arrived, in one statement whatever their number, ending
    as `update_product` one by one would (products never listed here are ignored, as there)."""
    newest = _newest(
        [
            (
                change.product_id,
                change.sequence,
                {
                    name: value
                    for name, value in (
                        ("price", change.price_idr),
                        ("tkdn", change.tkdn),
                        ("tayang", change.tayang),
                    )
                    if value is not None
                },
            )
            for change in changes
        ]
    )
    if not newest:
        return
    newest = dict(sorted(newest.items()))  # rows locked in key order, as everywhere
    price_seqs, prices = _column(newest, "price")
    tkdn_seqs, tkdns = _column(newest, "tkdn")
    tayang_seqs, tayangs = _column(newest, "tayang")
    connection = await session.connection()
    await connection.execute(
        _UPDATE_PRODUCTS,
        {
            "product_ids": list(newest),
            "tops": [found.top for found in newest.values()],
            "price_seqs": price_seqs,
            "prices": prices,
            "tkdn_seqs": tkdn_seqs,
            "tkdn_pcts": [t[0] if t else None for t in tkdns],
            "bmp_pcts": [t[1] if t else None for t in tkdns],
            "pdn_wajibs": [meets_pdn_wajib(*t) if t else None for t in tkdns],
            "tayang_seqs": tayang_seqs,
            "tayangs": tayangs,
        },
    )


_FACTS = ("scale", "legal_form", "region_code")
# A vendor new to the view gets every newest fact of the batch (all of its events apply); the
# update then skips it (its sequence is the batch's top) and does the others as `_UPDATE_PRODUCTS`.
_INSERT_VENDORS = text(
    """INSERT INTO vendor_facts (vendor_id, sequence, scale, legal_form, region_code)
    SELECT * FROM unnest(
        CAST(:vendor_ids AS text[]), CAST(:tops AS bigint[]), CAST(:scales AS text[]),
        CAST(:legal_forms AS text[]), CAST(:region_codes AS text[])
    )
    ON CONFLICT (vendor_id) DO NOTHING"""
)
_UPDATE_VENDORS = text(
    """UPDATE vendor_facts AS vf SET
        scale = CASE WHEN u.scale_seq > vf.sequence THEN u.scale ELSE vf.scale END,
        legal_form = CASE WHEN u.legal_form_seq > vf.sequence THEN u.legal_form
            ELSE vf.legal_form END,
        region_code = CASE WHEN u.region_code_seq > vf.sequence THEN u.region_code
            ELSE vf.region_code END,
        sequence = u.top
    FROM unnest(
        CAST(:vendor_ids AS text[]), CAST(:tops AS bigint[]),
        CAST(:scale_seqs AS bigint[]), CAST(:scales AS text[]),
        CAST(:legal_form_seqs AS bigint[]), CAST(:legal_forms AS text[]),
        CAST(:region_code_seqs AS bigint[]), CAST(:region_codes AS text[])
    ) AS u(vendor_id, top, scale_seq, scale, legal_form_seq, legal_form, region_code_seq,
        region_code)
    WHERE vf.vendor_id = u.vendor_id AND vf.sequence < u.top"""
)


async def record_registry_facts_of(session: AsyncSession, events: Sequence[RegistryFacts]) -> None:
    """Registration events in the order they arrived, in two statements whatever their number,
    ending as `record_registry_facts` one by one would."""
    newest = _newest(
        [
            (
                facts.vendor_id,
                facts.sequence,
                {
                    name: value.value if isinstance(value, Scale | LegalForm) else value
                    for name in _FACTS
                    if (value := getattr(facts, name)) is not None
                },
            )
            for facts in events
        ]
    )
    if not newest:
        return
    ordered = dict(sorted(newest.items()))
    params: dict[str, Any] = {
        "vendor_ids": list(ordered),
        "tops": [found.top for found in ordered.values()],
    }
    for name in _FACTS:
        params[f"{name}_seqs"], params[f"{name}s"] = _column(ordered, name)
    connection = await session.connection()
    await connection.execute(
        _INSERT_VENDORS,
        {key: params[key] for key in ("vendor_ids", "tops", *(f"{name}s" for name in _FACTS))},
    )
    await connection.execute(_UPDATE_VENDORS, params)


# --- reads (placing an order) ------------------------------------------------------------------


def _listed(row: Any) -> dict[str, Any]:
    """What a product row and an alternative row both say of a product."""
    names = ("product_id", "vendor_id", "name", "category", "price_idr", "tkdn_pct", "bmp_pct")
    return {name: row[name] for name in names} | {"catalog": Catalog(row["catalog"])}


def _known(row: Any) -> KnownProduct:
    return KnownProduct(**_listed(row), domestic=row["domestic"], tayang=row["tayang"])


@dataclass(frozen=True)
class Alternative:
    """A displayed PDN-wajib product, as a suggestion for a buyer of `region_code`."""

    product_id: str
    vendor_id: str
    name: str
    category: str
    catalog: Catalog
    price_idr: int
    tkdn_pct: Decimal
    bmp_pct: Decimal | None
    umkk: bool
    local: bool


# The vendor's facts as `domain.resolve_vendor` takes them: registration's word, else the listing's.
_SCALE = "coalesce(vf.scale, vf.listing_scale)"
_LEGAL_FORM = "coalesce(vf.legal_form, vf.listing_legal_form)"
_UMKK = umkk_sql(_SCALE, _LEGAL_FORM)
_LOCAL = "coalesce(coalesce(vf.region_code, vf.listing_region_code) = :region, false)"
_RANKING = p3dn_order_by_sql(
    pdn_wajib="cp.pdn_wajib",
    umkk=_UMKK,
    local=_LOCAL,
    price="cp.price_idr",
    tiebreak='cp.product_id COLLATE "C"',
)


# Everything placing an order reads, in one round trip: the requested products ('product'), the
# best displayed PDN-wajib products of their categories ('alternative', ranked), the facts of
# their vendors ('vendor'), and on every row the `budget_*` columns of the budget the order is
# placed against. One row shape for the three kinds; a kind leaves the others' columns NULL.
# Placing locks the budget here, a round trip fewer than locking it after the reads. A CTE runs
# only as far as its rows are read, so when no requested product is known nothing is locked
# (and no budget returned): the order is then refused as product_unknown before the budget
# matters. An order refused after the reads (not displayed, several vendors, vendor unknown)
# holds the lock until its rollback.
# On the driver (etalase_platform.driver): SQLAlchemy's execution adds nothing here.
def _order_facts_sql(*, lock_budget: bool) -> str:
    lock = " FOR UPDATE" if lock_budget else ""
    return f"""WITH requested AS (
        SELECT * FROM catalog_products WHERE product_id = ANY(CAST(:product_ids AS text[]))
    ), budget AS ({BUDGET_OF_ORDER_SQL}{lock})
    SELECT facts.*, budget.* FROM (
        SELECT 'product' AS kind, product_id, vendor_id, name, category, catalog, price_idr,
            domestic, tkdn_pct, bmp_pct, tayang, NULL::boolean AS umkk, NULL::boolean AS local,
            0::bigint AS rank, NULL AS scale, NULL AS legal_form, NULL AS region_code,
            NULL AS listing_scale, NULL AS listing_legal_form, NULL AS listing_region_code
        FROM requested
        UNION ALL
        SELECT 'alternative', product_id, vendor_id, name, category, catalog, price_idr, NULL,
            tkdn_pct, bmp_pct, NULL, umkk, local, rank, NULL, NULL, NULL, NULL, NULL, NULL
        FROM (
            SELECT cp.product_id, cp.vendor_id, cp.name, cp.category, cp.catalog, cp.price_idr,
                cp.tkdn_pct, cp.bmp_pct, {_UMKK} AS umkk, {_LOCAL} AS local,
                row_number() OVER (PARTITION BY cp.category ORDER BY {_RANKING}) AS rank
            FROM catalog_products AS cp LEFT JOIN vendor_facts AS vf USING (vendor_id)
            WHERE cp.category IN (SELECT category FROM requested) AND cp.tayang AND cp.pdn_wajib
        ) AS ranked
        WHERE rank <= :best
        UNION ALL
        SELECT 'vendor', NULL, vf.vendor_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, 0, vf.scale, vf.legal_form, vf.region_code, vf.listing_scale,
            vf.listing_legal_form, vf.listing_region_code
        FROM vendor_facts AS vf WHERE vf.vendor_id IN (SELECT vendor_id FROM requested)
    ) AS facts LEFT JOIN budget ON true
    ORDER BY kind, category, rank"""


_ORDER_FACTS = DriverStatement(text(_order_facts_sql(lock_budget=False)))
_ORDER_FACTS_LOCKING_BUDGET = DriverStatement(text(_order_facts_sql(lock_budget=True)))


@dataclass(frozen=True)
class OrderFacts:
    """What purchasing knows of an order's products: the products themselves, per category of
    theirs its ranked PDN-wajib alternatives (categories without any left out), per vendor of
    theirs (what registration said, what the newest listing said), and the budget of the order's
    OPD and year (None when it has none, or when no product of the order is known)."""

    products: dict[str, KnownProduct]
    alternatives: dict[str, list[Alternative]]
    vendors: dict[str, tuple[VendorFacts, VendorFacts]]
    budget: BudgetBase | None

    def vendor(self, vendor_id: str) -> tuple[VendorFacts, VendorFacts]:
        return self.vendors.get(vendor_id, (VendorFacts(), VendorFacts()))


async def order_facts(
    session: Transactional,
    product_ids: Sequence[str],
    region_code: str,
    budget_of: tuple[int, str],
    *,
    lock_budget: bool,
) -> OrderFacts:
    """The products of `product_ids` that are known, the alternatives of their categories in the
    P3DN ranking for a buyer of `region_code` (UMK-K first, then local, then the cheapest; best
    first), their vendors' facts, and the budget of `budget_of` (fiscal year, OPD); with
    `lock_budget`, its row locked until the transaction ends: orders against it queue here."""
    fiscal_year, opd_code = budget_of
    statement = _ORDER_FACTS_LOCKING_BUDGET if lock_budget else _ORDER_FACTS
    rows = await statement.fetch(
        session,
        {
            "product_ids": list(product_ids),
            "region": region_code,
            "best": MAX_PDN_ALTERNATIVES,
            "fiscal_year": fiscal_year,
            "opd_code": opd_code,
        },
    )
    facts = OrderFacts({}, {}, {}, budget_of_row(rows[0]) if rows else None)
    for row in rows:
        if row["kind"] == "product":
            facts.products[row["product_id"]] = _known(row)
        elif row["kind"] == "alternative":
            facts.alternatives.setdefault(row["category"], []).append(_alternative(row))
        else:
            facts.vendors[row["vendor_id"]] = (
                _facts(row["scale"], row["legal_form"], row["region_code"]),
                _facts(row["listing_scale"], row["listing_legal_form"], row["listing_region_code"]),
            )
    return facts


def _alternative(row: Any) -> Alternative:
    return Alternative(**_listed(row), umkk=row["umkk"], local=row["local"])


def _facts(scale: str | None, legal_form: str | None, region_code: str | None) -> VendorFacts:
    return VendorFacts(
        scale=Scale(scale) if scale else None,
        legal_form=LegalForm(legal_form) if legal_form else None,
        region_code=region_code,
    )
