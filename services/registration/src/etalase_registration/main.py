"""`python -m etalase_registration.main`: serve the registration service with uvicorn."""

from etalase_platform.logs import serve

from etalase_registration.bootstrap import create_app
from etalase_registration.settings import Settings


def main() -> None:
    settings = Settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
