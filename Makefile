# The book machine.
#
#   make book        install into .venv, make the embedded data, execute every chapter
#                    with papermill into book/generated/, build the HTML book in _build/html
#   make test        unit tests + nbval regression check of the notebooks' reference outputs
#   make reference   re-execute the notebooks and record their outputs as the new reference
#   make cross-check make test under other thread counts and floating-point kernels (~1 h)
#   make clean       remove what the targets above generate (not .venv, not data/)
#   NB=02            (with book, reference or test) only the chapters whose name starts so
#                    (book first runs the chapters they read from, if those have not run)
#
# With the real MPD:  make book DATA_DIR=/path/to/mpd CHALLENGE=/path/to/challenge_set.json
#                    (and TRUTH=/path/to/challenge_truth.json for a challenge set built locally)
# Any other notebook parameter:  make book PARAMS='-p epochs 3 -p seed 1'

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JUPYTEXT := $(VENV)/bin/jupytext
STAMP := $(VENV)/.mpd-book-installed
KERNEL ?= python3
GENERATED := book/generated

# The chapters, in order: each notebooks/NN_name.py is paired with notebooks/NN_name.ipynb.
# NB=02 (a prefix) restricts book, reference and the nbval part of test to matching chapters.
NB ?=
NOTEBOOKS = $(sort $(wildcard notebooks/$(if $(NB),$(NB)*,[0-9][0-9]_*).py))

# The chapters hand their results to each other through files in the work directory. Each
# chapter's NEEDS lists the chapters whose files it reads (directly or through another), and
# WRITES the file that shows a chapter has run; `make book NB=06` first runs any chapter
# whose file is missing, so a chapter builds alone on a fresh clone.
NEEDS_02 := 01
NEEDS_03 := 01 02
NEEDS_04 := 01 02 03
NEEDS_05 := 01 02 03 04
NEEDS_06 := 01 02 03
NEEDS_07 := 01 02
WRITES_01 := dataset/source.json
WRITES_02 := neumf/neumf.keras
WRITES_03 := clusters.npz
WRITES_04 := predictions/neumf_kmeans.parquet
number = $(firstword $(subst _, ,$(notdir $(1))))
MISSING = $(sort $(foreach c,$(NOTEBOOKS),$(foreach p,$(NEEDS_$(call number,$(c))), \
            $(if $(wildcard $(WORK)/$(WRITES_$(p))),,$(p)))))
# What `make book` executes: the chapters asked for, after the missing ones they read from.
BOOK_NOTEBOOKS = $(sort $(foreach p,$(MISSING),$(wildcard notebooks/$(p)_*.py)) $(NOTEBOOKS))

# Papermill parameters for `make book` (paths made absolute: the notebooks run in notebooks/).
DATA_DIR ?=
CHALLENGE ?=
TRUTH ?=
# A run on other data keeps its work files apart from the embedded run's (work/).
WORK_DIR ?= $(if $(DATA_DIR),work/mpd)
WORK = $(or $(WORK_DIR),work)
PARAMS ?=
BOOK_PARAMS = $(if $(DATA_DIR),-p data_dir $(abspath $(DATA_DIR))) \
              $(if $(CHALLENGE),-p challenge_path $(abspath $(CHALLENGE))) \
              $(if $(TRUTH),-p truth_path $(abspath $(TRUTH))) \
              $(if $(WORK_DIR),-p work_dir $(abspath $(WORK_DIR))) $(PARAMS)
# The embedded data is only needed when no real MPD is given.
BOOK_DATA = $(if $(DATA_DIR),,data)

# Kernels: `python3` is the kernel of .venv itself. Putting the venv's share/jupyter first
# means a python3 kernel registered elsewhere for the user can never be picked instead.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
# Papermill and nbval both run the notebooks' code with notebooks/ as the working directory.
PAPERMILL = $(PY) -m papermill --cwd notebooks -k $(KERNEL) --progress-bar
# Warnings are errors (-W): a broken reference, a missing chapter or a bad directive fails the
# build; --keep-going reports all of them first.
# With NB, chapters that have not been executed yet are missing from the book: the build
# then reports them (and what refers to them) without failing.
JUPYTER_BOOK = $(VENV)/bin/jupyter-book build --all $(if $(NB),,-W) -n --keep-going
NBVAL_OPTS = --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# make test: processes running tests at once (pytest-xdist); the notebooks run in order in one of them.
TEST_WORKERS ?= auto

.PHONY: help venv data book reference test cross-check clean distclean

help:
	@awk 'NR > 1 && !/^#/ {exit} NR > 1' Makefile | sed 's/^# \{0,1\}//'

venv: $(STAMP)

# constraints.txt pins every package to the versions the references were recorded with.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -c constraints.txt -e '.[book]'
	touch $@

data: venv
	$(PY) -m mpd_helpers embedded

# Execute every chapter from its .py source (the file people edit; it is converted to a
# fresh notebook under book/generated/.src, so the tracked notebooks are never touched),
# then build the HTML. Any failing notebook stops the build with a non-zero exit.
book: venv $(BOOK_DATA)
	@test -n "$(NOTEBOOKS)" || { echo "make book: no notebooks/NN_*.py found" >&2; exit 1; }
	$(if $(NB),,rm -rf $(GENERATED) &&) mkdir -p $(GENERATED)/.src
	@for src in $(BOOK_NOTEBOOKS); do \
	  name=$$(basename "$$src" .py); \
	  echo "=== $$name"; \
	  $(JUPYTEXT) --quiet --to ipynb --output "$(GENERATED)/.src/$$name.ipynb" "$$src"; \
	  $(PAPERMILL) $(BOOK_PARAMS) "$(GENERATED)/.src/$$name.ipynb" "$(GENERATED)/$$name.ipynb" \
	    || { echo "make book: FAILED in $$name; the executed part is in $(GENERATED)/$$name.ipynb" >&2; exit 1; }; \
	  $(PY) tools/clean_reference.py --book "$(GENERATED)/$$name.ipynb"; \
	done
	rm -rf $(GENERATED)/.src
	@missing=$$(for src in notebooks/[0-9][0-9]_*.py; do n=$$(basename "$$src" .py); \
	  test -f "$(GENERATED)/$$n.ipynb" || printf ' %s' "$$n"; done); \
	  test -z "$$missing" || echo "make book: not executed yet and so missing from the book:$$missing"
	$(JUPYTER_BOOK) .
	@echo "The book: $(CURDIR)/_build/html/index.html"

# Refresh the tracked reference outputs on purpose (default parameters, embedded data).
# The figures the chapters record in work/figures/ become tests/reference_figures.json.
# Each notebook is executed into a scratch copy (no -p: papermill then injects no cell),
# cleaned of volatile metadata and stderr (tools/clean_reference.py), moved over the tracked
# .ipynb, and the pair re-synced; the .py must come out byte for byte unchanged.
reference: venv data
	@test -n "$(NOTEBOOKS)" || { echo "make reference: no notebooks/NN_*.py found" >&2; exit 1; }
	$(JUPYTEXT) --sync $(NOTEBOOKS)
	rm -rf $(GENERATED)/.reference && mkdir -p $(GENERATED)/.reference
	@for src in $(NOTEBOOKS); do \
	  name=$$(basename "$$src" .py); nb=notebooks/$$name.ipynb; tmp=$(GENERATED)/.reference/$$name; \
	  echo "=== $$name"; \
	  cp "$$src" "$$tmp.py"; \
	  $(PAPERMILL) "$$nb" "$$tmp.ipynb" \
	    || { echo "make reference: FAILED in $$name; the executed part is in $$tmp.ipynb" >&2; exit 1; }; \
	  $(PY) tools/clean_reference.py "$$tmp.ipynb"; \
	  cmp -s "$$src" "$$tmp.py" \
	    || { echo "make reference: $$src was edited during the run; rerun make reference" >&2; exit 1; }; \
	  mv "$$tmp.ipynb" "$$nb"; \
	  $(JUPYTEXT) --quiet --sync "$$nb"; \
	  cmp -s "$$src" "$$tmp.py" \
	    || { echo "make reference: $$src changed when re-synced; see git diff" >&2; exit 1; }; \
	done
	rm -rf $(GENERATED)/.reference
	$(PY) tools/record_figures.py work/figures tests/reference_figures.json $(notdir $(NOTEBOOKS:.py=))

# The linter and the formatter's check, then one pytest run: nbval over every tracked notebook
# and the unit tests, side by side in TEST_WORKERS processes (one session, so that
# tests/conftest.py's rules for nbval, which leave stderr uncompared and keep the chapters in
# order in one process, apply to both).
test: venv data
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -n $(TEST_WORKERS) $(NBVAL_OPTS) tests $(if $(NB),$(NOTEBOOKS:.py=.ipynb),notebooks)

# `make test` under each setting that changes the floating-point work (1 core, oneDNN off,
# another OpenBLAS kernel, NumPy without AVX-512), against the references recorded with the
# default; writes the table of how far each figure moved to book/cross_check.md.
cross-check: venv data
	$(PY) tools/cross_check.py

clean:
	rm -rf _build $(GENERATED) work .pytest_cache

distclean: clean
	rm -rf $(VENV) data
