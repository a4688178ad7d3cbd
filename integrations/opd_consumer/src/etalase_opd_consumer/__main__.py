"""`python -m etalase_opd_consumer [run|asyncapi [--yaml]]` (also `etalase-opd-consumer`)."""

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from etalase_opd_consumer.app import create_app
from etalase_opd_consumer.settings import Settings, SettingsError


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="etalase-opd-consumer",
        description="Keeps one OPD's Etalase orders and remaining pagu in its own PostgreSQL.",
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="consume (the default); settings from the environment")
    asyncapi = commands.add_parser("asyncapi", help="print the AsyncAPI document (3.0, JSON)")
    asyncapi.add_argument("--yaml", action="store_true", help="YAML instead of JSON")
    arguments = parser.parse_args(argv)

    if arguments.command == "asyncapi":
        # the document does not depend on where the database is
        settings = Settings(
            database_url="",
            opd_code=os.environ.get("OPD_CONSUMER_OPD_CODE", "<opd_code>"),
        )
        specification = create_app(settings).schema.to_specification()
        print(specification.to_yaml() if arguments.yaml else specification.to_json())
        return
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        sys.exit(f"etalase-opd-consumer: {error}")
    logging.basicConfig(
        level=os.environ.get("OPD_CONSUMER_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    asyncio.run(create_app(settings).run())


if __name__ == "__main__":
    main()
