"""python -m chaos [--quick] [--fault NAME ...]: prints the verdict table; exits 1 on any loss."""

import argparse
import asyncio
import logging
import sys

from chaos.run import FAULTS, QUICK, run, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument("--fault", action="append", choices=sorted(FAULTS), dest="faults")
    parser.add_argument("--clients", type=int, default=6, help="concurrent order clients")
    parser.add_argument("--down-seconds", type=float, default=5.0)
    parser.add_argument("--settle-seconds", type=float, default=8.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    faults = args.faults or list(QUICK if args.quick else FAULTS)
    outcome = asyncio.run(
        run(faults, clients=args.clients, settle_s=args.settle_seconds, down_s=args.down_seconds)
    )
    print()
    print(table(outcome))
    return 0 if outcome.verdict.passed else 1


if __name__ == "__main__":
    sys.exit(main())
