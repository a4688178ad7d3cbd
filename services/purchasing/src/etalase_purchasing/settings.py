"""Purchasing's settings: `PURCHASING_DATABASE_URL`, `PURCHASING_HTTP_PORT` (8003), ..."""

from etalase_platform.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="PURCHASING_", extra="ignore", populate_by_name=True
    )

    service_name: str = "purchasing"
    database_url: str = "postgresql+asyncpg://etalase:etalase@localhost:5432/etalase_purchasing"
    http_port: int = 8003
