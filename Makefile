# schoolroll: the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
AWS_PORT ?= 4566
PORT ?= 8000
export AWS_PORT PORT

CHROMIUM := /usr/bin/chromium

STAGE ?= dev

.PHONY: run test install install-lint browser axe oidc-provider package lint-template deploy destroy bench hardening clean help

help:
	@echo "make run    - install, then serve the console and API on http://127.0.0.1:$(PORT)"
	@echo "make test   - install, then run the whole test suite"
	@echo "make bench / make hardening - benchmarks and the long hardening suites (minutes)"
	@echo "make package STAGE=prod / make deploy STAGE=prod MAIL_FROM=... / make destroy STAGE=prod"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install only when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# Browser tests drive Debian's Chromium (nothing may download a browser).
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# axe-core (the npm package, pinned) checks every console screen against WCAG 2.1 AA in the
# browser tests; npm comes from Debian when the machine has none.
AXE_VERSION := 4.14.1
AXE := $(VENV)/node/node_modules/axe-core/axe.min.js
$(AXE): | $(PY)
	@if ! command -v npm >/dev/null; then \
	  echo "Installing Debian's npm for axe-core"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; \
	fi
	npm install --silent --no-audit --no-fund --prefix $(VENV)/node axe-core@$(AXE_VERSION)

axe: $(AXE)

# The OpenID provider the sign-in tests (and `make run SSO=1`) run on loopback: panva's
# OpenID-certified oidc-provider, pinned with its dependencies in devstack/oidc/package-lock.json.
OIDC_PROVIDER := devstack/oidc/node_modules/.installed
$(OIDC_PROVIDER): devstack/oidc/package.json devstack/oidc/package-lock.json | $(AXE)
	npm ci --silent --no-audit --no-fund --prefix devstack/oidc
	touch $(OIDC_PROVIDER)

oidc-provider: $(OIDC_PROVIDER)

# SSO=1: an OpenID provider on loopback too, with a school set up to sign in through it.
run: install $(if $(SSO),oidc-provider)
	$(PY) -m devstack $(if $(SSO),--sso)

test: install install-lint browser axe oidc-provider
	$(PY) -m pytest

# Benchmarks print a table and write bench/results.json (minutes; not part of make test).
bench: install
	$(PY) -m bench.run

# Hardening suites, the long cases included; prints a table of cases tried and passed.
hardening: install
	$(PY) -m pytest tests/hardening -m "heavy or not heavy"
	$(PY) -m pytest tests -m heavy --ignore=tests/hardening

# One CloudFormation template for a stage: chalice package + infra/build.py's resources.
package: install
	$(PY) -m infra.build $(STAGE) dist/$(STAGE)/merge.json
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-west-2} $(VENV)/bin/chalice package --stage $(STAGE) \
	  --merge-template dist/$(STAGE)/merge.json dist/$(STAGE)
	@echo "template: dist/$(STAGE)/sam.json (code: dist/$(STAGE)/deployment.zip)"

# checkov pins boto3 1.35 (the app pins 1.44): it gets its own virtualenv, inside .venv
# (git ignores it; `make clean` removes it), from the pinned requirements-lint.txt.
LINT_VENV := $(VENV)/lint
LINT_STAMP := $(LINT_VENV)/.installed

$(LINT_STAMP): requirements-lint.txt
	$(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-lint.txt
	touch $(LINT_STAMP)

install-lint: $(LINT_STAMP)

# cfn-lint, then checkov: fails on any check that fails and is not skipped (with its
# reason) in the resource's Metadata. --skip-download: checkov asks no service.
lint-template: package install-lint
	$(VENV)/bin/cfn-lint dist/$(STAGE)/sam.json
	$(LINT_VENV)/bin/checkov --file dist/$(STAGE)/sam.json --framework cloudformation --skip-download \
	  --compact --quiet

# Needs AWS credentials and a region (AWS_PROFILE / AWS_DEFAULT_REGION) and MAIL_FROM.
deploy: package
	$(PY) -m infra.deploy deploy $(STAGE)

destroy: install
	$(PY) -m infra.deploy destroy $(STAGE)

clean:
	rm -rf $(VENV) .pytest_cache dist
