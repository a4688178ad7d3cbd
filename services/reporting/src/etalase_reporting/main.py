"""`python -m etalase_reporting.main`: serve the reporting API (port 8004 by default)."""

import gc
import logging

from etalase_platform.http import serve

from etalase_reporting.bootstrap import create_app
from etalase_reporting.settings import Settings

GC_THRESHOLDS = (50_000, 20, 100)
"""A batch keeps thousands of decoded events alive until it commits, and aiokafka holds the
prefetched records: with CPython's default thresholds (700, 10, 10) the cyclic collector walks
them again and again, which cost more CPU than decoding and projecting the events (measured: 91
vs 35 µs per event). Young collections every 50,000 allocations instead of 700 keep memory flat
(batches are freed by reference counting) and the projection 2.5x faster."""


def tune_garbage_collector() -> tuple[int, int, int]:
    """Apply `GC_THRESHOLDS` to this process; returns the thresholds it had."""
    previous = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    return previous


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    tune_garbage_collector()
    settings = Settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
