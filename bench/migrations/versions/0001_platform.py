"""The platform tables alone (outbox, inbox, consumer offsets, idempotency keys): what the
outbox relay benchmark needs, shaped exactly as in every service database."""

from etalase_platform.migrations import create_platform_tables, drop_platform_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_platform_tables()


def downgrade() -> None:
    drop_platform_tables()
