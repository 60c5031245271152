# Samvad — the two commands a new user needs:
#   make run    set everything up (first time only) and start Samvad
#   make test   set everything up (first time only) and run the whole test suite
# Everything is installed inside this folder (.venv) plus a model cache in ~/.cache/samvad.

PYTHON311 ?= python3.11
VENV      := .venv
BIN       := $(VENV)/bin
SAMVAD    := $(BIN)/samvad

.PHONY: run test setup app-env model index lint typecheck pytest clean

run: setup index
	$(SAMVAD) chat

test: setup lint typecheck pytest

setup: app-env model

app-env: $(VENV)/.installed

$(VENV)/.installed: requirements/app.txt requirements/dev.txt pyproject.toml
	$(PYTHON311) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/app.txt -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

model: app-env
	$(SAMVAD) model

index: app-env model
	$(SAMVAD) index

lint: app-env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: app-env
	$(BIN)/mypy

pytest: app-env model
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var
