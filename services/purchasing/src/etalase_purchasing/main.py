"""`python -m etalase_purchasing.main`: serves the API and its consumers with uvicorn."""

import uvicorn

from etalase_purchasing.bootstrap import create_app
from etalase_purchasing.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port)


if __name__ == "__main__":
    main()
