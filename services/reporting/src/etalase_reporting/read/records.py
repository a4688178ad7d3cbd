"""Reads of the documents projection joined with the order facts: what an order said (lines,
vendor), where it stands (its stages and the events that set them) and who its buyer is.

Backs the dashboard's drill-down (beside the provenance of `service.opd_orders`) and the OCDS
export; nothing here computes a figure.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from etalase_events.models import OrderPlaced
from sqlalchemy import text

from etalase_reporting.domain import STAGES
from etalase_reporting.read.queries import REGION_MATCH, Filter, View


@dataclass(frozen=True)
class OrderRecord:
    order: OrderPlaced
    """The OrderPlaced the figures count (lowest (sequence, event id))."""
    vendor_name: str | None
    vendor_nib: str | None
    opd_name: str | None
    stages: dict[str, tuple[str, datetime] | None]
    """stage → (event id, time), for placed, accepted, completed, cancelled."""

    @property
    def status(self) -> str:
        """The furthest stage reached: cancelled, completed, accepted or placed."""
        for stage in ("cancelled", "completed", "accepted"):
            if self.stages.get(stage) is not None:
                return stage
        return "placed"


def _select(schema: str) -> str:
    stages = ", ".join(f"f.{stage}_event_id, f.{stage}_at" for stage in STAGES)
    return f"""
    SELECT d.document::text AS document, n.name AS vendor_name, n.nib AS vendor_nib,
           (SELECT b.opd_name FROM {schema}.budget_allocations AS b
            WHERE b.fiscal_year = f.fiscal_year AND b.opd_code = f.opd_code
            ORDER BY b.allocated_at DESC, b.sequence DESC, b.event_id DESC LIMIT 1) AS opd_name,
           {stages}
    FROM {schema}.order_facts AS f
    JOIN {schema}.order_documents AS d USING (order_id)
    LEFT JOIN {schema}.vendor_names AS n ON n.vendor_id = d.vendor_id
    WHERE f.placed_event_id IS NOT NULL"""


def _record(row: Any) -> OrderRecord:
    mapping = row._mapping
    stages: dict[str, tuple[str, datetime] | None] = {}
    for stage in STAGES:
        event_id = mapping[f"{stage}_event_id"]
        stages[stage] = None if event_id is None else (event_id, mapping[f"{stage}_at"])
    return OrderRecord(
        order=OrderPlaced.model_validate_json(mapping["document"]),
        vendor_name=mapping["vendor_name"],
        vendor_nib=mapping["vendor_nib"],
        opd_name=mapping["opd_name"],
        stages=stages,
    )


async def order_records(view: View, order_ids: Sequence[str]) -> dict[str, OrderRecord]:
    """The records of the given orders (those whose documents have arrived)."""
    rows = await view.session.execute(
        text(_select(view.schema) + " AND f.order_id = ANY(CAST(:ids AS text[]))"),
        {"ids": list(order_ids)},
    )
    records = [_record(row) for row in rows]
    return {record.order.order_id: record for record in records}


async def records_of_year(view: View, fiscal_year: int, scope: Filter) -> list[OrderRecord]:
    """Every placed order of a fiscal year within the scope, by placing time."""
    in_region = REGION_MATCH.format(column="f.region_code")
    rows = await view.session.execute(
        text(
            _select(view.schema) + f" AND f.fiscal_year = :fy AND {in_region}"
            " AND (CAST(:opd AS text) IS NULL OR f.opd_code = :opd)"
            " ORDER BY f.placed_at, f.order_id"
        ),
        {"fy": fiscal_year, "region": scope.region, "opd": scope.opd},
    )
    return [_record(row) for row in rows]
