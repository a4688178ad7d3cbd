"""`python -m etalase_catalog.main`: serve the catalog (port 8002 unless CATALOG_HTTP_PORT)."""

import uvicorn

from etalase_catalog.bootstrap import create_app
from etalase_catalog.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port)


if __name__ == "__main__":
    main()
