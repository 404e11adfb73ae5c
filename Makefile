# The two commands: `make run` and `make test`. Both create the virtualenv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench bundle bundle-test clean screenshot

# A developer's set-up has both halves (the desktop and the `server` extra, which `dev` pulls
# in: the tests run the server) and PyInstaller (the `build` extra) for the bundle.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,build]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) main.py

# Linters first (quick), the test suite last, so its summary line closes the output. The suite
# runs in two processes, each test file whole in one of them (module fixtures such as a running
# server are not started twice); PYTEST_ARGS="-p no:xdist" runs it in one.
PYTEST_ARGS ?= -n 2 --dist loadfile
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	QT_QPA_PLATFORM=offscreen PYTHON_KEYRING_BACKEND=keyrings.alt.file.PlaintextKeyring \
		$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# Builds the 100,000-contact data set once (a few minutes), then prints every figure.
BENCH_DB ?= /tmp/rapport-bench/big.sqlite
bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) bench/run.py --db $(BENCH_DB)
	QT_QPA_PLATFORM=offscreen $(PY) bench/briefing_bench.py --db $(BENCH_DB)
	$(PY) bench/import_bench.py --db $(BENCH_DB)
	$(PY) bench/sync_bench.py --contacts 100000 --notes 300000 --commitments 50000
	$(PY) bench/sync_crowd.py
	$(PY) bench/bundle_bench.py --db $(BENCH_DB)

# The one-folder desktop app: dist/Rapport/rapport (then `dist/Rapport/rapport --self-test`).
bundle: $(STAMP)
	$(VENV)/bin/pyinstaller --noconfirm build.spec

# Builds the bundle in a temporary folder and runs the built app's --version and --self-test
# with no display (a few minutes). `make test` runs it only where RAPPORT_BUNDLE_TEST=1 (CI);
# elsewhere its summary lists it as skipped, with this target named.
bundle-test: $(STAMP)
	RAPPORT_BUNDLE_TEST=1 $(PY) -m pytest tests/test_bundle.py $(PYTEST_ARGS)

# The README's picture of the main window, drawn offscreen from the real window on sample data.
screenshot: $(STAMP)
	$(PY) docs/screenshot.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
