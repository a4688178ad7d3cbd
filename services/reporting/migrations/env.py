from etalase_platform.migrations import run_migrations

run_migrations()
