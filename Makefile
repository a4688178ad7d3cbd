# Etalase: `make demo` runs the whole system; `make test` runs the suite against real Kafka and
# PostgreSQL. Both install what they need on a fresh Debian machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN_ENV := .run/env
PYTEST_ARGS ?=
# `make lint` checks each service's declared tables (and the platform's) against its migrations.
MODELLED := $(foreach service,registration catalog purchasing reporting,services/$(service)/migrations)

.PHONY: help install up down demo test test-fast lint bench chaos schemas services

help:
	@echo "make demo    install, start Kafka, PostgreSQL, the services, Zipkin and Prometheus; play a scenario"
	@echo "make test    install, start Kafka and PostgreSQL, run the whole test suite (fast tier first)"
	@echo "make test-fast   the fast tier only (-m \"not infra\"): no Kafka or PostgreSQL needed"
	@echo "make lint    ruff, mypy --strict, schema staleness, model/migration drift (needs make up),"
	@echo "             deployment manifests, alert rules"
	@echo "make bench   benchmarks (BENCH_ARGS=--quick for a short run)"
	@echo "make chaos   fault injection under load on a private stack (CHAOS_ARGS=--quick)"
	@echo "make up / make down   start / stop the infrastructure and services"

$(UV):
	python3 -m pip install --quiet --user "uv==0.13.9" || python3 -m pip install --quiet --break-system-packages --user "uv==0.13.9"

install: $(UV)
	$(UV) sync --frozen
	bash deploy/tools.sh

up: install
	bash deploy/up.sh

down:
	-bash deploy/services.sh stop
	-bash deploy/zipkin.sh stop
	-bash deploy/prometheus.sh stop
	bash deploy/down.sh

# The fast tier runs first, before Kafka and PostgreSQL are started and with addresses that
# answer nothing, which proves it needs neither; then the tier marked `infra` runs against both.
# Exit status 5 is pytest's "nothing selected" (a PYTEST_ARGS that names one tier's tests only).
NOWHERE := KAFKA_BOOTSTRAP_SERVERS=localhost:1 ETALASE_POSTGRES_URL=postgresql://nobody@localhost:1/none
test: install
	$(NOWHERE) $(UV) run --frozen pytest -m "not infra" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	bash deploy/up.sh
	source $(RUN_ENV) && CI=$${CI:-true} $(UV) run --frozen pytest -m infra $(PYTEST_ARGS) || [ $$? -eq 5 ]

test-fast: install
	$(NOWHERE) $(UV) run --frozen pytest -m "not infra" $(PYTEST_ARGS)

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy libs services integrations bench chaos demo deploy tests
	$(UV) run --frozen python -m etalase_events.schemas --check
	$(UV) run --frozen python -m etalase_events.compat
	if [[ -f $(RUN_ENV) ]]; then source $(RUN_ENV); fi; \
	  $(UV) run --frozen python -m etalase_platform.drift $(MODELLED)
	bash deploy/validate.sh
	promtool check rules deploy/observability/rules/*.yml
	promtool test rules deploy/observability/tests/*.yml

schemas: install
	$(UV) run --frozen python -m etalase_events.schemas

services: up
	bash deploy/zipkin.sh start
	bash deploy/services.sh start
	bash deploy/prometheus.sh start

demo: services
	source $(RUN_ENV) && $(UV) run --frozen python -m demo

bench: up
	source $(RUN_ENV) && $(UV) run --frozen python -m bench $(BENCH_ARGS)

# Its own broker, PostgreSQL cluster and services: it needs the installation, not `make up`.
chaos: install
	$(UV) run --frozen python -m chaos $(CHAOS_ARGS)
