# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test browser chaos fuzz lint bench messages venv clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/recrue run

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# The candidate pages in headless Chromium alone: axe-core (WCAG 2.1 A/AA), the keyboard-only
# flows, 360 px and 200% zoom; screenshots in var/screenshots/. `make test` runs them too.
browser: $(STAMP)
	$(BIN)/pytest tests/browser -m browser $(PYTEST_ARGS)

# The chaos suite at full size (300 invitations...): faults injected into the real stack, figures
# written to var/chaos/results.json. `make test` runs it in quick mode (CHAOS_QUICK=1, the default).
chaos: $(STAMP)
	CHAOS_QUICK=0 $(BIN)/pytest tests/chaos -m chaos --timeout 1200 $(PYTEST_ARGS)

# ruff (format and lint), mypy, and the layering rule (tests/test_layering.py). .ci/run runs it.
lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy shared services
	$(BIN)/pytest -q -p no:cacheprovider tests/test_layering.py

# schemathesis over the whole OpenAPI, longer than in `make test`: random cases from a seed
# (printed; FUZZ_SEED=... replays a run), FUZZ_EXAMPLES cases per operation.
FUZZ_EXAMPLES ?= 100
FUZZ_SEED ?= $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fuzz: $(STAMP)
	@echo "FUZZ_SEED=$(FUZZ_SEED) FUZZ_EXAMPLES=$(FUZZ_EXAMPLES)"
	FUZZ_SEED=$(FUZZ_SEED) FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(BIN)/pytest tests/api/test_openapi_fuzz.py -s $(PYTEST_ARGS)

# After changing an email template: refresh the catalogues, then translate what is new or fuzzy.
messages: $(STAMP)
	mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg -o var/messages.pot --project=recrue .
	$(BIN)/pybabel update -i var/messages.pot -d shared/emails/locale -D messages

# Every goal of bench/README.md measured, one table printed and bench/results.json written.
# BENCH_QUICK=1: small sizes (tests/test_bench.py runs it so).
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var
