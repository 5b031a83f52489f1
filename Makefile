# MSP Assistant. Two commands matter: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

.DEFAULT_GOAL := help
.PHONY: help system-deps setup train validate run test test-unit test-conversation test-integration test-browser widget danger-report nlu-report outcomes-report redaction-model redaction-report bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml constraints.txt scripts/setup.sh scripts/encoder-requirements.txt
	@scripts/setup.sh

setup: $(VENV)/.installed ## Find Python 3.10, create .venv, install pinned dependencies

NPM ?= npm
WIDGET_SRC := $(wildcard web_widget/src/*) web_widget/build.mjs

web_widget/node_modules/.package-lock.json: web_widget/package.json web_widget/package-lock.json
	@command -v $(NPM) >/dev/null || { echo "Node.js (18 or later) and npm are needed to build the web widget."; exit 1; }
	cd web_widget && $(NPM) ci --no-audit --no-fund
	@touch $@

web_widget/dist/msp-widget.js: web_widget/node_modules/.package-lock.json $(WIDGET_SRC)
	cd web_widget && $(NPM) run --silent build

widget: web_widget/dist/msp-widget.js ## Install the widget's npm packages and build web_widget/dist

train: setup redaction-model ## Train the Rasa model and the redaction model if their data or code changed (content hash)
	@$(PY) -m scripts.model

redaction-model: setup ## Train only the redaction model, if its data or code changed (models/redaction-<hash>, about a minute)
	@$(PY) -m bot.text.redact_model

validate: setup ## Rasa's data validation, failing on any warning (scripts/validate.py: form questions count as used)
	@$(PY) -m scripts.validate --config config.yml --domain domain.yml --data bot/data

run: train widget ## Set everything up and start the whole system (Ctrl-C stops it)
	@$(PY) -m scripts.run

system-deps: ## Install Chromium and Node.js with apt-get if missing (the tests need them)
	@scripts/system-deps.sh

test: system-deps train widget ## Set everything up (Chromium and Node.js included) and run every test
	$(PY) -m pytest

test-unit: setup redaction-model ## Only the fast unit tests
	$(PY) -m pytest tests/unit

test-conversation: train ## Only the Rasa conversation tests (validate, stories, held-out NLU)
	$(PY) -m pytest tests/conversation

test-integration: train ## Only the end-to-end tests against real servers
	$(PY) -m pytest tests/integration

test-browser: system-deps train widget ## Only the browser tests (real Chromium against the demo page)
	$(PY) -m pytest tests/browser

danger-report: setup ## Recall and false alarms of the danger net on every labelled set
	@for set in tests/data/danger_labelled.yml tests/data/danger_blind.yml tests/data/danger_blind2.yml tests/data/danger_blind3.yml tests/data/danger_blind4_dev.yml; do \
	  $(PY) -m bot.text.danger_eval $$set 2>/dev/null; echo; done

NLU_SETS := tests/data/danger_blind28.yml tests/data/nlu_blind28.yml tests/data/danger_blind27.yml tests/data/nlu_blind27.yml tests/data/danger_blind26.yml tests/data/nlu_blind26.yml tests/data/danger_blind4_dev.yml tests/data/nlu_blind4_dev.yml tests/data/danger_blind14_dev.yml tests/data/nlu_blind14_dev.yml tests/data/nlu_heldout.yml

nlu-report: train ## First replies on every blind set: danger recall/false alarms, intents, harm kinds, carers, advocacy
	@$(PY) -m bot.text.nlu_eval --json results/nlu_report.json $(NLU_SETS)

outcomes-report: setup ## Accuracy of the outcome category suggestion on every labelled set
	@$(PY) -m bot.text.outcome_eval tests/data/outcomes_labelled.yml tests/data/outcomes_blind2.yml

redaction-report: redaction-model ## Recall and precision of redaction per kind on the development set
	@$(PY) -m bot.text.redact_eval tests/data/redaction_dev.yml --json results/redaction_report.json

bench: train widget ## Benchmarks (not in CI); writes bench/RESULTS.md, ENCODER.md, WIDGET.md, SMS.md, PORTAL.md, REDACTION.md and HANDOFF.md
	$(PY) -m bench.run
	$(PY) -m bench.encoder
	$(PY) -m bench.widget
	$(PY) -m bench.sms_burst
	$(PY) -m bench.portal
	$(PY) -m bench.redaction
	$(PY) -m bench.handoff

clean: ## Remove trained models, test artefacts and local data (keeps .venv)
	rm -rf models var results test-artifacts .pytest_cache web_widget/dist
