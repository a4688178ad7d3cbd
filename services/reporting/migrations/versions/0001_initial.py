"""Platform tables and the registry of projection generations.

The projection tables themselves live in one schema per generation (`reporting_g<N>`), created
from their declarations in tables.py when the service starts its first generation or a rebuild
(rebuild/generations.py).
"""

import sqlalchemy as sa
from alembic import op
from etalase_platform.migrations import create_platform_tables, drop_platform_tables
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_platform_tables()
    op.create_table(
        "projection_generations",
        sa.Column("generation", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("group_token", sa.Text, nullable=False),
        sa.Column("log_end", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("live_since", sa.DateTime(timezone=True)),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('building', 'live', 'retired')", name="known_status"),
    )
    # at most one live and at most one building generation
    op.create_index(
        "one_generation_per_status",
        "projection_generations",
        ["status"],
        unique=True,
        postgresql_where=sa.text("status <> 'retired'"),
    )


def downgrade() -> None:
    op.drop_table("projection_generations")
    drop_platform_tables()
