"""What one order contributes to the figures, day by day (WIB), pure.

An order's fact is rebuilt from whichever of its events have arrived, in any order and any number
of times: for each stage (placed, accepted, completed, cancelled) the event with the lowest
(sequence, event id) wins, so the fact does not depend on arrival order. Its contribution is a set
of per-day deltas: the figures as of a day are the sum of the deltas up to that day. When a fact
changes, the projection adds (new contribution − old contribution).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from etalase_events.models import OrderAccepted, OrderCancelled, OrderCompleted, OrderPlaced

from etalase_reporting.domain import FLAGS, MEASURES, OrderClasses, classify

WIB = timezone(timedelta(hours=7), "WIB")
"""Asia/Jakarta: UTC+7 without daylight saving since 1964, so a fixed offset is exact."""

COLUMNS: tuple[str, ...] = (
    "activity",
    *(f"p_{name}" for name in MEASURES),
    *(f"r_{name}" for name in MEASURES),
    *FLAGS,
)
"""The components of a delta vector. `activity` counts the order events counted on a day, so
that an OPD is listed as of a day once any of its orders has an event by then."""
_PLACED = 1
_REALIZED = 1 + len(MEASURES)
_FLAGS = 1 + 2 * len(MEASURES)

Vector = tuple[int, ...]
DeltaKey = tuple[int, str, date]
"""(fiscal_year, opd_code, WIB day)."""

OrderEvent = OrderPlaced | OrderAccepted | OrderCompleted | OrderCancelled


def wib_day(moment: datetime) -> date:
    return moment.astimezone(WIB).date()


def end_of_day(day: date) -> datetime:
    """The first instant after `day` in WIB: `as_of=day` counts what happened before it."""
    return datetime.combine(day + timedelta(days=1), time(), WIB)


@dataclass(frozen=True)
class Stamp:
    """The event that set a stage of an order."""

    event_id: str
    sequence: int
    at: datetime

    def precedes(self, other: "Stamp | None") -> bool:
        return other is None or (self.sequence, self.event_id) < (other.sequence, other.event_id)


def _first(stamp: Stamp, current: Stamp | None) -> Stamp | None:
    return stamp if stamp.precedes(current) else current


@dataclass(frozen=True)
class Placement:
    fiscal_year: int
    opd_code: str
    region_code: str
    classes: OrderClasses
    stamp: Stamp


@dataclass(frozen=True)
class OrderFact:
    order_id: str
    placed: Placement | None = None
    accepted: Stamp | None = None
    completed: Stamp | None = None
    cancelled: Stamp | None = None

    def record(self, event: OrderEvent, event_id: str, sequence: int) -> "OrderFact":
        """The fact with `event` taken into account (itself when the event changes nothing)."""
        placed, accepted, completed, cancelled = (
            self.placed,
            self.accepted,
            self.completed,
            self.cancelled,
        )
        if isinstance(event, OrderPlaced):
            stamp = Stamp(event_id, sequence, event.placed_at)
            if placed is not None and not stamp.precedes(placed.stamp):
                return self
            placed = Placement(
                event.fiscal_year, event.opd_code, event.region_code, classify(event), stamp
            )
        elif isinstance(event, OrderAccepted):
            accepted = _first(Stamp(event_id, sequence, event.accepted_at), accepted)
        elif isinstance(event, OrderCompleted):
            completed = _first(Stamp(event_id, sequence, event.completed_at), completed)
        else:
            cancelled = _first(Stamp(event_id, sequence, event.cancelled_at), cancelled)
        return OrderFact(self.order_id, placed, accepted, completed, cancelled)

    @property
    def placed_day(self) -> date | None:
        return wib_day(self.placed.stamp.at) if self.placed else None

    @property
    def uncounted_day(self) -> date | None:
        """The day from which a cancelled order no longer counts as placed."""
        if self.placed is None or self.cancelled is None:
            return None
        return wib_day(max(self.placed.stamp.at, self.cancelled.at))

    @property
    def realized_day(self) -> date | None:
        if self.placed is None or self.completed is None:
            return None
        return wib_day(self.completed.at)


class Deltas:
    """Per-day delta vectors, accumulated in place (a batch adds many orders' changes)."""

    def __init__(self) -> None:
        self._rows: dict[DeltaKey, list[int]] = {}

    def _add(self, key: DeltaKey, start: int, numbers: Iterable[int], sign: int) -> None:
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = [0] * len(COLUMNS)
        for index, number in enumerate(numbers, start):
            row[index] += sign * number

    def add_order(self, fact: OrderFact, sign: int = 1) -> None:
        """Add (sign 1) or take away (sign -1) what `fact` contributes, day by day."""
        placement = fact.placed
        if placement is None:
            return  # without its OrderPlaced nothing about the order is known yet
        classes = placement.classes
        amounts = (1, *classes.amounts)
        flags = (int(classes.reserved_package_violation), classes.pdn_substitution_lines)
        fiscal_year, opd_code = placement.fiscal_year, placement.opd_code
        placed_on = (fiscal_year, opd_code, wib_day(placement.stamp.at))
        self._add(placed_on, 0, (1,), sign)  # `activity`: one more event counted that day
        self._add(placed_on, _PLACED, amounts, sign)
        self._add(placed_on, _FLAGS, flags, sign)
        if fact.uncounted_day is not None:
            uncounted_on = (fiscal_year, opd_code, fact.uncounted_day)
            self._add(uncounted_on, 0, (1,), sign)
            self._add(uncounted_on, _PLACED, amounts, -sign)
            self._add(uncounted_on, _FLAGS, flags, -sign)
        if fact.realized_day is not None:
            realized_on = (fiscal_year, opd_code, fact.realized_day)
            self._add(realized_on, 0, (1,), sign)
            self._add(realized_on, _REALIZED, amounts, sign)

    def change(self, old: OrderFact | None, new: OrderFact) -> None:
        """Add what changes in the figures when `old` becomes `new`."""
        self.add_order(new)
        if old is not None:
            self.add_order(old, -1)

    def nonzero(self) -> dict[DeltaKey, Vector]:
        return {key: tuple(row) for key, row in self._rows.items() if any(row)}


def contributions(fact: OrderFact) -> dict[DeltaKey, Vector]:
    """The order's deltas by day."""
    deltas = Deltas()
    deltas.add_order(fact)
    return deltas.nonzero()


def delta(old: OrderFact | None, new: OrderFact) -> dict[DeltaKey, Vector]:
    """What changes in the per-day figures when `old` becomes `new`; zero rows left out."""
    deltas = Deltas()
    deltas.change(old, new)
    return deltas.nonzero()
