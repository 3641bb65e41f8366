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

# After changing a text of an email, a candidate page or the short-list report: refresh the
# catalogues of its gettext domain, then translate what is new or fuzzy (babel.cfg says how each
# file is read). Files are named one by one, so that babel.cfg's paths are from the root.
CATALOGUES := \
	messages:shared/emails:shared/emails/templates/*.j2,shared/emails/calendar_text.py \
	pages:services/api/candidate_pages:services/api/candidate_pages/templates/*.j2,services/api/candidate_pages/*.py \
	report:services/api/deliberation:services/api/deliberation/report.py
messages: $(STAMP)
	mkdir -p var
	@for catalogue in $(CATALOGUES); do \
		domain=$${catalogue%%:*}; rest=$${catalogue#*:}; where=$${rest%%:*}; \
		files=$$(for glob in $$(echo $${rest#*:} | tr , ' '); do ls $$glob; done); \
		$(BIN)/pybabel extract -F babel.cfg -o var/$$domain.pot --project=recrue $$files && \
		$(BIN)/pybabel update -i var/$$domain.pot -d $$where/locale -D $$domain || exit 1; \
	done

# Every goal of bench/README.md measured, one table printed and bench/results.json written.
# BENCH_QUICK=1: small sizes (tests/test_bench.py runs it so).
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var
