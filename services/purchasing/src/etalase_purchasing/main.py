"""`python -m etalase_purchasing.main`: serves the API and its consumers with uvicorn."""

from etalase_platform.definition import serve

from etalase_purchasing.bootstrap import SERVICE


def main() -> None:
    serve(SERVICE)


if __name__ == "__main__":
    main()
