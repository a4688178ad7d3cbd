"""`python -m etalase_catalog.main`: serve the catalog (port 8002 unless CATALOG_HTTP_PORT)."""

from etalase_platform.definition import serve

from etalase_catalog.bootstrap import SERVICE


def main() -> None:
    serve(SERVICE)


if __name__ == "__main__":
    main()
