"""Every table of the reporting service, declared once (SQLAlchemy Core).

`GENERATION` holds the projection tables, declared without a schema: each generation creates its
own copy in `reporting_g<N>` from these declarations (`ddl`), and the projectors and reads take
their column lists from them. `REGISTRY` holds the Alembic-managed table of the public schema
that says which generation is live (`projection_generations`; its migration is 0001).

The columns of the order facts and of the per-day deltas follow the domain: one per measure, per
stage and per component of the delta vector (`timeline.COLUMNS`).
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.schema import CreateIndex, CreateTable, ExecutableDDLElement
from sqlalchemy.types import TypeEngine

from etalase_reporting.domain import DAY_RULES, MEASURES, STAGES
from etalase_reporting.timeline import COLUMNS

GENERATION = MetaData()
REGISTRY = MetaData()
DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def _moment() -> DateTime:
    return DateTime(timezone=True)


budget_allocations = Table(
    "budget_allocations",
    GENERATION,
    Column("fiscal_year", Integer, primary_key=True, autoincrement=False),
    Column("opd_code", Text, primary_key=True),
    Column("event_id", Text, primary_key=True),
    Column("sequence", Integer, nullable=False),
    Column("allocated_at", _moment(), nullable=False),
    Column("opd_name", Text, nullable=False),
    Column("region_code", Text, nullable=False),
    Column("pagu_idr", BigInteger, nullable=False),
)
Index(
    "budget_allocations_fiscal_year_opd_code_allocated_at_sequen_idx",
    budget_allocations.c.fiscal_year,
    budget_allocations.c.opd_code,
    budget_allocations.c.allocated_at.desc(),
    budget_allocations.c.sequence.desc(),
)

order_facts = Table(
    "order_facts",
    GENERATION,
    Column("order_id", Text, primary_key=True),
    Column("fiscal_year", Integer),
    Column("opd_code", Text),
    Column("region_code", Text),
    *(Column(name, BigInteger) for name in MEASURES[1:]),
    Column("reserved_package_violation", Boolean),
    Column("pdn_substitution_lines", Integer),
    Column("flagged_lines", JSONB),
    *(
        column
        for stage in STAGES
        for column in (
            Column(f"{stage}_event_id", Text),
            Column(f"{stage}_sequence", Integer),
            Column(f"{stage}_at", _moment()),
        )
    ),
    *(Column(rule.column, Date) for rule in DAY_RULES),
)
Index(
    "order_facts_fiscal_year_opd_code_placed_day_idx",
    order_facts.c.fiscal_year,
    order_facts.c.opd_code,
    order_facts.c.placed_day,
)

compliance_deltas = Table(
    "compliance_deltas",
    GENERATION,
    Column("fiscal_year", Integer, primary_key=True, autoincrement=False),
    Column("opd_code", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("region_code", Text, nullable=False),
    *(Column(name, BigInteger, nullable=False, server_default=text("0")) for name in COLUMNS),
)


def _entity(name: str, key: Column[str], groups: Mapping[str, Sequence[Column[object]]]) -> Table:
    """A table of current states: a key, then per attribute group its columns and `<group>_seq`
    (the sequence of the event that set them); `info["groups"]` names each group's columns."""
    columns: list[Column[object]] = []
    for group, fields in groups.items():
        columns += [*fields, Column(f"{group}_seq", Integer)]
    table = Table(name, GENERATION, key, *columns)
    table.info["groups"] = {group: [c.name for c in fields] for group, fields in groups.items()}
    return table


vendors = _entity(
    "vendors",
    Column("vendor_id", Text, primary_key=True),
    {
        "region_code": [Column("region_code", Text)],
        "scale": [Column("scale", Text)],
        "legal_form": [Column("legal_form", Text)],
        "channel": [Column("channel", Text)],
        "status": [Column("status", Text)],
    },
)
Index("vendors_region_code_idx", vendors.c.region_code)

products = _entity(
    "products",
    Column("product_id", Text, primary_key=True),
    {
        "listed": [
            Column("vendor_id", Text),
            Column("catalog", Text),
            Column("catalog_region_code", Text),
            Column("category", Text),
            Column("domestic", Boolean),
            Column("vendor_scale", Text),
            Column("vendor_legal_form", Text),
            Column("vendor_region_code", Text),
        ],
        "tkdn": [Column("tkdn_pct", Numeric(5, 2)), Column("bmp_pct", Numeric(5, 2))],
        "status": [Column("status", Text)],
    },
)
Index("products_vendor_id_idx", products.c.vendor_id)
Index("products_vendor_region_code_idx", products.c.vendor_region_code)
Index("products_catalog_region_code_idx", products.c.catalog_region_code)

order_documents = Table(
    "order_documents",
    GENERATION,
    Column("order_id", Text, primary_key=True),
    Column("placed_event_id", Text, nullable=False),
    Column("placed_sequence", Integer, nullable=False),
    Column("vendor_id", Text, nullable=False),
    Column("document", JSONB, nullable=False),
)

vendor_names = _entity(
    "vendor_names",
    Column("vendor_id", Text, primary_key=True),
    {"name": [Column("name", Text)], "nib": [Column("nib", Text)]},
)

DOCUMENT_TABLES = (order_documents, vendor_names)
TABLES: tuple[Table, ...] = (
    budget_allocations,
    order_facts,
    compliance_deltas,
    vendors,
    products,
    *DOCUMENT_TABLES,
)
"""The tables of a generation, in the order the projectors write them (and `freeze` locks)."""


projection_generations = Table(
    "projection_generations",
    REGISTRY,
    Column("generation", Integer, primary_key=True, autoincrement=False),
    Column("status", Text, nullable=False),
    Column("group_token", Text, nullable=False),
    Column("log_end", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("started_at", _moment(), server_default=func.now()),
    Column("live_since", _moment()),
    Column("retired_at", _moment()),
    CheckConstraint("status IN ('building', 'live', 'retired')", name="known_status"),
)
# at most one live and at most one building generation
Index(
    "one_generation_per_status",
    projection_generations.c.status,
    unique=True,
    postgresql_where=text("status <> 'retired'"),
)


def ddl(schema: str, tables: Iterable[Table] = TABLES, *, if_not_exists: bool = False) -> list[str]:
    """CREATE TABLE and CREATE INDEX statements for `tables` in `schema`."""
    statements: list[str] = []
    for table in tables:
        elements: list[ExecutableDDLElement] = [
            CreateTable(table, if_not_exists=if_not_exists),
            *(
                CreateIndex(index, if_not_exists=if_not_exists)
                for index in sorted(table.indexes, key=lambda index: str(index.name))
            ),
        ]
        statements += [
            str(
                element.compile(
                    dialect=DIALECT,
                    schema_translate_map={None: schema},
                    render_schema_translate=True,
                )
            )
            for element in elements
        ]
    return statements


def sql_type(column: Column[Any]) -> str:
    """The PostgreSQL type of a column, as a CAST names it."""
    kind: TypeEngine[Any] = column.type
    return kind.compile(dialect=DIALECT)


def typed(table: Table, names: Iterable[str]) -> list[tuple[str, str]]:
    """(name, PostgreSQL type) of the named columns, for `projection.unnest`."""
    return [(name, sql_type(table.c[name])) for name in names]
