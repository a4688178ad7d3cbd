"""Platform tables plus an `effects` table the test projector writes to."""

import sqlalchemy as sa
from alembic import op
from etalase_platform.migrations import create_platform_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_platform_tables()
    op.create_table(
        "effects",
        sa.Column("applied_order", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("effects")
