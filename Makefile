# CompyMac RX. Every recipe runs in one bash (.ONESHELL) with scripts/env.sh sourced, so the
# project's .venv and bun come first on PATH. `make setup` / `make test` install what is missing.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

PORT ?= 3000
PYTEST_ARGS ?=
m ?=

ENV := . scripts/env.sh
# A subshell, so a failing `ruff check` stops the recipe under errexit (a bare && list would not).
LINT := (ruff check . && ruff format --check . && lint-imports --no-cache --no-logo)
TYPECHECK := mypy compymac_rx

.PHONY: help setup run dev test test-unit compose-test lint fmt typecheck migrate revision worker claim-sessions clean rotate-keys bench bench-agent

help:
	@echo "make setup      install system packages, .venv, bun, data/ (idempotent)"
	echo "make run        migrate, then serve the app on one port (PORT=$(PORT))"
	echo "make dev        migrate, then \`reflex run\`: development, hot reload, ports PORT/BACKEND_PORT"
	echo "make test       setup --test, lint, typecheck, pytest (PYTEST_ARGS='...'), then compose-test (COMPOSE_TEST=0 leaves it out)"
	echo "make test-unit  the quick loop: pytest on SQLite only, no app, browser, Redis or PostgreSQL (PYTEST_ARGS='...')"
	echo "make compose-test  the docker compose stack built, started and tested (tests/compose)"
	echo "make lint       ruff check + ruff format --check + lint-imports (layers, no cycles)"
	echo "make fmt        ruff format + ruff check --fix"
	echo "make typecheck  mypy compymac_rx"
	echo "make migrate    alembic upgrade head"
	echo "make revision m='message'  alembic revision --autogenerate"
	echo "make rotate-keys  re-encrypt API keys and OIDC tokens under the first SECRET_KEYS key"
	echo "make bench      CompyMac beside bare Reflex and Chainlit: turns, stream, scale (BENCH_ARGS='--quick')"
	echo "make bench-agent  per-turn overhead of the agent loop (fake model server)"
	echo "make worker     a Celery worker for JOB_RUNNER=celery (WORKER_CONCURRENCY=2)"
	echo "make claim-sessions  one-off: the first account takes sessions without an owner"
	echo "make clean      remove build output (.web); data/ is kept"

setup:
	bash scripts/setup.sh

run:
	bash scripts/setup.sh
	$(ENV)
	alembic upgrade head
	python -m compymac_rx.accounts.bootstrap
	PORT=$(PORT) exec reflex run --env prod --single-port --frontend-port $(PORT) --backend-port $(PORT)

# Development: the frontend dev server on PORT (3000) and the backend on BACKEND_PORT (8000),
# both read by rxconfig.py from the environment or .env; Python code and assets hot reload.
dev:
	bash scripts/setup.sh
	$(ENV)
	alembic upgrade head
	python -m compymac_rx.accounts.bootstrap
	exec reflex run

test:
	bash scripts/setup.sh --test
	$(ENV)
	$(LINT)
	$(TYPECHECK)
	pytest -q -ra --durations=40 --ignore=tests/compose $(PYTEST_ARGS)
	# The production stack too, wherever a Docker engine can be started (compose-test says why
	# not in one counted line otherwise). COMPOSE_TEST=0 leaves it out on purpose.
	if [[ "$${COMPOSE_TEST:-1}" == 0 ]]; then
		echo "compose-test: SKIPPED 1 suite (tests/compose): COMPOSE_TEST=0"
	else
		# A plain `make`: a recipe naming the MAKE variable runs even under `make -n`, and with
		# .ONESHELL that would be the whole suite.
		make --no-print-directory compose-test
	fi

# The inner loop: no setup, lint or typecheck, and no test that starts a server process (the
# app, Chromium, Redis, PostgreSQL, Celery workers, Keycloak); database tests on SQLite only.
# `--unit` is defined in tests/conftest.py, which finds those tests from their fixtures.
test-unit:
	$(ENV)
	pytest -q -ra --unit -p no:cacheprovider $(PYTEST_ARGS)

# The production stack for real (docker-compose.yml + compose.test.yml): installs the Docker
# engine and Compose v2 when missing, starts dockerd, builds the images (cached between runs),
# runs tests/compose, tears the stack down and stops the dockerd it started. Where no engine can
# run, one line says why and the run counts as skipped (exit 0).
compose-test:
	bash scripts/setup.sh --test
	$(ENV)
	rc=0
	bash scripts/compose.sh ready || rc=$$?
	if [[ $$rc == 3 ]]; then
		echo "compose-test: SKIPPED 1 suite (tests/compose): no Docker engine can be started here (reason above)"
		exit 0
	fi
	[[ $$rc == 0 ]] || exit $$rc
	trap 'bash scripts/compose.sh down; bash scripts/compose.sh stop' EXIT
	started=$$(date +%s)
	COMPYMAC_COMPOSE_TESTS=1 pytest -q -ra -p no:cacheprovider tests/compose
	echo "compose-test: $$(( $$(date +%s) - started )) s; timings: $$(tr -d ' \n' < tests/compose/.run/timings.json)"

lint:
	$(ENV)
	$(LINT)

fmt:
	$(ENV)
	ruff format .
	ruff check --fix .

typecheck:
	$(ENV)
	$(TYPECHECK)

migrate:
	$(ENV)
	alembic upgrade head

revision:
	@if [[ -z "$(m)" ]]; then echo "usage: make revision m='what changed'" >&2; exit 2; fi
	$(ENV)
	alembic revision --autogenerate -m "$(m)"
	# Make the generated file pass `make lint` (the template is not ruff-clean).
	ruff check --fix --quiet alembic/versions || echo "revision: fix the remaining ruff findings above by hand" >&2
	ruff format --quiet alembic/versions

rotate-keys:
	$(ENV)
	python -m compymac_rx.ops.rotate

# The whole benchmark set in one run (about 30 min on 2 cores); BENCH_ARGS='--quick' for a short
# one, or e.g. BENCH_ARGS='--only turns --profiles inline,chainlit'. See docs/operations.md.
BENCH_ARGS ?=
bench:
	bash scripts/setup.sh --test
	$(ENV)
	python -m bench $(BENCH_ARGS)

bench-agent:
	$(ENV)
	python -m bench.agent_overhead

# A Celery worker for JOB_RUNNER=celery (settings from the environment / .env, like the app).
# WORKER_CONCURRENCY turns at once per worker; start more workers to scale out.
WORKER_CONCURRENCY ?= 2
worker:
	$(ENV)
	exec celery -A compymac_rx.worker:celery_app worker -Q compymac-turns \
		-c $(WORKER_CONCURRENCY) --loglevel INFO --without-gossip --without-mingle

# One-off, after upgrading a single-user install: the first account claims sessions without
# an owner (ARGS='--email someone@example.com --dry-run' to choose or preview).
ARGS ?=
claim-sessions:
	$(ENV)
	alembic upgrade head
	python -m compymac_rx.ops.claim $(ARGS)

clean:
	rm -rf .web .states
	echo "clean: removed .web and .states (data/ kept)"
