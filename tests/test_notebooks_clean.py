"""The committed notebooks are clean: what a reader on the web sees came from one real, complete run."""

import json
import re
from pathlib import Path

import pytest

FOLDER = Path(__file__).parent.parent / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((FOLDER / "solutions").glob("[0-9][0-9]_*.ipynb"))
LOCAL_PATH = re.compile(r"/(root|work|tmp|home|Users)/[\w.-]+/")
# a cell's stray last value, such as <torch._C.Generator at 0x7fb826fe28d0>
MEMORY_ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def test_every_numbered_notebook_is_found():
    assert [path.name[:2] for path in NOTEBOOKS] == [f"{n:02d}" for n in range(1, len(NOTEBOOKS) + 1)]


def test_every_notebook_has_its_solutions():
    assert [path.name.replace("_solutions", "") for path in SOLUTIONS] == [path.name for path in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS + SOLUTIONS, ids=[path.name for path in NOTEBOOKS + SOLUTIONS])
def test_notebook_is_clean(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    code_cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert all("id" in cell for cell in notebook["cells"]), "every cell needs an id"
    counts = [cell["execution_count"] for cell in code_cells]
    if any(counts):  # outputs only from a full run of the notebook runner (make notebooks), which says so
        assert notebook["metadata"].get("course", {}).get("mode") == "full", "re-run it with `make notebooks`"
    # saved widget state makes a rendered page fetch the widget manager from the internet (the site is offline)
    assert "widgets" not in notebook["metadata"], "saved widget state: re-run it with `make notebooks`"
    # either a complete run (every code cell executed, in order 1, 2, 3, ...) or fully stripped
    assert counts == list(range(1, len(counts) + 1)) or counts == [None] * len(counts), f"counts {counts}"
    for index, cell in enumerate(code_cells):
        kinds = [(output["output_type"], output.get("name")) for output in cell["outputs"]]
        # the website draws one box and one sideways scrollbar per output: a training log is one output, not ten
        split = [kind for kind, after in zip(kinds, kinds[1:]) if kind == after and kind[0] == "stream"]
        assert not split, f"code cell {index}: printed lines split over several outputs (the runner joins them)"
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"code cell {index} holds an error"
            text = json.dumps(output.get("text", "")) + json.dumps(output.get("data", {}).get("text/plain", ""))
            assert not LOCAL_PATH.search(text), f"code cell {index} shows a machine-local path"
            assert not MEMORY_ADDRESS.search(text), f"code cell {index} shows an object's memory address"
            assert "5,000-image sample" not in text, f"code cell {index} ran without full MNIST: import it first"


# A wrapped line that happens to begin "1) " or "1. " ends the paragraph and starts a numbered list on the site
# (notebook 07 once rendered "(0 or" / "1) and the world size ..." as a list of one item).
LIST_START = re.compile(r"1[.)]\s")
LIST_ITEM = re.compile(r"\s*([-*+]|\d+[.)])\s")


@pytest.mark.parametrize("path", NOTEBOOKS + SOLUTIONS, ids=[path.name for path in NOTEBOOKS + SOLUTIONS])
def test_no_wrapped_line_starts_a_numbered_list_by_accident(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        lines = "".join(cell["source"]).split("\n")
        for before, line in zip(lines, lines[1:]):
            in_paragraph = before.strip() and not LIST_ITEM.match(before) and not before.startswith("#")
            assert not (in_paragraph and LIST_START.match(line)), f"cell {index}: {before!r} / {line!r}"
