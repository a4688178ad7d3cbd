"""`python -m demo`: plays the Etalase scenario against running services (see demo/__init__.py)."""

import argparse
import asyncio
import os
import re
import sys
from pathlib import Path

from demo.api import Endpoints
from demo.scenario import Options, run


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description="A fiscal year of procurement in Kota Pekalongan and its neighbours, played"
        " through the public APIs; prints the compliance report and checks it independently.",
    )
    parser.add_argument("--seed", type=int, default=7, help="same seed, same scenario (default 7)")
    parser.add_argument("--vendors", type=int, default=500)
    parser.add_argument("--products", type=int, default=3000)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument(
        "--fiscal-year", type=int, help="default: this year in WIB, or the next one not yet played"
    )
    parser.add_argument(
        "--tag",
        default="",
        help="letters/digits appended to every OPD code, to keep this run apart from other data"
        " on the same Kafka (the tests use it)",
    )
    parser.add_argument("--concurrency", type=int, default=24, help="HTTP calls in flight")
    parser.add_argument("--json-out", type=Path, help="also write the figures compared, as JSON")
    parser.add_argument("--zipkin-url", default="http://localhost:9411")
    parser.add_argument(
        "--prometheus-url",
        default=f"http://localhost:{os.environ.get('PROMETHEUS_PORT', '9090')}",
        help="default from PROMETHEUS_PORT (deploy/prometheus.sh)",
    )
    for service in ("registration", "catalog", "purchasing", "reporting"):
        parser.add_argument(f"--{service}-url", help=f"default from {service.upper()}_HTTP_PORT")
    args = parser.parse_args(argv)
    if args.tag and not re.fullmatch(r"[0-9A-Za-z]+", args.tag):
        parser.error("--tag takes letters and digits only")
    if args.vendors < 20 or args.products < 15 or args.orders < 1:
        parser.error("the smallest scenario has 20 vendors, 15 products (one a category), 1 order")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    endpoints = Endpoints.from_env(
        registration=args.registration_url,
        catalog=args.catalog_url,
        purchasing=args.purchasing_url,
        reporting=args.reporting_url,
    )
    options = Options(
        seed=args.seed,
        vendors=args.vendors,
        products=args.products,
        orders=args.orders,
        fiscal_year=args.fiscal_year,
        tag=args.tag,
        concurrency=args.concurrency,
        json_out=args.json_out,
        zipkin_url=args.zipkin_url.rstrip("/"),
        prometheus_url=args.prometheus_url.rstrip("/"),
    )
    return 0 if asyncio.run(run(options, endpoints)) else 1


if __name__ == "__main__":
    sys.exit(main())
