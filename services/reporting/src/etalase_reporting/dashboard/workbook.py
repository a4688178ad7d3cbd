"""One XLSX workbook per wilayah and fiscal year, for the auditors who live in spreadsheets.

A text cell that a spreadsheet would run as a formula (a leading `=`, `+`, `-`, `@`, tab or
carriage return) is written as a plain string cell, so it shows as typed and never runs; numbers
stay numbers."""

import io
import re
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.utils import get_column_letter

from etalase_reporting.export import Table

FORMULA_START = re.compile(r"^[=+\-@\t\r]")
_SHARE = re.compile(r"^-?[0-9]+\.[0-9]{2}$")


def _value(cell: object) -> object:
    # shares arrive as two-decimal strings (as in the CSV); in a workbook they are numbers
    if isinstance(cell, str) and _SHARE.fullmatch(cell):
        return float(cell)
    return cell


def workbook(sheets: Sequence[tuple[str, Table]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, (header, rows) in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append(header)
        for row in rows:
            sheet.append([_value(cell) for cell in row])
        for column in sheet.iter_cols(min_row=1):
            for cell in column:
                if isinstance(cell.value, str) and FORMULA_START.match(cell.value):
                    cell.data_type = TYPE_STRING
        sheet.freeze_panes = "A2"
        for index, name in enumerate(header, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(12, len(name) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
