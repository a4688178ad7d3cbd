"""`python -m etalase_reporting.main`: serve the reporting API (port 8004 by default)."""

from functools import partial

from etalase_platform import definition

from etalase_reporting.bootstrap import GC_THRESHOLDS, SERVICE

tune_garbage_collector = partial(definition.tune_garbage_collector, GC_THRESHOLDS)
"""What `main` applies to this process (bench/projection.py measures with the same)."""


def main() -> None:
    definition.serve(SERVICE)


if __name__ == "__main__":
    main()
