"""Settings of the reporting service (env prefix `REPORTING_`; targets in `ETALASE_TARGETS`)."""

from decimal import Decimal

from etalase_platform.settings import ServiceSettings, shared
from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from etalase_reporting.domain import Share, default_targets


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_")

    service_name: str = "reporting"
    http_port: int = 8004
    consumer_batch_size: int = 2000
    """Events per transaction: larger batches amortise the fixed statements of a batch."""

    target_overrides: dict[Share, Decimal | None] = Field(
        default_factory=dict, validation_alias=shared("ETALASE_TARGETS")
    )
    """JSON, e.g. `{"umkk_of_pagu": 40, "ecatalog_of_pagu": 30, "pdn_of_spend": 95}`: a share
    given replaces its default target, `null` removes it, `local_of_spend` may get one."""

    switch_poll_seconds: float = 0.5

    projection_processes: int = Field(1, ge=1)
    """Processes applying the projections, one consumer group per projection across them
    (`REPORTING_PROJECTION_PROCESSES`): this one and N-1 workers it starts. Kafka gives each a
    share of the partitions, so more than a projection's partitions leave the rest idle."""

    ocds_prefix: str = "ocds-etalase-"
    """OCDS ocid prefix (`REPORTING_OCDS_PREFIX`); a publisher registers its own with OCP."""
    dashboard_secure_cookie: bool | None = None
    """The dashboard's session cookie is `Secure` (HTTPS only); by default when ETALASE_ENV=prod."""

    @property
    def secure_cookie(self) -> bool:
        if self.dashboard_secure_cookie is None:
            return self.environment == "prod"
        return self.dashboard_secure_cookie

    @field_validator("target_overrides")
    @classmethod
    def _targets_are_percentages(
        cls, value: dict[Share, Decimal | None]
    ) -> dict[Share, Decimal | None]:
        for share, target in value.items():
            if target is not None and not Decimal(0) <= target <= Decimal(100):
                raise ValueError(f"target of {share} must be between 0 and 100")
        return value

    @property
    def targets(self) -> dict[Share, Decimal]:
        merged: dict[Share, Decimal | None] = {**default_targets(), **self.target_overrides}
        return {share: target for share, target in merged.items() if target is not None}
