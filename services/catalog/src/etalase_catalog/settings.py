"""The catalog's settings: `CATALOG_DATABASE_URL`, `CATALOG_HTTP_PORT` (8002), ..."""

from etalase_platform.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore", populate_by_name=True)

    service_name: str = "catalog"
    database_url: str = "postgresql+asyncpg://etalase:etalase@localhost:5432/etalase_catalog"
    http_port: int = 8002
