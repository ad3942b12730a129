# Handoff: two commands from a fresh clone.
#   make run   - the app with demo data on http://127.0.0.1:8000
#   make test  - ruff and the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2

.PHONY: run test install lint migrate worker benchmark bench bench-ingest fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the lock file changes.
$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

install: $(VENV)/.installed

run: install
	bash scripts/run

test: install
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

migrate: install
	$(BIN)/python manage.py migrate --noinput

worker: install
	$(BIN)/celery -A handoff worker --loglevel INFO

benchmark: install
	$(BIN)/python benchmarks/upload_memory.py

# Validation throughput at 1 M and 10 M rows against a pyarrow + pandas + scikit-learn
# reference (needs ~1 GB of temporary disk; about five minutes on two cores).
bench: install
	$(BIN)/python benchmarks/validation_throughput.py

# 10 000 metric observations from 8 clients to gunicorn with a real worker (PostgreSQL
# and Redis: DATABASE_URL and REDIS_URL, else the local defaults); prints throughput and p95.
bench-ingest: install
	$(BIN)/python benchmarks/ingest.py

# Pages at volume: p50/p95 and requests/s of the dashboard, each role's home page, the review and
# triage queues, a comparison, a handover page and the API lists, beside a bare Django view (the
# floor), on gunicorn over the generated volume (DATABASE_URL, else the local handoff_volume
# database; generated first when it holds none: about three minutes). Prints each ratio and target.
.PHONY: bench-pages
bench-pages: install
	$(BIN)/python benchmarks/pages.py

# schemathesis' CLI with every check over the whole API, on a throw-away demo.
fuzz: install
	bash scripts/fuzz

# Regenerate the lock file after changing dependencies in pyproject.toml.
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
