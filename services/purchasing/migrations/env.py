from etalase_platform.migrations import run_migrations
from etalase_purchasing.db import Table

run_migrations(Table.metadata)
