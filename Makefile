# schoolroll: the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
AWS_PORT ?= 4566
PORT ?= 8000
export AWS_PORT PORT

.PHONY: run test install clean help

help:
	@echo "make run    - install, then serve the console and API on http://127.0.0.1:$(PORT)"
	@echo "make test   - install, then run the whole test suite"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install only when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m devstack

test: install
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache dist
