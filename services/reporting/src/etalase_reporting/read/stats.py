"""Counts per kab/kota from the vendor and product projections (compliance.md, "Counts per
kab/kota"). A vendor counts once its registration has arrived; a product once its listing has.
A product belongs to its vendor's current region when the vendor is known, else to the region
the listing carried."""

from dataclasses import dataclass

from etalase_events.compliance import pdn_wajib_sql, tkdn25_sql, umkk_sql
from etalase_events.models import VendorStatus
from sqlalchemy import text

from etalase_reporting.read.queries import REGION_MATCH, Filter, View

VENDOR_COUNTS = (
    *VendorStatus,
    "mikro",
    "kecil",
    "menengah",
    "besar",
    "koperasi",
    "umkk",
    "via_mpp_desk",
    "online",
    "total",
)
CATALOG_COUNTS = (
    "listed",
    "tayang",
    "delisted",
    "categories_tayang",
    "tayang_domestic",
    "tayang_tkdn25",
    "tayang_pdn_wajib",
    "tayang_umkk",
    "katalog_lokal_tayang",
)


_BY_STATUS = ",\n".join(
    f"count(*) FILTER (WHERE status = '{status}') AS {status}" for status in VendorStatus
)


def _umkk(prefix: str) -> str:
    return umkk_sql(f"{prefix}scale", f"{prefix}legal_form")


@dataclass(frozen=True)
class RegionCounts:
    region_code: str
    counts: dict[str, int]


async def vendor_counts(view: View, scope: Filter) -> list[RegionCounts]:
    rows = await view.session.execute(
        text(
            f"""SELECT region_code,
                {_BY_STATUS},
                count(*) FILTER (WHERE scale = 'mikro') AS mikro,
                count(*) FILTER (WHERE scale = 'kecil') AS kecil,
                count(*) FILTER (WHERE scale = 'menengah') AS menengah,
                count(*) FILTER (WHERE scale = 'besar') AS besar,
                count(*) FILTER (WHERE legal_form = 'koperasi') AS koperasi,
                count(*) FILTER (WHERE {_umkk("")}) AS umkk,
                count(*) FILTER (WHERE channel = 'mpp_desk') AS via_mpp_desk,
                count(*) FILTER (WHERE channel = 'online') AS online,
                count(*) AS total
            FROM {view.schema}.vendors
            WHERE channel IS NOT NULL AND {REGION_MATCH.format(column="region_code")}
            GROUP BY region_code ORDER BY region_code"""
        ),
        {"region": scope.region},
    )
    return [
        RegionCounts(row.region_code, {name: int(row._mapping[name]) for name in VENDOR_COUNTS})
        for row in rows
    ]


async def catalog_counts(view: View, scope: Filter) -> list[RegionCounts]:
    s = view.schema
    tkdn25 = tkdn25_sql("p.tkdn_pct")
    pdn_wajib = pdn_wajib_sql("p.tkdn_pct", "p.bmp_pct")
    rows = await view.session.execute(
        text(
            f"""WITH p AS (
                SELECT p.*, p.status = 'tayang' AS tayang,
                    CASE WHEN v.channel IS NOT NULL THEN v.region_code
                         ELSE p.vendor_region_code END AS region,
                    CASE WHEN v.channel IS NOT NULL THEN {_umkk("v.")}
                         ELSE {_umkk("p.vendor_")} END AS umkk
                FROM {s}.products AS p LEFT JOIN {s}.vendors AS v USING (vendor_id)
                WHERE p.listed_seq IS NOT NULL
            )
            SELECT region AS region_code, count(*) AS listed,
                count(*) FILTER (WHERE tayang) AS tayang,
                count(*) FILTER (WHERE status = 'delisted') AS delisted,
                count(DISTINCT category) FILTER (WHERE tayang) AS categories_tayang,
                count(*) FILTER (WHERE tayang AND domestic) AS tayang_domestic,
                count(*) FILTER (WHERE tayang AND {tkdn25}) AS tayang_tkdn25,
                count(*) FILTER (WHERE tayang AND {pdn_wajib}) AS tayang_pdn_wajib,
                count(*) FILTER (WHERE tayang AND umkk) AS tayang_umkk
            FROM p WHERE {REGION_MATCH.format(column="region")}
            GROUP BY region"""
        ),
        {"region": scope.region},
    )
    counts = {
        row.region_code: {name: int(row._mapping[name]) for name in CATALOG_COUNTS[:-1]}
        for row in rows
    }
    local = await view.session.execute(
        text(
            f"""SELECT catalog_region_code AS region_code, count(*) AS tayang FROM {s}.products
            WHERE listed_seq IS NOT NULL AND catalog = 'lokal' AND status = 'tayang'
              AND {REGION_MATCH.format(column="catalog_region_code")}
            GROUP BY catalog_region_code"""
        ),
        {"region": scope.region},
    )
    for row in local:
        region = counts.setdefault(row.region_code, dict.fromkeys(CATALOG_COUNTS[:-1], 0))
        region["katalog_lokal_tayang"] = int(row.tayang)
    return [
        RegionCounts(region, {"katalog_lokal_tayang": 0, **values})
        for region, values in sorted(counts.items())
    ]
