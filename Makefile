# Everything starts from python3 alone: the first target that needs the virtualenv builds it
# from the lock (constraints.txt).
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

# Airflow runs from this folder with its embedded SQLite metadata database.
export AIRFLOW_HOME := $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__DAGBAG_IMPORT_ERROR_TRACEBACKS := True
export PATH := $(BIN):$(PATH)

DEMO_CONFIG := $(CURDIR)/examples/demo.yaml
DEMO_DATA := $(CURDIR)/data/demo
DEMO_START := 2025-01-01
# history ingested before the DAG runs, then the DAG processes the last DEMO_RUNS days
DEMO_HISTORY_END := 2025-12-28
DEMO_RUNS := 2025-12-30 2025-12-31 2026-01-01

.PHONY: help install demo demo-data test lint bench airflow lock clean

help:
	@echo "make demo     set up, generate sample data, run the real DAG for 3 nights"
	@echo "make test     set up, lint, type-check and run the whole test suite"
	@echo "make airflow  Airflow standalone on http://localhost:8080 with the demo ready"
	@echo "make bench    nightly run on 1M customers / ~20M events vs a DuckDB+KMeans floor"

install: $(STAMP)

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --disable-pip-version-check -c constraints.txt -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

$(AIRFLOW_HOME)/airflow.db: | $(STAMP)
	$(BIN)/airflow db migrate > /dev/null

demo-data: $(STAMP)
	@if [ ! -f $(DEMO_DATA)/landing/ground_truth.csv ]; then \
	  echo "== generating sample data into $(DEMO_DATA)/landing"; \
	  $(BIN)/segmentation generate --out $(DEMO_DATA)/landing --customers 2000 \
	    --start $(DEMO_START) --days 366 --seed 42 --bundle-rate 0.5 \
	    --campaign-persona loyal --campaign-start 2025-12-30 --campaign-days 2 \
	    --campaign-uplift 0.1 > /dev/null; fi
	@# the history is ingested once; a rerun of the demo goes straight to the DAG runs
	@if [ ! -f $(DEMO_DATA)/lake/events/event_date=$(DEMO_HISTORY_END)/part-0.parquet ]; then \
	  echo "== ingesting $(DEMO_START) .. $(DEMO_HISTORY_END) into $(DEMO_DATA)/lake (about 2 minutes)"; \
	  $(BIN)/segmentation ingest --config $(DEMO_CONFIG) --start $(DEMO_START) \
	    --end $(DEMO_HISTORY_END) > /dev/null; fi

demo: demo-data $(AIRFLOW_HOME)/airflow.db
	@for logical in $(DEMO_RUNS); do \
	  echo "== airflow dags test customer_segmentation $$logical (processes the day before)"; \
	  SEGMENTATION_CONFIG=$(DEMO_CONFIG) $(BIN)/airflow dags test customer_segmentation $$logical \
	    > $(AIRFLOW_HOME)/demo-$$logical.log 2>&1 || { tail -40 $(AIRFLOW_HOME)/demo-$$logical.log; exit 1; }; \
	  grep -o "DagRun Finished.*state=[a-z]*" $(AIRFLOW_HOME)/demo-$$logical.log | sed 's/,.*state=/ -> /'; \
	done
	@$(BIN)/segmentation status --config $(DEMO_CONFIG)

# a test file runs whole on one worker (its module fixtures are built once), one worker a core
test: $(STAMP) lint
	$(BIN)/pytest -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks.nightly

airflow: demo-data $(AIRFLOW_HOME)/airflow.db
	SEGMENTATION_CONFIG=$(DEMO_CONFIG) $(BIN)/airflow standalone

lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e ".[dev]"
	{ echo "# The lock: exact versions for every install (pip install -c constraints.txt)."; \
	  echo "# Regenerate with \`make lock\` after changing dependencies in pyproject.toml."; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable; } > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) $(AIRFLOW_HOME) data .bench
