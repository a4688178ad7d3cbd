"""Settings from the environment (names in docs/integrators.md)."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    """`postgresql+asyncpg://...`: the OPD's own database."""
    opd_code: str
    """The one OPD whose orders and budgets are kept, e.g. `33.75.1.02.01`."""
    fiscal_year: int | None = None
    """Only this fiscal year's orders and budgets; all years when None."""
    kafka_bootstrap_servers: str = "localhost:9092"
    group_id: str | None = None
    """The Kafka consumer group; `etalase-opd-consumer.<opd_code>` when None."""
    start_from: Literal["earliest", "latest"] = "earliest"
    """Where a new group starts reading: the whole retained history, or only what comes next."""

    @property
    def group(self) -> str:
        return self.group_id or f"etalase-opd-consumer.{self.opd_code}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise SettingsError(f"{name} is required")
            return value

        year = env.get("OPD_CONSUMER_FISCAL_YEAR", "").strip()
        if year and not year.isdigit():
            raise SettingsError(f"OPD_CONSUMER_FISCAL_YEAR must be a year, not {year!r}")
        start = env.get("OPD_CONSUMER_START_FROM", "earliest").strip()
        if start not in ("earliest", "latest"):
            raise SettingsError(
                f"OPD_CONSUMER_START_FROM must be earliest or latest, not {start!r}"
            )
        return cls(
            database_url=required("OPD_CONSUMER_DATABASE_URL"),
            opd_code=required("OPD_CONSUMER_OPD_CODE"),
            fiscal_year=int(year) if year else None,
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
            group_id=env.get("OPD_CONSUMER_GROUP_ID") or None,
            start_from=cast(Literal["earliest", "latest"], start),
        )
