"""The vendor and product projections behind /stats: the current state of each vendor and product.

Each attribute group carries the sequence of the event that set it and only a higher sequence
replaces it, so redelivered or reordered events cannot roll a vendor or product back. A batch is
first folded per aggregate in memory, then written with one upsert.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from etalase_events.models import (
    STATUS_AFTER,
    Event,
    ProductDelisted,
    ProductListed,
    ProductRelisted,
    ProductTkdnCertified,
    VendorProfileUpdated,
    VendorRegistered,
    VendorReinstated,
    VendorSuspended,
    VendorVerified,
)
from etalase_platform.consumer import Delivery
from sqlalchemy import Table
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_reporting import tables
from etalase_reporting.projection.unnest import Column, insert_rows, unnest_insert
from etalase_reporting.tables import typed

Changes = dict[str, tuple[Any, ...]]
"""attribute group → its new values."""


@dataclass(frozen=True)
class EntityTable:
    """A table of current states (`tables._entity`): a key and attribute groups, each with a
    `<group>_seq`."""

    table: Table

    @property
    def key(self) -> str:
        return str(self.table.primary_key.columns.values()[0].name)

    @property
    def groups(self) -> Mapping[str, Sequence[str]]:
        groups: Mapping[str, Sequence[str]] = self.table.info["groups"]
        return groups

    @property
    def columns(self) -> list[Column]:
        return typed(self.table, [column.name for column in self.table.columns])

    def upsert(self, schema: str) -> Any:
        updates = []
        for group, fields in self.groups.items():
            newer = f"excluded.{group}_seq > coalesce(t.{group}_seq, 0)"
            updates += [
                f"{name} = CASE WHEN {newer} THEN excluded.{name} ELSE t.{name} END"
                for name in fields
            ]
            updates.append(f"{group}_seq = greatest(t.{group}_seq, excluded.{group}_seq)")
        return unnest_insert(
            f"{schema}.{self.table.name} AS t",
            self.columns,
            f"ON CONFLICT ({self.key}) DO UPDATE SET {', '.join(updates)}",
        )

    def row(self, key: str, latest: Mapping[str, tuple[int, tuple[Any, ...]]]) -> tuple[Any, ...]:
        values: list[Any] = [key]
        for group, fields in self.groups.items():
            sequence, group_values = latest.get(group, (None, (None,) * len(fields)))
            values += [*group_values, sequence]
        return tuple(values)


class EntityProjector(ABC):
    """Folds each batch per aggregate (highest sequence per attribute group) and upserts it."""

    def __init__(self, schema: str, table: EntityTable) -> None:
        self._table = table
        self._upsert = table.upsert(schema)

    @abstractmethod
    def changes(self, event: Event) -> tuple[str, Changes] | None:
        """The aggregate id and the attribute groups `event` sets; None for other events."""

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        latest: dict[str, dict[str, tuple[int, tuple[Any, ...]]]] = {}
        for delivery in deliveries:
            found = self.changes(delivery.event)
            if found is None:
                continue
            key, changes = found
            groups = latest.setdefault(key, {})
            for group, values in changes.items():
                if group not in groups or groups[group][0] < delivery.sequence:
                    groups[group] = (delivery.sequence, values)
        rows = [self._table.row(key, groups) for key, groups in latest.items()]
        await insert_rows(session, self._upsert, self._table.columns, rows)


VENDORS = EntityTable(tables.vendors)


class VendorsProjector(EntityProjector):
    def __init__(self, schema: str) -> None:
        super().__init__(schema, VENDORS)

    def changes(self, event: Event) -> tuple[str, Changes] | None:
        if isinstance(event, VendorRegistered):
            return event.vendor_id, {
                "region_code": (event.region_code,),
                "scale": (event.scale.value,),
                "legal_form": (event.legal_form.value,),
                "channel": (event.channel.value,),
                "status": (STATUS_AFTER[VendorRegistered].value,),
            }
        if isinstance(event, VendorProfileUpdated):
            changed = {
                "region_code": event.region_code,
                "scale": event.scale,
                "legal_form": event.legal_form,
            }
            return event.vendor_id, {
                group: (str(value),) for group, value in changed.items() if value is not None
            }
        if isinstance(event, VendorVerified | VendorSuspended | VendorReinstated):
            return event.vendor_id, {"status": (STATUS_AFTER[type(event)].value,)}
        return None


PRODUCTS = EntityTable(tables.products)


class CatalogProjector(EntityProjector):
    def __init__(self, schema: str) -> None:
        super().__init__(schema, PRODUCTS)

    def changes(self, event: Event) -> tuple[str, Changes] | None:
        if isinstance(event, ProductListed):
            return event.product_id, {
                "listed": (
                    event.vendor_id,
                    event.catalog.value,
                    event.catalog_region_code,
                    event.category,
                    event.domestic,
                    event.vendor_scale.value,
                    event.vendor_legal_form.value,
                    event.vendor_region_code,
                ),
                "tkdn": (event.tkdn_pct, event.bmp_pct),
                "status": ("tayang",),
            }
        if isinstance(event, ProductTkdnCertified):
            return event.product_id, {"tkdn": (event.tkdn_pct, event.bmp_pct)}
        if isinstance(event, ProductDelisted):
            return event.product_id, {"status": ("delisted",)}
        if isinstance(event, ProductRelisted):
            return event.product_id, {"status": ("tayang",)}
        return None
