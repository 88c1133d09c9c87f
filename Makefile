# The two commands that matter: `make run` and `make test`. Everything they need is
# installed by this file: the virtualenv here, the Kafka jars by Maven (first `dev up`),
# PostgreSQL by apt-get when the machine lacks it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The exact versions and hashes of every dependency (PyPI only), made from pyproject.toml by
# `make lock`; the Dockerfile installs requirements.lock, the runtime part.
LOCK := requirements-dev.lock
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) 2>/dev/null | sha1sum | cut -c1-12)

.PHONY: install lock tools browser run test test-fast chaos-full lint bench dev-up dev-down dev-status clean

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

## promtool, from Debian's prometheus package: tests/deploy checks and unit-tests the alert
## rules with it (those tests fail, never skip, without it).
tools:
	@command -v promtool >/dev/null || { \
	  apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && \
	    apt-get install -y -q --no-install-recommends prometheus >/dev/null; } || \
	  echo "promtool not installed (apt-get install prometheus as root): tests/deploy will fail"; }

## Re-make the lock files after a change to pyproject.toml's dependencies (pip-tools).
lock:
	@test -x $(VENV)/lock/bin/pip-compile || { $(PYTHON) -m venv $(VENV)/lock && \
	  $(VENV)/lock/bin/pip install -q pip-tools; }
	$(VENV)/lock/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras \
	  --no-emit-find-links --no-emit-index-url -o requirements.lock pyproject.toml
	$(VENV)/lock/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras \
	  --no-emit-find-links --no-emit-index-url --extra dev -o requirements-dev.lock pyproject.toml

## Start Kafka, Postgres, ingress, worker and projector; run the demo; Ctrl-C stops all.
run: install
	$(BIN)/wastream run

## Debian's chromium and chromium-driver, for the console's browser tests (tests/console).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null; }

## Lint (ruff, mypy strict), then the whole suite against a real Kafka and PostgreSQL
## (started if needed, stopped after).
test: lint tools browser
	$(BIN)/python -m pytest

## Only the fast tests: no broker, no database. A test is marked integration by the fixture
## that gives it a server (tests/conftest.py); WASTREAM_TEST_FAST=1 makes such a fixture fail
## instead of starting or using one.
test-fast: install tools
	WASTREAM_TEST_FAST=1 $(BIN)/python -m pytest -m "not integration and not slow"

## The chaos test (tests/failure/test_chaos.py) at the issue's size, 5,000 events from 500
## users, instead of make test's 200 from 40 (README, "make test").
chaos-full: install
	CHAOS_EVENTS=5000 CHAOS_USERS=500 $(BIN)/python -m pytest -s -p no:cacheprovider \
	  tests/failure/test_chaos.py

lint: install
	$(BIN)/ruff check wastream ingress streams schemas projections standins tests bench
	$(BIN)/mypy

## The benchmarks; wrk (the ingress bench's load generator) from Debian's packages if missing.
bench: install
	@command -v wrk >/dev/null || { apt-get install -y -q wrk >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; } || \
	  echo "wrk not installed: bench.ingress falls back to its slower Python load generator"; }
	$(BIN)/python -m bench

dev-up: install
	$(BIN)/wastream dev up
dev-down: install
	$(BIN)/wastream dev down
dev-status: install
	$(BIN)/wastream dev status

clean:
	-$(BIN)/wastream dev down
	rm -rf .wastream $(VENV)
