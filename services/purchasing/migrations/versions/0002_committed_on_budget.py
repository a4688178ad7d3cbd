"""Budgets keep their committed spend (the total of their orders not cancelled), backfilled."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column(
        "budgets",
        sa.Column("committed_idr", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.execute(
        "UPDATE budgets SET committed_idr = spent.total FROM ("
        " SELECT fiscal_year, opd_code, sum(total_idr) AS total FROM orders"
        " WHERE status IN ('placed', 'accepted', 'completed')"
        " GROUP BY fiscal_year, opd_code) AS spent"
        " WHERE budgets.fiscal_year = spent.fiscal_year AND budgets.opd_code = spent.opd_code"
    )


def downgrade() -> None:
    op.drop_column("budgets", "committed_idr")
