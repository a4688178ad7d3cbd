"""The WIB day boundary and the delta vector the figures are summed from.

The figures as of a day are the sums of per-(fiscal year, OPD, WIB day) delta rows up to that day;
`order_merge` says what each order contributes to which day.
"""

from datetime import date, datetime, time, timedelta, timezone

from etalase_reporting.domain import FLAGS, MEASURES

WIB_OFFSET = timedelta(hours=7)
"""Asia/Jakarta: UTC+7 without daylight saving since 1964, so a fixed offset is exact."""
WIB = timezone(WIB_OFFSET, "WIB")

COLUMNS: tuple[str, ...] = (
    "activity",
    *(f"p_{name}" for name in MEASURES),
    *(f"r_{name}" for name in MEASURES),
    *FLAGS,
)
"""The components of a delta vector. `activity` counts the order events counted on a day, so
that an OPD is listed as of a day once any of its orders has an event by then."""


def wib_day(moment: datetime) -> date:
    return moment.astimezone(WIB).date()


def end_of_day(day: date) -> datetime:
    """The first instant after `day` in WIB: `as_of=day` counts what happened before it."""
    return datetime.combine(day + timedelta(days=1), time(), WIB)
