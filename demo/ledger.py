"""The scenario's own record of what it did: ids the services gave, budgets as set, and every
order with the facts it was placed with and the transitions it went through.

It is written from the scenario's plan and the calls that succeeded, never from what reporting
says, so that `demo.compliance` can recompute the figures independently.
"""

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Line:
    product_id: str
    category: str
    catalog: str
    quantity: int
    unit_price_idr: int
    domestic: bool
    tkdn_pct: Decimal | None
    bmp_pct: Decimal | None
    pdn_alternative_available: bool

    @property
    def subtotal_idr(self) -> int:
        return self.quantity * self.unit_price_idr


@dataclass
class Order:
    order_id: str
    opd_code: str
    region_code: str
    fiscal_year: int
    vendor_scale: str
    vendor_legal_form: str
    vendor_region_code: str
    lines: tuple[Line, ...]
    status: str = "placed"
    transitions: list[str] = field(default_factory=lambda: ["placed"])

    @property
    def total_idr(self) -> int:
        return sum(line.subtotal_idr for line in self.lines)

    def moved_to(self, status: str) -> None:
        self.status = status
        self.transitions.append(status)


@dataclass(frozen=True)
class Budget:
    opd_code: str
    opd_name: str
    region_code: str
    pagu_idr: int


@dataclass(frozen=True)
class Rejection:
    """A call made to show a rule at work, and how the service answered."""

    what: str
    expected: int
    got: int
    detail: str

    @property
    def as_expected(self) -> bool:
        return self.expected == self.got


@dataclass(frozen=True)
class Match:
    """A buyer asked POST /orders/check first, and ordered a PDN-wajib alternative instead."""

    opd_code: str
    checked: str
    """The product the buyer had in mind (a substitution line, said the check)."""
    suggested: int
    taken: str
    named: bool
    """The check named `taken`; else it named only other runs' products, and `taken` is this
    run's cheapest PDN-wajib product of the category."""
    substitution_before: bool
    substitution_after: bool


@dataclass
class Ledger:
    fiscal_year: int
    vendor_ids: dict[int, str] = field(default_factory=dict)
    vendor_nibs: dict[int, str] = field(default_factory=dict)
    product_ids: dict[int, str] = field(default_factory=dict)
    budgets: dict[str, Budget] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    snapshot_mismatches: list[str] = field(default_factory=list)
    """Orders purchasing priced or classified differently from what the scenario listed: its view
    of the catalogue was behind. Reported, never silently adopted."""

    def count(self, status: str) -> int:
        return sum(1 for order in self.orders if order.status == status)
