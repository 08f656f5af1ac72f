# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out
TEST_WORKERS ?= 2  # pytest-xdist workers for `make test` (0: one process)

.PHONY: demo test sample screenshots lint app clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[app,dev,geocode,postgis]"
	touch $@

## demo: build the sample workspace, write out/, then serve the app (SCGEO_NO_SERVE=1: stop after out/)
demo: $(BIN)/.installed
	$(BIN)/scgeo demo --out $(OUT)

## test: the whole test suite (pytest exit 5, "no tests collected", is reported and not failed).
## Installs Debian's chromium and a Japanese font, and PostgreSQL + PostGIS, first when root and missing;
## otherwise says which tests skip.
test: $(BIN)/.installed
	@sh tools/browser_deps.sh
	@sh tools/postgres_deps.sh
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=25; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; exit 0; fi; exit $$rc

## sample: regenerate the bundled sample town under data/ (byte-identical from the fixed seed)
sample: $(BIN)/.installed
	$(BIN)/scgeo sample --out data

## screenshots: refresh docs/img/*.png from the browser and print tests (look at them afterwards)
screenshots: $(BIN)/.installed
	SCGEO_DOCS_SCREENSHOTS=1 $(BIN)/python -m pytest tests/test_browser.py tests/test_app_browser.py tests/test_print_map.py \
	  tests/test_browser_geocode.py tests/test_network_browser.py

lint: $(BIN)/.installed
	$(BIN)/ruff check .

app: $(BIN)/.installed
	$(BIN)/scgeo app $(OUT)/workspace.gpkg

clean:
	rm -rf $(OUT) $(VENV) .pytest_cache .hypothesis
