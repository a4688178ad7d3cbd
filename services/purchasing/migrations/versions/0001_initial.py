"""Platform tables, budgets, orders, and the view of catalog products and vendors."""

from datetime import datetime

import sqlalchemy as sa
from alembic import op
from etalase_platform.migrations import create_platform_tables, drop_platform_tables
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None


def _utc(name: str, nullable: bool = True) -> "sa.Column[datetime]":
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    create_platform_tables()
    op.create_table(
        "budgets",
        sa.Column("fiscal_year", sa.Integer, primary_key=True),
        sa.Column("opd_code", sa.String, primary_key=True),
        sa.Column("opd_name", sa.String, nullable=False),
        sa.Column("region_code", sa.String, nullable=False, index=True),
        sa.Column("pagu_idr", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        _utc("allocated_at", nullable=False),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String, primary_key=True),
        sa.Column("opd_code", sa.String, nullable=False),
        sa.Column("region_code", sa.String, nullable=False),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        sa.Column("rup_code", sa.String),
        sa.Column("vendor_id", sa.String, nullable=False, index=True),
        sa.Column("vendor_scale", sa.String, nullable=False),
        sa.Column("vendor_legal_form", sa.String, nullable=False),
        sa.Column("vendor_region_code", sa.String, nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("total_idr", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        _utc("placed_at", nullable=False),
        _utc("accepted_at"),
        _utc("completed_at"),
        _utc("cancelled_at"),
        sa.Column("cancel_reason", sa.String),
    )
    # the committed-spend sum of one budget, and the listings per OPD or region
    op.create_index("orders_by_budget", "orders", ["opd_code", "fiscal_year", "status"])
    op.create_index("orders_by_region", "orders", ["region_code", "placed_at"])
    op.create_table(
        "catalog_products",
        sa.Column("product_id", sa.String, primary_key=True),
        sa.Column("vendor_id", sa.String, nullable=False),
        sa.Column("catalog", sa.String, nullable=False),
        sa.Column("catalog_region_code", sa.String),
        sa.Column("category", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("unit", sa.String, nullable=False),
        sa.Column("price_idr", sa.BigInteger, nullable=False),
        sa.Column("domestic", sa.Boolean, nullable=False),
        sa.Column("tkdn_pct", sa.Numeric(5, 2)),
        sa.Column("bmp_pct", sa.Numeric(5, 2)),
        sa.Column("pdn_wajib", sa.Boolean, nullable=False),
        sa.Column("tayang", sa.Boolean, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
    )
    op.create_index(
        "catalog_products_pdn_wajib_tayang",
        "catalog_products",
        ["category"],
        postgresql_where=sa.text("tayang AND pdn_wajib"),
    )
    op.create_table(
        "vendor_facts",
        sa.Column("vendor_id", sa.String, primary_key=True),
        sa.Column("scale", sa.String),
        sa.Column("legal_form", sa.String),
        sa.Column("region_code", sa.String),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("listing_scale", sa.String),
        sa.Column("listing_legal_form", sa.String),
        sa.Column("listing_region_code", sa.String),
        _utc("listing_at"),
    )


def downgrade() -> None:
    for table in ("vendor_facts", "catalog_products", "orders", "budgets"):
        op.drop_table(table)
    drop_platform_tables()
