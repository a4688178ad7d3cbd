"""The platform's own tables, declared once: every service database holds them.

- `outbox`: events written in the transaction of the state change, published by the relay
  (`etalase_platform.outbox`);
- `inbox`: the event ids each consumer has applied (`etalase_platform.inbox`);
- `consumer_offsets`: each consumer's next offset per partition, the truth the consumer seeks to
  (`etalase_platform.offsets`);
- `idempotency_keys`: the first response of each create call (`etalase_platform.idempotency`).

`migrations.create_platform_tables()` builds them from this declaration in each service's first
revision. Drift detection sees them through `metadata`: `migrations.run_migrations` adds it to a
service's target metadata, so `alembic check` compares these tables too.

Constraint names are PostgreSQL's defaults (`outbox_pkey`, `outbox_event_id_key`, ...), which is
what the databases migrated before this declaration have.
"""

import sqlalchemy as sa

metadata = sa.MetaData()

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("position", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("event_id", sa.Text, nullable=False, unique=True),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("message_key", sa.Text, nullable=False),
    sa.Column("bucket", sa.SmallInteger, nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("traceparent", sa.Text),
    sa.Column("tracestate", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    # the relay's claim reads only the unpublished rows, bucket by bucket, in position order
    sa.Index(
        "outbox_unpublished",
        "bucket",
        "position",
        postgresql_where=sa.text("published_at IS NULL"),
    ),
)

inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("consumer", sa.Text, primary_key=True),
    sa.Column("event_id", sa.Text, primary_key=True),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("partition", sa.Integer, nullable=False),
    sa.Column("offset", sa.BigInteger, nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)

consumer_offsets = sa.Table(
    "consumer_offsets",
    metadata,
    sa.Column("consumer", sa.Text, primary_key=True),
    sa.Column("topic", sa.Text, primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True),
    sa.Column("next_offset", sa.BigInteger, nullable=False),
    sa.Column("last_event_time", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("scope", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("body", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)
