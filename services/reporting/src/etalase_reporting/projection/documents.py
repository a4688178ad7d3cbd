"""The documents projection: what an order said and who its vendor is, for the dashboard's
drill-down and the OCDS export (the figures themselves come from the compliance projection).

- `order_documents`: per order, its OrderPlaced as JSON (lines, vendor facts, RUP code). When two
  OrderPlaced claim an order, the lowest (sequence, event id) wins, the rule of `order_facts`, so
  the document is the one whose amounts the figures count, whatever the arrival order.
- `vendor_names`: per vendor, its name and NIB; a higher sequence replaces a name.

Idempotent by construction (a replay changes nothing), so its consumer keeps no inbox. Its
tables are created with each generation, and made in a generation that predates them before its
consumers start (`generations.complete_projection_tables`), so a live generation made before
this projection existed fills them from the start of the log (its new consumer begins there)
without a rebuild.
"""

from collections.abc import Sequence
from typing import Any

from etalase_events.models import Event, OrderPlaced, VendorProfileUpdated, VendorRegistered
from etalase_platform.consumer import Delivery
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_reporting import tables
from etalase_reporting.projection.entities import Changes, EntityProjector, EntityTable

VENDOR_NAMES = EntityTable(tables.vendor_names)


class _VendorNames(EntityProjector):
    def __init__(self, schema: str) -> None:
        super().__init__(schema, VENDOR_NAMES)

    def changes(self, event: Event) -> tuple[str, Changes] | None:
        if isinstance(event, VendorRegistered):
            return event.vendor_id, {"name": (event.name,), "nib": (event.nib,)}
        if isinstance(event, VendorProfileUpdated) and event.name is not None:
            return event.vendor_id, {"name": (event.name,)}
        return None


class DocumentsProjector:
    def __init__(self, schema: str) -> None:
        self._names = _VendorNames(schema)
        self._upsert = text(
            f"INSERT INTO {schema}.order_documents AS t"
            " (order_id, placed_event_id, placed_sequence, vendor_id, document)"
            " SELECT o, e, s, v, CAST(d AS jsonb) FROM unnest(CAST(:order_id AS text[]),"
            " CAST(:event_id AS text[]), CAST(:sequence AS integer[]),"
            " CAST(:vendor_id AS text[]), CAST(:document AS text[])) AS r(o, e, s, v, d)"
            " ORDER BY o"
            " ON CONFLICT (order_id) DO UPDATE SET placed_event_id = excluded.placed_event_id,"
            " placed_sequence = excluded.placed_sequence, vendor_id = excluded.vendor_id,"
            " document = excluded.document"
            ' WHERE (excluded.placed_sequence, excluded.placed_event_id COLLATE "C")'
            ' < (t.placed_sequence, t.placed_event_id COLLATE "C")'
        )

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        await self._names.apply(session, deliveries)
        winners: dict[str, tuple[Delivery, OrderPlaced]] = {}
        for delivery in deliveries:
            event = delivery.event
            if not isinstance(event, OrderPlaced):
                continue
            held = winners.get(event.order_id)
            if held is None or (delivery.sequence, delivery.event_id) < (
                held[0].sequence,
                held[0].event_id,
            ):
                winners[event.order_id] = (delivery, event)
        if not winners:
            return
        rows: list[tuple[Any, ...]] = [
            (order_id, d.event_id, d.sequence, e.vendor_id, e.model_dump_json())
            for order_id, (d, e) in winners.items()
        ]
        columns = ("order_id", "event_id", "sequence", "vendor_id", "document")
        await session.execute(
            self._upsert, {name: [row[i] for row in rows] for i, name in enumerate(columns)}
        )
