# Samvad — the commands a new user needs:
#   make run        set everything up (first time only) and start Samvad
#   make test       set everything up (first time only), then lint, type check and run the
#                   whole test suite in PYTEST_WORKERS (2) pytest-xdist workers; what CI runs
#   make services   start the private Redis and PostgreSQL (SAMVAD_STORES=shared; make test)
#   make test-fast  the edit loop, under a minute: the tests that need neither the embedding
#                   model nor Rasa / action server / bot processes, plus the engine's doctests.
#                   Needs only .venv; the model is made unavailable, so a test that needs it
#                   without being marked fails instead of provisioning it.
# Test markers (pytest -m): model, servers; see tests/conftest.py. For example
#   .venv/bin/pytest -m "model and not servers"     the engine with the real model, no servers
# Everything is installed inside this folder (.venv for the app on Python 3.11, .venv-rasa for
# Rasa on Python 3.10) plus a model cache in ~/.cache/samvad.

PYTHON311 ?= python3.11
# Rasa 3.6 needs Python 3.8-3.10; on these machines 3.10 comes from pyenv.
PYTHON310 ?= $(shell p=$$(pyenv prefix 3.10.13 2>/dev/null) && echo $$p/bin/python3.10 || echo python3.10)
VENV      := .venv
RASA_VENV := .venv-rasa
BIN       := $(VENV)/bin
SAMVAD    := $(BIN)/samvad
RASA_MODEL = $$($(BIN)/python scripts/rasa_train.py --print-path)
export RASA_TELEMETRY_ENABLED = false
# Each worker loads the embedding model (~0.5 GB); files stay whole on one worker, so a module's
# fixtures (one index, one Rasa stack) are made once.
PYTEST_WORKERS ?= 2
# The tests plus the doctests of the engine (tests/conftest.py leaves out the illustrative ones).
PYTEST_PATHS := --doctest-modules samvad tests
# test-fast: no model (an unknown name, hub offline) and no Rasa binary.
NO_MODEL_ENV := HF_HUB_OFFLINE=1 SAMVAD_MODEL=test-fast-has-no-model \
                SAMVAD_RASA_BIN=/nonexistent/test-fast-has-no-rasa

.PHONY: run test test-fast setup app-env rasa-env model index rasa-model lint typecheck pytest \
        chromium services actions-server rasa-server bench-load clean

run: setup index rasa-model
	$(BIN)/python -m bot.supervisor

test: setup lint typecheck pytest

test-fast: app-env
	$(NO_MODEL_ENV) $(BIN)/pytest -q -m "not model and not servers" $(PYTEST_PATHS)

setup: app-env rasa-env model

app-env: $(VENV)/.installed

$(VENV)/.installed: requirements/app.txt requirements/dev.txt pyproject.toml
	$(PYTHON311) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/app.txt -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

rasa-env: $(RASA_VENV)/.installed

$(RASA_VENV)/.installed: requirements/rasa.txt
	$(PYTHON310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install --quiet --upgrade pip
	$(RASA_VENV)/bin/pip install --quiet -r requirements/rasa.txt
	touch $@

model: app-env
	$(SAMVAD) model

index: app-env model
	$(SAMVAD) index

# Trains only when config.yml, domain.yml or data/ changed since the last training.
rasa-model: rasa-env app-env
	$(BIN)/python scripts/rasa_train.py

lint: app-env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: app-env
	$(BIN)/mypy

# rasa-model first: the Rasa tests on both workers then find it trained. services: the
# shared-stores tests (tests/test_shared_stores_e2e.py) run on the private Redis and PostgreSQL.
pytest: app-env rasa-env model rasa-model chromium services
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_PATHS)

# Debian's Chromium, for the test that renders `samvad report --html` in a browser
# (tests/test_report_browser.py). Installed only when missing, which needs root (as on CI);
# `make run` does not need it.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "make test needs Debian's chromium: run 'apt-get install chromium' as root" >&2; \
	    exit 1; \
	  fi; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

# The project's private Redis and PostgreSQL on loopback (data in var/services/), for
# SAMVAD_STORES=shared and the tests; installs Debian's redis-server and postgresql when missing
# (root, as on CI). `make run` does not need them. `scripts/services.sh stop` stops them.
services:
	bash scripts/services.sh start

actions-server: app-env index
	SANIC_HOST=127.0.0.1 $(BIN)/python -m rasa_sdk --actions actions -p 5055

rasa-server: rasa-model
	$(RASA_VENV)/bin/rasa run -i 127.0.0.1 -p 5005 --model "$(RASA_MODEL)" \
	  --endpoints endpoints.yml --credentials credentials.yml

clean:
	rm -rf $(VENV) $(RASA_VENV) var

# Load benchmark: N = 10, 50, 100 simulated users through the Bot API emulator, then via REST.
bench-load: app-env rasa-env model
	$(BIN)/python bench/load.py
	$(BIN)/python bench/load.py --via rest
