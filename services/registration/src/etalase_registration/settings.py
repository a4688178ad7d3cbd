"""Settings of the registration service: env prefix ``REGISTRATION_``, port 8001."""

from etalase_platform.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="REGISTRATION_", extra="ignore", populate_by_name=True
    )

    service_name: str = "registration"
    database_url: str = "postgresql+asyncpg://etalase:etalase@localhost:5432/etalase_registration"
    http_port: int = 8001
