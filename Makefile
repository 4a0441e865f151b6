# The course's commands. Windows without make: see README.md, "Setup".
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
SITE_STAMP := $(VENV)/.installed-site
# pip byte-compiles at install: where PYTHONDONTWRITEBYTECODE is set (as on this course's CI machines) nothing else
# would, and every kernel and command would compile PyTorch's sources again (--no-compile cost CI minutes)
PIP := $(BIN)/python -m pip install --quiet -c constraints.txt

.PHONY: setup tools data lab run notebooks test lint clean site site-check

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(PIP) -r requirements.txt
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PIP) -r requirements-dev.txt
	touch $(DEV_STAMP)

$(SITE_STAMP): $(STAMP) requirements-site.txt
	$(PIP) -r requirements-site.txt
	touch $(SITE_STAMP)

setup: $(STAMP)  ## virtual environment with the course's packages

tools: $(DEV_STAMP) $(SITE_STAMP)  # the maintainers' and the site's tools too (.ci/run, while apt works)

data: $(STAMP)  ## download or import the datasets into data/ (offline: system copy, MNIST sample)
	$(BIN)/python -m utils.data fetch

lab: data  ## set up, then open Jupyter Lab
	$(BIN)/jupyter lab

run: data  ## execute every notebook headless (full mode) into build/, one line per notebook
	$(BIN)/python -m utils.machinery.notebook_runner

notebooks: data  ## re-execute the notebooks in place: regenerates the committed outputs (full mode)
	$(BIN)/python -m utils.machinery.notebook_runner --in-place

site: $(SITE_STAMP)  ## the course website in build/site/, rendered from the committed notebooks (nothing re-executed)
	$(BIN)/python -m utils.machinery.site

site-check: $(SITE_STAMP) $(DEV_STAMP)  ## build the site and open every page in headless Chromium (Debian: chromium, chromium-driver)
	$(BIN)/python -m pytest tests/test_site.py

# Two pytest workers, one thread each: most of the suite's time is Python starting PyTorch in a new process (kernels,
# commands), which one core does alone; a notebook stays whole on one worker (--dist loadfile), and the files start in
# tests/conftest.py's order, the slowest first (xdist would otherwise start the files with the most tests first)
TEST_WORKERS ?= 2

test: data $(DEV_STAMP) $(SITE_STAMP)  ## unit tests (the site in Chromium too) + every notebook under nbval, in smoke mode; then ruff
	COURSE_SMOKE=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
	$(BIN)/ruff check utils tests notebooks benchmarks

lint: $(DEV_STAMP)
	$(BIN)/ruff check utils tests notebooks benchmarks

clean:
	rm -rf build .pytest_cache
