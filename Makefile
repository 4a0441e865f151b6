# The course's commands. Windows without make: see README.md ("Without make").
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup data lab run notebooks test lint clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)  ## virtual environment with everything installed

data: $(STAMP)  ## download or import the datasets into data/ (offline: system copy, MNIST sample)
	$(BIN)/python -m utils.data fetch

lab: data  ## set up, then open Jupyter Lab
	$(BIN)/jupyter lab

run: data  ## execute every notebook headless (full mode) into build/, one line per notebook
	$(BIN)/python -m utils.notebook_runner

notebooks: data  ## re-execute the notebooks in place: regenerates the committed outputs (full mode)
	$(BIN)/python -m utils.notebook_runner --in-place

test: data  ## unit tests + every notebook under nbval, in smoke mode; then ruff
	COURSE_SMOKE=1 $(BIN)/python -m pytest
	$(BIN)/ruff check utils tests notebooks benchmarks

lint: $(STAMP)
	$(BIN)/ruff check utils tests notebooks benchmarks

clean:
	rm -rf build .pytest_cache
