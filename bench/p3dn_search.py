"""`python -m bench.p3dn_search [--products N]`: the P3DN search of `GET /products` on a catalogue
of 100,000 products in a real PostgreSQL, with and without migration 0002's indexes.

Loads a fresh catalog database (its own migrations) with vendors and products by COPY, then for
each query runs exactly the statements the API runs (`db.search_statements`) under
`EXPLAIN (ANALYZE, BUFFERS)` and prints the execution times and the plan's access paths. Needs
PostgreSQL (`ETALASE_POSTGRES_URL`, as `make bench`); drops its database when done. The figures
are recorded by hand in services/catalog/README.md.
"""

import argparse
import asyncio
import json
import random
import statistics
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from etalase_catalog import db
from etalase_catalog.bootstrap import MIGRATIONS
from etalase_catalog.db import ProductFilter, ProductSort
from etalase_catalog.domain import ProductStatus
from etalase_platform.db import upgrade_to_head
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from bench.environment import Infra, libpq_url

REGIONS = [f"33.{code:02d}" for code in (*range(1, 30), *range(71, 77))]
CATEGORIES = 400
NEW_INDEXES = ("products_pdn_wajib", "products_tayang_category_price", "products_tkdn")
RUNS = 5


@dataclass(frozen=True)
class Case:
    name: str
    where: ProductFilter
    sort: ProductSort


CASES = [
    Case("newest, no filter (as before)", ProductFilter(), ProductSort.NEWEST),
    Case(
        "category + tayang + pdn_wajib, sort=p3dn",
        ProductFilter(category="kategori-7", status=ProductStatus.TAYANG, pdn_wajib=True),
        ProductSort.P3DN,
    ),
    Case(
        "category + tayang, sort=p3dn",
        ProductFilter(category="kategori-7", status=ProductStatus.TAYANG),
        ProductSort.P3DN,
    ),
    Case(
        "tayang + pdn_wajib, sort=p3dn (whole catalogue)",
        ProductFilter(status=ProductStatus.TAYANG, pdn_wajib=True),
        ProductSort.P3DN,
    ),
    Case(
        "tayang + umkk + local_to, sort=p3dn",
        ProductFilter(status=ProductStatus.TAYANG, umkk=True, local_to="33.75"),
        ProductSort.P3DN,
    ),
    Case(
        "tayang + tkdn_min=90",
        ProductFilter(status=ProductStatus.TAYANG, tkdn_min=Decimal(90)),
        ProductSort.NEWEST,
    ),
]


def _vendors(count: int, rng: random.Random) -> list[tuple[Any, ...]]:
    now = datetime.now(UTC)
    rows = []
    for _ in range(count):
        status = "suspended" if rng.random() < 0.03 else "verified"
        scale = rng.choices(["mikro", "kecil", "menengah", "besar"], [50, 25, 15, 10])[0]
        legal_form = rng.choices(["perorangan", "cv", "pt", "koperasi"], [30, 35, 25, 10])[0]
        rows.append(
            (str(uuid.uuid4()), status, legal_form, scale, rng.choice(REGIONS), "{}", 2, now)
        )
    return rows


def _products(
    count: int, vendors: list[tuple[Any, ...]], rng: random.Random
) -> list[tuple[Any, ...]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for number in range(count):
        vendor_id, status = rng.choice(vendors)[:2]
        certified = rng.random() < 0.6
        tkdn = Decimal(rng.randint(0, 10_000)).scaleb(-2) if certified else None
        bmp = Decimal(rng.randint(0, 1_500)).scaleb(-2) if certified else None
        shown = "tayang" if status == "verified" and rng.random() < 0.95 else "delisted"
        reason = None if shown == "tayang" else "vendor_suspended"
        listed = start + timedelta(seconds=number * 37)
        rows.append(
            (
                str(uuid.uuid4()),
                vendor_id,
                "nasional",
                None,
                f"kategori-{min(int(rng.expovariate(1 / 60)), CATEGORIES - 1)}",
                f"Produk {number}",
                None,
                "unit",
                rng.randint(1_000, 50_000_000),
                rng.random() < 0.8,
                tkdn,
                bmp,
                f"TKDN-{number}" if certified else None,
                None,
                shown,
                reason,
                1,
                listed,
                listed,
            )
        )
    return rows


PRODUCT_COLUMNS = [
    "product_id",
    "vendor_id",
    "catalog",
    "catalog_region_code",
    "category",
    "name",
    "brand",
    "unit",
    "price_idr",
    "domestic",
    "tkdn_pct",
    "bmp_pct",
    "tkdn_certificate_no",
    "tkdn_valid_until",
    "status",
    "delist_reason",
    "version",
    "listed_at",
    "updated_at",
]
VENDOR_COLUMNS = [
    "vendor_id",
    "status",
    "legal_form",
    "scale",
    "region_code",
    "fact_versions",
    "version",
    "updated_at",
]


def _sql(statement: Any) -> str:
    dialect = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _access(plan: dict[str, Any]) -> list[str]:
    """The scans of a plan, e.g. `Index Scan using products_pdn_wajib on products`."""
    found = []
    if "Scan" in plan["Node Type"]:
        index = f" using {plan['Index Name']}" if "Index Name" in plan else ""
        found.append(f"{plan['Node Type']}{index} on {plan.get('Relation Name', '?')}")
    for child in plan.get("Plans", []):
        found += _access(child)
    return found


async def _measure(connection: asyncpg.Connection, case: Case) -> dict[str, Any]:
    count, page = db.search_statements(case.where, limit=50, offset=0, sort=case.sort)
    result: dict[str, Any] = {"case": case.name}
    for label, statement in (("count", count), ("page", page)):
        sql = _sql(statement)
        times, plan = [], {}
        for _ in range(RUNS):
            explained = await connection.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
            (plan,) = json.loads(explained)
            times.append(plan["Execution Time"])
        result[label] = {
            "median_ms": round(statistics.median(times), 2),
            "rows": plan["Plan"]["Actual Rows"],
            "access": sorted(set(_access(plan["Plan"]))),
        }
    return result


async def run(products: int, vendors: int) -> list[dict[str, Any]]:
    infra = Infra.from_environment()
    url = await infra.new_database("p3dn")
    try:
        await upgrade_to_head(MIGRATIONS, url)
        rng = random.Random(18)
        vendor_rows = _vendors(vendors, rng)
        connection = await asyncpg.connect(libpq_url(url))
        try:
            await connection.copy_records_to_table(
                "vendors", records=vendor_rows, columns=VENDOR_COLUMNS
            )
            await connection.copy_records_to_table(
                "products", records=_products(products, vendor_rows, rng), columns=PRODUCT_COLUMNS
            )
            await connection.execute("ANALYZE")
            results = []
            for case in CASES:
                results.append({"indexes": "with 0002", **await _measure(connection, case)})
            definitions = await connection.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY($1::text[])",
                list(NEW_INDEXES),
            )
            for name in NEW_INDEXES:
                await connection.execute(f"DROP INDEX {name}")
            for case in CASES:
                results.append({"indexes": "without", **await _measure(connection, case)})
            for row in definitions:
                await connection.execute(row["indexdef"])
            return results
        finally:
            await connection.close()
    finally:
        await infra.drop_databases()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.p3dn_search", description=__doc__)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--vendors", type=int, default=2_000)
    args = parser.parse_args()
    for result in asyncio.run(run(args.products, args.vendors)):
        count, page = result["count"], result["page"]
        print(
            f"{result['indexes']:>9} | {result['case']:<48} | count {count['median_ms']:>8} ms"
            f" | page {page['median_ms']:>8} ms | {'; '.join(page['access'])}"
        )


if __name__ == "__main__":
    main()
