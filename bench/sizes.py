"""How much each benchmark does: the full run, and the quick one (a smoke test of the harness whose
figures are too small to conclude anything from)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    relay_events: int
    projection_events: int
    projection_processes: int
    views_events: int
    clients: int
    write_warmup_s: float
    write_measure_s: float
    freshness_rate: float
    freshness_warmup_s: float
    freshness_s: float
    opds: int
    vendors: int
    products: int


FULL = Sizes(
    relay_events=200_000,
    projection_events=1_000_000,
    projection_processes=2,
    views_events=200_000,
    clients=32,
    write_warmup_s=5.0,
    write_measure_s=30.0,
    freshness_rate=100.0,
    freshness_warmup_s=5.0,
    freshness_s=60.0,
    opds=64,
    vendors=20,
    products=100,
)

QUICK = Sizes(
    relay_events=5_000,
    projection_events=20_000,
    projection_processes=2,
    views_events=5_000,
    clients=32,
    write_warmup_s=1.0,
    write_measure_s=3.0,
    freshness_rate=20.0,
    freshness_warmup_s=1.0,
    freshness_s=5.0,
    opds=8,
    vendors=4,
    products=12,
)
