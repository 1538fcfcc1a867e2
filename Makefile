# rnnbook: the commands a reader, an author and CI use. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Material for MkDocs prints an end-of-life notice box at every build, which a newcomer
# takes for an error; its own variable turns it off (material/templates/__init__.py).
export NO_MKDOCS_2_WARNING := 1
# A stage prints its name and how long it took, and keeps its exit status.
STAGE = @s=$$(date +%s); echo "==> $(1)"; $(2); rc=$$?; echo "<== $(1): $$(( $$(date +%s) - s )) s"; exit $$rc

# Tests on both cores, each file in one worker (a file's fixtures, such as the browser's, run once).
PYTEST_WORKERS ?= -n 2 --dist loadfile

.PHONY: install serve build test screenshots clean

install: $(STAMP)

# Re-run only when the pinned versions or the package metadata change. The lock is
# complete (pip freeze), so pip installs it as listed without resolving again.
$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

SERVE_ADDR ?= 127.0.0.1:8000

serve: install
	$(PY) -m mkdocs serve --dev-addr $(SERVE_ADDR) --livereload

build: install
	$(call STAGE,site build,$(PY) -m mkdocs build --strict)

test: install
	$(call STAGE,site build (mkdocs build --strict),$(PY) -m mkdocs build --strict)
	$(call STAGE,tests (unit, doctests, pages, examples, machinery, browser),RNNBOOK_STRICT=1 $(PY) -m pytest $(PYTEST_WORKERS))

# A PNG of every page, both languages, desktop and phone widths, into screenshots/.
screenshots: build
	$(PY) tools/screenshots.py

clean:
	rm -rf site .cache screenshots
