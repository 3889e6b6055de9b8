# The two commands of the README: `make demo` runs the console, `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint install

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)
	./scripts/ensure-system-deps

demo: install
	$(VENV)/bin/argos --demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: install
	./scripts/ensure-system-deps --test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -n 2 --dist loadgroup
