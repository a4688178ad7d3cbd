"""One settings base for every service.

Each service subclasses `ServiceSettings` with its own `env_prefix` (``REGISTRATION_``...), so its
database URL is ``REGISTRATION_DATABASE_URL``. What all services share (Kafka, the JWT secret,
OpenTelemetry) is read without a prefix, under the names ops.md and api.md give.
"""

from typing import Literal, Self

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "etalase-dev-secret-not-for-production"

FETCH_MAX_BYTES = 4 << 20
"""A consumer's bound on one fetch from the broker, over all its partitions. aiokafka keeps a
response whole until every record in it is consumed, and its own default (50 MiB) let each of
reporting's consumers hold tens of MiB while it catches up; a rebuild runs a second generation of
them. 4 MiB is still two batches of the largest events ahead of the projector."""
MAX_PARTITION_FETCH_BYTES = 1 << 20
"""A consumer's bound on one partition's share of a fetch (aiokafka's default)."""


def shared(name: str) -> AliasChoices:
    """An environment variable read without the service prefix."""
    return AliasChoices(name)


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "etalase"
    database_url: str = "postgresql+asyncpg://etalase:etalase@localhost:5432/etalase"
    http_host: str = "127.0.0.1"
    http_port: int = 8000

    environment: Literal["dev", "test", "prod"] = Field(
        "dev", validation_alias=shared("ETALASE_ENV")
    )
    kafka_bootstrap_servers: str = Field(
        "localhost:9092", validation_alias=shared("KAFKA_BOOTSTRAP_SERVERS")
    )
    jwt_secret: str | None = Field(None, validation_alias=shared("ETALASE_JWT_SECRET"))
    otlp_endpoint: str | None = Field(None, validation_alias=shared("OTEL_EXPORTER_OTLP_ENDPOINT"))
    trace_file: str | None = Field(None, validation_alias=shared("ETALASE_TRACE_FILE"))
    zipkin_endpoint: str | None = Field(
        None, validation_alias=shared("OTEL_EXPORTER_ZIPKIN_ENDPOINT")
    )

    trusted_hosts: str = Field("*", validation_alias=shared("ETALASE_TRUSTED_HOSTS"))
    """Comma-separated names the service answers for (`*.example.go.id` for a domain); `*`
    answers every Host. Nothing echoes the Host either way (no redirects are sent)."""

    relay_batch_size: int = 500
    # the relay wakes on each commit (LISTEN/NOTIFY); this poll only covers a missed notification
    relay_idle_poll_seconds: float = 1.0
    # published outbox rows and applied-event ids are kept this long for audits and dedup
    outbox_retention_hours: float = 24.0
    inbox_retention_days: float = 14.0
    consumer_batch_size: int = 500
    consumer_fetch_max_bytes: int = Field(FETCH_MAX_BYTES, ge=1 << 10)
    consumer_max_partition_fetch_bytes: int = Field(MAX_PARTITION_FETCH_BYTES, ge=1 << 10)
    consumer_group: str | None = None

    @model_validator(mode="after")
    def _secrets_are_explicit_outside_dev(self) -> Self:
        if self.jwt_secret is None:
            if self.environment == "prod":
                raise ValueError("ETALASE_JWT_SECRET must be set when ETALASE_ENV=prod")
            self.jwt_secret = DEV_JWT_SECRET
        return self

    @property
    def group_id(self) -> str:
        return self.consumer_group or f"etalase.{self.service_name}"

    @property
    def secret(self) -> str:
        assert self.jwt_secret is not None  # set by the validator
        return self.jwt_secret
