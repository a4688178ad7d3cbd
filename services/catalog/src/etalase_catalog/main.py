"""`python -m etalase_catalog.main`: serve the catalog (port 8002 unless CATALOG_HTTP_PORT)."""

from etalase_platform.http import serve

from etalase_catalog.bootstrap import create_app
from etalase_catalog.settings import Settings


def main() -> None:
    settings = Settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
