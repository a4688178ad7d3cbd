"""`python -m etalase_registration.main`: serve the registration service with uvicorn."""

from etalase_platform.definition import serve

from etalase_registration.bootstrap import SERVICE


def main() -> None:
    serve(SERVICE)


if __name__ == "__main__":
    main()
