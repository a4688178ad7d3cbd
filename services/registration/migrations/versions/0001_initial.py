"""Platform tables and the vendor registry."""

import sqlalchemy as sa
from alembic import op
from etalase_platform.migrations import create_platform_tables, drop_platform_tables
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_platform_tables()
    op.create_table(
        "vendors",
        sa.Column("vendor_id", sa.Text, primary_key=True),
        # one registration per NIB: the index, not a prior look-up, settles concurrent ones
        sa.Column("nib", sa.Text, nullable=False, unique=True),
        sa.Column("npwp", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("legal_form", sa.Text, nullable=False),
        sa.Column("scale", sa.Text, nullable=False),
        sa.Column("region_code", sa.Text, nullable=False),
        sa.Column("kbli", postgresql.ARRAY(sa.Text), nullable=False),
        sa.Column("address", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("desk_id", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("suspension_reason", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_vendors_region_code", "vendors", ["region_code"])
    op.create_index("ix_vendors_registered_at", "vendors", ["registered_at", "vendor_id"])


def downgrade() -> None:
    op.drop_table("vendors")
    drop_platform_tables()
