"""Upcasters: functions that turn the `data` of an older event version into the next version's.

Decoding chains them, so handlers only ever see the newest version of each event.
"""

import copy
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class Upcasters:
    """A registry of upcasters, one per older event type."""

    def __init__(self) -> None:
        self._steps: dict[str, tuple[str, Upcaster]] = {}

    def register(self, from_type: str, to_type: str) -> Callable[[Upcaster], Upcaster]:
        """Decorator: register an upcaster from `from_type` to `to_type` (e.g. "X.v1" to "X.v2").

        The function gets a copy of the data that it may change and return.
        """

        def add(upcaster: Upcaster) -> Upcaster:
            if from_type in self._steps:
                raise ValueError(f"an upcaster from {from_type} is already registered")
            self._steps[from_type] = (to_type, upcaster)
            try:
                self._check_no_cycle(from_type)
            except ValueError:
                del self._steps[from_type]
                raise
            return upcaster

        return add

    def _check_no_cycle(self, start: str) -> None:
        # A cycle would make decoding loop forever; refuse it when it is made instead.
        seen = {start}
        current = self._steps[start][0]
        while current in self._steps:
            if current in seen:
                raise ValueError(f"upcasters from {start} form a cycle")
            seen.add(current)
            current = self._steps[current][0]

    def upcast(self, event_type: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Follow the upcasters from `event_type` as far as they go: the final type and data.

        Raises whatever an upcaster raises (KeyError, ValueError, TypeError) for data it cannot
        convert.
        """
        if event_type not in self._steps:
            return event_type, data
        data = copy.deepcopy(data)
        while event_type in self._steps:
            event_type, step = self._steps[event_type]
            data = step(data)
        return event_type, data


UPCASTERS = Upcasters()
register_upcaster = UPCASTERS.register
upcast = UPCASTERS.upcast


def _whole_rupiah(amount: object) -> int:
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValueError(f"{amount!r} is not an amount of rupiah") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError(f"{amount!r} is not a whole amount of rupiah")
    return int(value)


@register_upcaster("ProductPriceChanged.v0", "ProductPriceChanged.v1")
def product_price_changed_v0(data: dict[str, Any]) -> dict[str, Any]:
    """ProductPriceChanged.v0, published by the catalog pilot before the contract fixed money as
    JSON integers: `product_id`, `price` and `old_price` (rupiah as decimal strings, e.g.
    `"150000"` or `"150000.00"`), `changed_at`.

    v1 retyped and renamed the amounts to `price_idr` and `previous_price_idr`. The mapping is
    exact; an amount with a fraction of a rupiah has no honest v1 form and is refused.
    """
    data["price_idr"] = _whole_rupiah(data.pop("price"))
    data["previous_price_idr"] = _whole_rupiah(data.pop("old_price"))
    return data
