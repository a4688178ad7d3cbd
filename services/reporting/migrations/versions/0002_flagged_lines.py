"""Order facts keep their substitution lines and the alternatives they passed over.

The projection tables are created with their generation from `tables.py`, which now has the
column; this adds it to the generations that already exist, so that they go on projecting
without a rebuild. Their older facts keep NULL (shown as not recorded) until one.
"""

from alembic import op
from sqlalchemy import text

revision = "0002"
down_revision = "0001"


def _order_facts_tables() -> list[str]:
    rows = op.get_bind().execute(
        text(
            "SELECT table_schema FROM information_schema.tables"
            " WHERE table_name = 'order_facts' AND table_schema LIKE 'reporting\\_g%'"
        )
    )
    return [f"{row.table_schema}.order_facts" for row in rows]


def upgrade() -> None:
    for table in _order_facts_tables():
        op.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS flagged_lines jsonb")


def downgrade() -> None:
    for table in _order_facts_tables():
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS flagged_lines")
