# Short verbs for the BETH workshop course. Everything runs in virtual environments this
# Makefile creates on first use (.venv, and .venv-pandas22 for the pandas 2.2 lane).
PYTHON ?= python3
VENV ?= .venv
PD22 ?= .venv-pandas22
PY := $(VENV)/bin/python
NOTEBOOK := source/beth_workshop/beth_workshop.ipynb

.PHONY: demo envs test test-fast test-pandas22 lint goldens bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[course,test]"
	touch $@

$(PD22)/.installed: pyproject.toml
	$(PYTHON) -m venv $(PD22)
	$(PD22)/bin/python -m pip install --quiet --upgrade pip
	$(PD22)/bin/python -m pip install --quiet -e ".[course,test]" "pandas==2.2.*"
	touch $@

## envs: create and install both test environments (make test does this itself when needed)
envs: $(VENV)/.installed $(PD22)/.installed

## demo: release, autograde, feedback and report for the fictional students (in demo-course/)
demo: $(VENV)/.installed
	$(VENV)/bin/beth-course demo

# Two pytest-xdist workers (one per core: the grading tests keep both busy), a test module to
# each at a time, longest modules first (the order conftest.py collects).
XDIST := -n 2 --dist loadfile --no-loadscope-reorder

## test: lint and types, then the whole suite on pandas 3 (the instructor notebook's run
## included: tests/test_notebook_runs.py), then beth_helpers and the notebook on pandas 2.2
test: $(VENV)/.installed $(PD22)/.installed lint
	$(PY) -m pytest -p no:cacheprovider $(XDIST) --durations=25
	$(MAKE) test-pandas22

## lint: ruff (lint and format check) and mypy, configured in pyproject.toml
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The modules whose code runs on pandas: beth_helpers (its docstring examples too), the data
# files' messages, the checker's DataFrame wire format and the pages' tables.
PANDAS_TESTS := beth_helpers tests/test_loading.py tests/test_features.py \
	tests/test_sampling.py tests/test_schema.py tests/test_evaluation.py tests/test_wire.py \
	tests/test_inert.py tests/test_cli.py tests/test_course_files.py

## test-pandas22: beth_helpers and the notebook on pandas 2.2
test-pandas22: $(PD22)/.installed
	$(PD22)/bin/python -m pytest -p no:cacheprovider $(XDIST) -m "not slow" $(PANDAS_TESTS)
	$(PD22)/bin/python -m pytest -p no:cacheprovider --nbval-lax --nbval-current-env $(NOTEBOOK)

## test-fast: everything but the notebook runs and grading rounds (seconds)
test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not slow"

## goldens: regenerate release/, submitted/ and autograded/ on purpose, then review the diff
goldens: $(VENV)/.installed
	$(VENV)/bin/beth-course release
	$(PY) scripts/make_fictional_submissions.py
	$(VENV)/bin/beth-course autograde --force

## bench: the benchmarks (an hour or more on 2 cores: waits for a quiet machine first);
## prints one table and rewrites it into benchmarks/RESULTS.md
bench: $(VENV)/.installed
	$(PY) benchmarks/run_all.py

clean:
	rm -rf demo-course feedback grades.csv report.html gradebook.db .nbgrader.log benchmarks/.work
