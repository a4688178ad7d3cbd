"""`python -m etalase_purchasing.main`: serves the API and its consumers with uvicorn."""

from etalase_platform.http import serve

from etalase_purchasing.bootstrap import create_app
from etalase_purchasing.settings import Settings


def main() -> None:
    settings = Settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
