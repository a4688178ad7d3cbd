"""The dashboard's pure parts: Indonesian number formats, the URL state, the workbook's
formula neutralisation and the chart (no browser, no infrastructure)."""

import io
from datetime import date

import openpyxl
import pytest
from etalase_platform.problems import Invalid
from etalase_reporting.dashboard import chart, format, workbook
from etalase_reporting.dashboard.state import parse
from etalase_reporting.dashboard.views import Point, month_ends
from starlette.datastructures import QueryParams


def test_rupiah_and_percent_read_as_in_indonesia() -> None:
    assert format.rupiah(1_234_567) == "Rp1.234.567"
    assert format.rupiah(0) == "Rp0"
    assert format.rupiah(-5_000) == "-Rp5.000"
    assert format.percent(52.0) == "52,00%"
    assert format.percent(None) == "–"
    assert format.target(30.0) == "≥ 30%"
    assert format.day(date(2025, 8, 17)) == "17 Agu 2025"


def test_the_url_state_round_trips_and_an_empty_field_means_not_given() -> None:
    state = parse(QueryParams("fiscal_year=2025&province=33&region=33.75&as_of=2025-04-30"))
    assert (state.fiscal_year, state.province, state.region, state.as_of) == (
        2025,
        "33",
        "33.75",
        date(2025, 4, 30),
    )
    assert parse(QueryParams(state.query())) == state
    assert parse(QueryParams("fiscal_year=2025&as_of=&province=")).as_of is None
    for bad in ("as_of=2025-02-30", "fiscal_year=1999", "province=3", "region=33.7", "offset=-1"):
        with pytest.raises(Invalid):
            parse(QueryParams(bad))


@pytest.mark.parametrize("text", ["=1+1", "+62 811", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_a_workbook_keeps_formula_like_text_as_text(text: str) -> None:
    data = workbook.workbook([("S", (["name", "amount", "share"], [[text, 1_500, "37.50"]]))])
    sheet = openpyxl.load_workbook(io.BytesIO(data))["S"]
    name, amount, share = sheet[2]
    assert name.data_type == "s"
    assert name.value.replace("\n", "\r") == text  # XML reads a stored CR back as LF
    assert (amount.value, amount.data_type) == (1_500, "n")
    assert share.value == 37.5


def test_month_ends_stop_at_today() -> None:
    assert month_ends(2025, date(2025, 3, 30)) == [date(2025, 1, 31), date(2025, 2, 28)]
    assert len(month_ends(2024, date(2026, 1, 1))) == 12
    assert month_ends(2024, date(2026, 1, 1))[1] == date(2024, 2, 29)


def test_the_chart_draws_without_figures() -> None:
    svg = chart.svg([Point("Kini", None, None)], "Pangsa <uji>")
    assert svg.startswith("<svg") and "Pangsa &lt;uji&gt;" in svg
