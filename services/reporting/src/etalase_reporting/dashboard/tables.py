"""The dashboard's tables beyond the compliance rows (those are `export.opd_table` and
`export.regions_table`): header and rows for the CSV downloads and the workbook's sheets."""

from collections.abc import Sequence
from datetime import datetime

from etalase_reporting import schemas
from etalase_reporting.dashboard.views import Orders, Point, Stats
from etalase_reporting.domain import MEASURES, STAGES
from etalase_reporting.export import Table


def _at(value: datetime | None) -> str:
    return "" if value is None else value.isoformat()


def orders_table(pages: Sequence[Orders]) -> Table:
    head = [
        "order_id",
        "status",
        "vendor_id",
        "vendor_name",
        *MEASURES[1:],
        "counted_as_placed",
        "counted_as_realized",
        *(f"{stage}_at" for stage in STAGES),
        *(f"{stage}_event_id" for stage in STAGES),
    ]
    rows: list[list[object]] = []
    for page in pages:
        for item in page.provenance.items:
            record = page.records.get(item.order_id)
            events = [getattr(item.events, stage) for stage in STAGES]
            rows.append(
                [
                    item.order_id,
                    record.status if record else "",
                    record.order.vendor_id if record else "",
                    (record.vendor_name or "") if record else "",
                    *(getattr(item, name) for name in MEASURES[1:]),
                    item.counted_as.placed,
                    item.counted_as.realized,
                    *(_at(e.at if e else None) for e in events),
                    *((e.event_id if e else "") for e in events),
                ]
            )
    return head, rows


def lines_table(pages: Sequence[Orders]) -> Table:
    head = [
        "order_id",
        "line_no",
        "product_id",
        "name",
        "category",
        "catalog",
        "quantity",
        "unit_price_idr",
        "subtotal_idr",
        "domestic",
        "tkdn_pct",
        "bmp_pct",
        "pdn_alternative_available",
    ]
    rows: list[list[object]] = []
    for page in pages:
        for item in page.provenance.items:
            record = page.records.get(item.order_id)
            for line in record.order.lines if record else ():
                rows.append(
                    [
                        item.order_id,
                        line.line_no,
                        line.product_id,
                        line.name,
                        line.category,
                        line.catalog.value,
                        line.quantity,
                        line.unit_price_idr,
                        line.subtotal_idr,
                        line.domestic,
                        "" if line.tkdn_pct is None else f"{line.tkdn_pct:.2f}",
                        "" if line.bmp_pct is None else f"{line.bmp_pct:.2f}",
                        line.pdn_alternative_available,
                    ]
                )
    return head, rows


VENDOR_COLUMNS = ("koperasi", "umkk", "via_mpp_desk", "online", "total")


def vendors_table(stats: Stats) -> Table:
    status = list(schemas.VendorsByStatus.model_fields)
    scale = list(schemas.VendorsByScale.model_fields)
    head = ["region_code", *status, *scale, *VENDOR_COLUMNS]
    rows: list[list[object]] = [
        [
            v.region_code,
            *(getattr(v.by_status, n) for n in status),
            *(getattr(v.by_scale, n) for n in scale),
            *(getattr(v, n) for n in VENDOR_COLUMNS),
        ]
        for v in stats.vendors
    ]
    return head, rows


CATALOG_COLUMNS = [name for name in schemas.CatalogStats.model_fields if name != "region_code"]


def catalog_table(stats: Stats) -> Table:
    head = ["region_code", *CATALOG_COLUMNS]
    rows: list[list[object]] = [
        [c.region_code, *(getattr(c, n) for n in CATALOG_COLUMNS)] for c in stats.catalog
    ]
    return head, rows


TREND_SHARES = ("umkk_of_pagu", "ecatalog_of_pagu", "pdn_of_spend", "local_of_spend")


def trend_table(points: Sequence[Point]) -> Table:
    head = ["as_of", *TREND_SHARES, *(f"{s}_status" for s in TREND_SHARES[:3])]
    rows: list[list[object]] = []
    for point in points:
        figures = point.figures
        shares = [getattr(figures.shares, s) if figures else None for s in TREND_SHARES]
        statuses = {k.value: v.status.value for k, v in figures.targets.items()} if figures else {}
        rows.append(
            [
                point.as_of.isoformat() if point.as_of else "",
                *("" if v is None else f"{v:.2f}" for v in shares),
                *(statuses.get(s, "") for s in TREND_SHARES[:3]),
            ]
        )
    return head, rows
