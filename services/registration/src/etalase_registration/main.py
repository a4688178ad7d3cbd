"""`python -m etalase_registration.main`: serve the registration service with uvicorn."""

import logging

from etalase_platform.http import serve

from etalase_registration.bootstrap import create_app
from etalase_registration.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
