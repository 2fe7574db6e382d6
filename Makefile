# make demo | make test | make lab — each sets itself up idempotently into .venv first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(abspath $(VENV))/bin:$(PATH)
# No downloads at run time: transformers and the hub stay offline in everything make runs.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

JS_SRC := $(shell find js -name '*.ts') tsconfig.json
JS_BUILT := xattr_lab/static/widget.js
DEPS := $(VENV)/.deps-done
SETUP := $(VENV)/.setup-done

.PHONY: setup demo test lab js chromium pytest jstest lint clean handouts

setup: $(SETUP)

$(PY):
	python3 -m venv $(VENV)

# The torch CPU wheel goes in first: a bare torch requirement with no torch installed pulls a CUDA build.
$(DEPS): pyproject.toml | $(PY)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install "torch==2.13.0"
	$(PY) -m pip install "hatchling>=1.21" "hatch-jupyter-builder>=0.9" "jupyterlab>=4.2,<5" "editables>=0.5"
	@touch $@

# Keyed on the content of the npm manifests, not their mtimes: JupyterLab's extension builder touches
# package-lock.json, which must not trigger a reinstall on the next run.
NPM_SUM := $(shell cat package.json package-lock.json 2>/dev/null | sha1sum | cut -c1-12)
NPM_STAMP := node_modules/.install-$(NPM_SUM)

$(NPM_STAMP):
	npm ci --no-audit --no-fund
	@touch $@

$(JS_BUILT): $(JS_SRC) $(NPM_STAMP) $(DEPS)
	npm run build
	@touch $@

js: $(JS_BUILT)

# The ray extra too: the Ray executor's tests (on a local cluster they start) are part of `make test`.
$(SETUP): $(DEPS) $(JS_BUILT) pyproject.toml
	$(PY) -m pip install --no-build-isolation -e ".[dev,ray]"
	$(VENV)/bin/jupyter labextension develop --overwrite . >/dev/null
	@touch $@

# Browser tests need Debian's chromium (never a browser download).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Browser tests need Debian's chromium at /usr/bin/chromium: run 'sudo apt-get install chromium'"; \
	    exit 1; \
	  fi; \
	fi

demo: setup
	$(VENV)/bin/xattr-lab demo

lint: setup
	$(VENV)/bin/ruff check .

jstest: setup
	npm test

pytest: setup chromium
	$(PY) -m pytest

test: lint jstest pytest

lab: setup
	$(VENV)/bin/jupyter lab notebooks/

# One executed, self-contained HTML file per notebook in handouts/: the views stay interactive, no network.
# NOTEBOOKS=notebooks/08_bring_your_own_model.ipynb for one; HANDOUT_FLAGS=--no-execute to use saved outputs.
NOTEBOOKS ?= $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
handouts: setup
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m xattr_lab.workshop.handouts --out handouts $(HANDOUT_FLAGS) $(NOTEBOOKS)

clean:
	rm -rf lib xattr_lab/static/*.js xattr_lab/labextension $(SETUP)
