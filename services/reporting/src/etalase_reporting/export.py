"""CSV renderings of the compliance reports: a header row, one row per OPD or region, rupiah as
integers, shares as two-decimal numbers (empty where there is no denominator).

Text a spreadsheet would run as a formula is neutralised (OWASP "CSV injection"): a cell that
begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`. Numbers are
written as numbers and never altered."""

import csv
import io
from collections.abc import Iterable

from etalase_reporting.domain import FLAGS, MEASURES, Share
from etalase_reporting.schemas import ComplianceFigures, OpdReport, RegionReport

_FIGURE_COLUMNS = [
    "pagu_idr",
    *(f"placed_{name}" for name in MEASURES),
    *(f"realized_{name}" for name in MEASURES),
    *(share.value for share in Share),
    *(f"{share.value}_target" for share in Share),
    *(f"{share.value}_status" for share in Share),
    *FLAGS,
]


def _figure_cells(row: ComplianceFigures) -> list[object]:
    shares = row.shares.model_dump()
    targets = {share.value: target for share, target in row.targets.items()}
    return [
        row.pagu_idr,
        *(getattr(row.placed, name) for name in MEASURES),
        *(getattr(row.realized, name) for name in MEASURES),
        *("" if shares[s.value] is None else f"{shares[s.value]:.2f}" for s in Share),
        *(f"{targets[s.value].target:g}" if s.value in targets else "" for s in Share),
        *(targets[s.value].status.value if s.value in targets else "" for s in Share),
        *(getattr(row.flags, name) for name in FLAGS),
    ]


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> object:
    """A text cell as a spreadsheet will show it and not run it; other values unchanged."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def _render(header: list[str], rows: Iterable[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return out.getvalue()


Table = tuple[list[str], list[list[object]]]
"""A header and its rows: what a CSV (here) or a workbook sheet (the dashboard) is made of."""


def table_csv(header: list[str], rows: Iterable[list[object]]) -> str:
    """Any table as CSV, the dashboard's included: one rendering, one neutralisation."""
    return _render(header, rows)


def opd_table(report: OpdReport) -> Table:
    as_of = report.as_of.isoformat() if report.as_of else ""
    return (
        ["fiscal_year", "as_of", "opd_code", "opd_name", "region_code", *_FIGURE_COLUMNS],
        [
            [
                report.fiscal_year,
                as_of,
                i.opd_code,
                i.opd_name or "",
                i.region_code,
                *_figure_cells(i),
            ]
            for i in report.items
        ],
    )


def regions_table(report: RegionReport) -> Table:
    """Region rows (`level` region), then province totals (`level` province)."""
    as_of = report.as_of.isoformat() if report.as_of else ""
    head = ["level", "fiscal_year", "as_of", "region_code", "opds", *_FIGURE_COLUMNS]
    rows = [
        ["region", report.fiscal_year, as_of, i.region_code, i.opds, *_figure_cells(i)]
        for i in report.items
    ] + [
        ["province", report.fiscal_year, as_of, p.province_code, p.opds, *_figure_cells(p)]
        for p in report.provinces
    ]
    return head, rows


def opd_csv(report: OpdReport) -> str:
    return _render(*opd_table(report))


def regions_csv(report: RegionReport) -> str:
    return _render(*regions_table(report))
