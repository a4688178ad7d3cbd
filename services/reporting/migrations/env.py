from etalase_platform.migrations import run_migrations
from etalase_reporting.tables import REGISTRY

run_migrations(REGISTRY)
