"""Decoding cost of the event contract, µs per event: `etalase_events.codec.decode` (msgspec
fast path first) next to its pydantic path (the codec before the fast path), on the projection
benchmark's stream mix and on OrderPlaced with three lines, records built by the project's encoder.

    uv run python -m bench.decode [--events 20000] [--repeat 7]

Each figure is the least CPU time per event of any slice of 1,000 events over the repeats.
"""

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from etalase_events import codec, lean
from etalase_events.models import Catalog, LegalForm, OrderLine, OrderPlaced, Scale

from bench.projection import _events


def _mix(count: int) -> list[bytes]:
    return [
        codec.encode_event(event, source="bench", subject=subject, sequence=sequence).value
        for subject, event, sequence in _events(count)
    ]


def _order_with_three_lines() -> bytes:
    lines = tuple(
        OrderLine(
            line_no=number,
            product_id=f"p-{number}",
            name="Barang",
            category="komputer",
            catalog=Catalog.NASIONAL,
            quantity=number * 3,
            unit_price_idr=125_000,
            subtotal_idr=number * 3 * 125_000,
            domestic=True,
            tkdn_pct=Decimal("25.5"),
            bmp_pct=Decimal("15"),
            pdn_alternative_available=False,
        )
        for number in (1, 2, 3)
    )
    order = OrderPlaced(
        order_id="o-1",
        opd_code="33.75.1.02",
        region_code="33.75",
        fiscal_year=2026,
        vendor_id="v-1",
        vendor_scale=Scale.KECIL,
        vendor_legal_form=LegalForm.CV,
        vendor_region_code="33.75",
        lines=lines,
        total_idr=sum(line.subtotal_idr for line in lines),
        placed_at=datetime(2026, 3, 1, 8, tzinfo=UTC),
    )
    return codec.encode_event(order, source="bench", subject="o-1", sequence=1).value


def _pydantic_path(value: bytes) -> object:
    """What `codec.decode` did before the fast path, for a record of a current event type."""
    current = codec._CURRENT_ENVELOPES.validate_json(value)
    return codec.DecodedEvent(current, current.data, value)


def _us_per_event(decode: Callable[[bytes], object], values: list[bytes], repeat: int) -> float:
    # CPU time of this thread, in slices: on a shared machine the least disturbed slice is
    # closest to what decoding costs
    best = float("inf")
    size = 1000
    for _ in range(repeat):
        for start in range(0, len(values), size):
            chunk = values[start : start + size]
            started = time.thread_time()
            for value in chunk:
                decode(value)
            best = min(best, (time.thread_time() - started) / len(chunk))
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    mix = _mix(args.events)
    orders = [_order_with_three_lines()] * args.events
    deciders: list[tuple[str, Callable[[bytes], object]]] = [
        ("codec.decode (msgspec fast path)", codec.decode),
        ("pydantic path (the codec before)", _pydantic_path),
        ("msgspec fast path alone", lean.decode),
    ]
    for name, decode in deciders:
        print(
            f"{name:34} mix {_us_per_event(decode, mix, args.repeat):5.2f} µs/event,"
            f" OrderPlaced with 3 lines {_us_per_event(decode, orders, args.repeat):5.2f} µs/event"
        )


if __name__ == "__main__":
    main()
