"""`python -m etalase_registration.main`: serve the registration service with uvicorn."""

import logging

import uvicorn

from etalase_registration.bootstrap import create_app
from etalase_registration.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port)


if __name__ == "__main__":
    main()
