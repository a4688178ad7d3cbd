from etalase_catalog.db import CatalogTable
from etalase_platform.migrations import run_migrations

run_migrations(CatalogTable.metadata)
