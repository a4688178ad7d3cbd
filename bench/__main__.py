"""`python -m bench [--quick]`: run every benchmark, print the table, write the JSON and
docs/benchmarks.md.

Needs Kafka and PostgreSQL (`KAFKA_BOOTSTRAP_SERVERS`, `ETALASE_POSTGRES_URL`: `source .run/env`
after `bash deploy/up.sh`); starts the services and the baseline itself. Exits 1 when a benchmark
could not run; a missed target is reported, not an error.
"""

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Coroutine
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from bench import markdown, report
from bench.environment import REPO
from bench.processes import SERVICES
from bench.run import SECTIONS, Results, run_all
from bench.sizes import FULL, QUICK, Sizes

FINDINGS = Path(__file__).parent / "findings.md"


async def _cancellable(work: Coroutine[Any, Any, Results]) -> Results:
    """SIGTERM cancels the run like Ctrl-C does, so that the servers it started are stopped and
    its databases dropped."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await work


def _size(text: str) -> tuple[str, float]:
    name, _, value = text.partition("=")
    if name not in {f.name for f in fields(Sizes)}:
        raise argparse.ArgumentTypeError(f"no size {name!r} in bench/sizes.py")
    return name, float(value)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smallest sizes: a smoke test")
    parser.add_argument(
        "--json", type=Path, default=REPO / "bench" / "results" / "latest.json", help="JSON out"
    )
    parser.add_argument(
        "--markdown", type=Path, default=REPO / "docs" / "benchmarks.md", help="markdown out"
    )
    parser.add_argument(
        "--logs", type=Path, default=REPO / ".run" / "bench", help="the servers' log files"
    )
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        choices=SERVICES,
        help="run this service under pyinstrument (report next to its log; skews its figures)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        help="run only this part (repeatable; the table then marks the others not run)",
    )
    parser.add_argument(
        "--size",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        type=_size,
        help="override one of the sizes (bench/sizes.py), e.g. write_measure_s=10",
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="run nothing: write the table and markdown again from a results file",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    if args.render:
        results = json.loads(args.render.read_text())
        results.pop("rows", None)
    else:
        command = "uv run python -m bench" + (" --quick" if args.quick else "")
        sizes = QUICK if args.quick else FULL
        overrides = {name: type(getattr(sizes, name))(value) for name, value in args.size}
        sizes = replace(sizes, **overrides)
        run = run_all(
            sizes,
            quick=args.quick,
            command=command,
            logs=args.logs,
            profile=args.profile,
            only=args.only or SECTIONS,
        )
        results = asyncio.run(_cancellable(run))

    rows = report.rows(results)
    print()
    print(report.table(rows))
    report.write_json(results, rows, args.json)
    # the findings interpret a full run; a quick run's figures do not bear them out
    findings = FINDINGS if results["mode"] == "full" else None
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(markdown.render(results, rows, findings))
    print(f"\nwrote {args.json} and {args.markdown}")
    return 1 if any(row.met is None for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
