# The two commands of the README, and a few more for developers.
#   make up    - install and run the whole platform on the embedded stack
#   make test  - install what the tests need and run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: up test lint bench clean-state help

help:
	@echo "make up      run the whole platform (embedded PostgreSQL and broker)"
	@echo "make test    run the whole test suite"
	@echo "make lint    ruff and mypy"

$(VENV)/.runtime: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.test: $(VENV)/.runtime requirements-test.lock
	$(BIN)/python -m pip install --quiet -r requirements-test.lock
	bash tests/tools/ensure-chromium.sh
	touch $@

up: $(VENV)/.runtime
	$(BIN)/eduhub up

# pytest exits 5 when a selection holds no test: not a failure of the suite.
test: $(VENV)/.test
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then exit 0; fi; exit $$rc

lint: $(VENV)/.test
	$(BIN)/ruff check shared services tests conftest.py
	$(BIN)/mypy shared services

clean-state:
	rm -rf .eduhub
