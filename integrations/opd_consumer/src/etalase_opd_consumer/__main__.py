"""Entry point of the reference OPD consumer."""


def main() -> None:
    raise SystemExit("not built yet")
