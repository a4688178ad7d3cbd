"""`python -m etalase_reporting.main`: serve the reporting API (port 8004 by default)."""

import logging

import uvicorn

from etalase_reporting.bootstrap import create_app
from etalase_reporting.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port)


if __name__ == "__main__":
    main()
