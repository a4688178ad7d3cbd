"""A view's state, held in its URL's query so that a link can be shared: fiscal year, as_of,
province, kab/kota, OPD. Parsed here rather than by FastAPI because an HTML form sends a field
left empty as `name=`, which means "not given", not invalid input."""

import re
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlencode

from etalase_platform.problems import Invalid
from starlette.datastructures import QueryParams

from etalase_reporting.dashboard.views import today

PROVINCE = re.compile(r"[1-9][0-9]")
REGION = re.compile(r"[1-9][0-9](\.[0-9]{2})?")


@dataclass(frozen=True)
class State:
    fiscal_year: int
    as_of: date | None = None
    province: str | None = None
    region: str | None = None
    """A kab/kota (or province) whose OPDs are shown; the statistics' region."""
    opd: str | None = None
    wilayah: str | None = None
    """The region of a trend or of a workbook."""
    offset: int = 0

    def query(self, **changes: object) -> str:
        state = replace(self, **changes)  # type: ignore[arg-type]
        pairs: list[tuple[str, str]] = [("fiscal_year", str(state.fiscal_year))]
        for name in ("province", "region", "opd", "wilayah"):
            value = getattr(state, name)
            if value:
                pairs.append((name, value))
        if state.as_of:
            pairs.append(("as_of", state.as_of.isoformat()))
        return urlencode(pairs)

    @property
    def as_of_param(self) -> str:
        return f"&as_of={self.as_of.isoformat()}" if self.as_of else ""


def _text(params: QueryParams, name: str, shape: re.Pattern[str] | None = None) -> str | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    if shape is not None and not shape.fullmatch(value):
        raise Invalid(name, f"{value!r} is not a valid code")
    if len(value) > 64:
        raise Invalid(name, "too long")
    return value


def parse(params: QueryParams) -> State:
    raw_year = params.get("fiscal_year", "").strip()
    fiscal_year = today().year
    if raw_year:
        if not raw_year.isdigit() or not 2000 <= int(raw_year) <= 2100:
            raise Invalid("fiscal_year", "a year between 2000 and 2100")
        fiscal_year = int(raw_year)
    as_of = None
    raw_day = params.get("as_of", "").strip()
    if raw_day:
        try:
            as_of = date.fromisoformat(raw_day)
        except ValueError as error:
            raise Invalid("as_of", "a date as YYYY-MM-DD") from error
    raw_offset = params.get("offset", "0").strip() or "0"
    if not raw_offset.isdigit() or int(raw_offset) > 10**9:
        raise Invalid("offset", "a whole number, 0 or more")
    return State(
        fiscal_year=fiscal_year,
        as_of=as_of,
        province=_text(params, "province", PROVINCE),
        region=_text(params, "region", REGION),
        opd=_text(params, "opd"),
        wilayah=_text(params, "wilayah", REGION),
        offset=int(raw_offset),
    )
