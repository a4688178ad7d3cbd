"""The platform tables, the vendor view and the products."""

import sqlalchemy as sa
from alembic import op
from etalase_platform.migrations import create_platform_tables, drop_platform_tables
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_platform_tables()
    op.create_table(
        "vendors",
        sa.Column("vendor_id", sa.Text, primary_key=True),
        sa.Column("status", sa.Text),
        sa.Column("legal_form", sa.Text),
        sa.Column("scale", sa.Text),
        sa.Column("region_code", sa.Text),
        # the sequence of the event that set each fact: older events cannot overwrite it
        sa.Column("fact_versions", JSONB, nullable=False, server_default="{}"),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("vendors_region", "vendors", ["region_code"])
    op.create_table(
        "products",
        sa.Column("product_id", sa.Text, primary_key=True),
        sa.Column("vendor_id", sa.Text, sa.ForeignKey("vendors.vendor_id"), nullable=False),
        sa.Column("catalog", sa.Text, nullable=False),
        sa.Column("catalog_region_code", sa.Text),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("brand", sa.Text),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("price_idr", sa.BigInteger, nullable=False),
        sa.Column("domestic", sa.Boolean, nullable=False),
        sa.Column("tkdn_pct", sa.Numeric(5, 2)),
        sa.Column("bmp_pct", sa.Numeric(5, 2)),
        sa.Column("tkdn_certificate_no", sa.Text),
        sa.Column("tkdn_valid_until", sa.Date),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("delist_reason", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price_idr > 0", name="products_price_positive"),
        sa.CheckConstraint(
            "catalog <> 'lokal' OR catalog_region_code IS NOT NULL", name="products_lokal_region"
        ),
    )
    op.create_index("products_vendor", "products", ["vendor_id", "status"])
    op.create_index("products_catalog", "products", ["catalog", "status", "category"])
    op.create_index("products_listed", "products", [sa.text("listed_at DESC"), "product_id"])


def downgrade() -> None:
    op.drop_table("products")
    op.drop_table("vendors")
    drop_platform_tables()
