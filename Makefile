# Sitrep developer entry points. Everything installs from this repo's own files.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## Run the bot when Slack credentials are set, otherwise the zero-config demo, which then
## serves its web view on http://127.0.0.1:3001/ until Ctrl-C.
run: $(STAMP)
	@if [ -n "$$SLACK_BOT_TOKEN" ] || grep -qs '^SLACK_BOT_TOKEN=.' .env; then \
		if [ -n "$$SLACK_APP_TOKEN" ] || grep -qs '^SLACK_APP_TOKEN=.' .env; then \
			$(BIN)/incident-bot socket; else $(BIN)/incident-bot serve; fi; \
	else $(BIN)/incident-bot demo --web; fi

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) .pytest_cache data test-artifacts
