"""Indexes for the P3DN search of GET /products (`pdn_wajib`, `tkdn_min`, `sort=p3dn`)."""

import sqlalchemy as sa
from alembic import op
from etalase_events.compliance import pdn_wajib_sql

revision = "0002"
down_revision = "0001"

# The predicate as of this revision: the search writes it in the same words, which is what lets
# PostgreSQL use the partial index for `pdn_wajib=true`.
_PDN_WAJIB = pdn_wajib_sql("tkdn_pct", "bmp_pct")


def upgrade() -> None:
    op.create_index(
        "products_pdn_wajib",
        "products",
        ["category", "price_idr"],
        postgresql_where=sa.text(f"status = 'tayang' AND {_PDN_WAJIB}"),
    )
    op.create_index(
        "products_tayang_category_price",
        "products",
        ["category", "price_idr"],
        postgresql_where=sa.text("status = 'tayang'"),
    )
    op.create_index("products_tkdn", "products", ["tkdn_pct"])


def downgrade() -> None:
    for name in ("products_tkdn", "products_tayang_category_price", "products_pdn_wajib"):
        op.drop_index(name, table_name="products")
