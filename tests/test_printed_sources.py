"""Functions the notebooks print with ``inspect.getsource`` are marked where they are defined.

A notebook cell tagged ``nbval-check-output`` (in its metadata, out of the learner's sight) that prints a function's
source is compared with its committed output in CI: editing that function, even its docstring, breaks CI until the
notebook is re-run in full mode. The marker comment says so to whoever is about to edit it.
"""

from __future__ import annotations

import inspect
import json
import re
from collections import defaultdict
from pathlib import Path

import utils
from utils import checkpoints, data, evaluation, models, predict, recipes, training
from utils.guards.settings import REPO_ROOT

MODULES = {module.__name__.split(".")[-1]: module for module in (checkpoints, data, evaluation, models, predict,
                                                                  recipes, training)}
MARKER = re.compile(r"^\s*# Printed by notebook (\d\d(?:, \d\d)*) \(inspect\.getsource\)")


def printed_sources() -> dict[str, set[str]]:
    """``{"training.train_one_epoch": {"02"}, ...}``: what each notebook prints, by the name it uses."""
    printed = defaultdict(set)
    for path in sorted((REPO_ROOT / "notebooks").glob("**/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for name in re.findall(r"inspect\.getsource\(([\w.]+)\)", "".join(cell["source"])):
                printed[name].add(path.name[:2])
    return printed


def resolve(name: str):
    """The object a notebook prints, unwrapped from its decorators as ``inspect.getsource`` unwraps it."""
    module, *attributes = name.split(".")
    value = MODULES[module]
    for attribute in attributes:
        value = getattr(value, attribute)
    return inspect.unwrap(value)


def test_every_printed_function_is_marked_with_the_notebooks_that_print_it():
    printed = printed_sources()
    assert printed, "no notebook prints a source: the pattern above no longer matches the notebooks"
    for name, notebooks in printed.items():
        lines, first = inspect.getsourcelines(resolve(name))
        above = Path(inspect.getsourcefile(resolve(name))).read_text().splitlines()[first - 2]
        match = MARKER.match(above)
        assert match, f"{name} is printed by notebook {', '.join(sorted(notebooks))} but has no marker above it"
        assert set(match.group(1).split(", ")) == notebooks, f"{name}'s marker names {match.group(1)}"


def test_no_marker_is_left_on_a_function_no_notebook_prints():
    marked = 0
    printed = {resolve(name) for name in printed_sources()}
    printed_places = {(inspect.getsourcefile(obj), inspect.getsourcelines(obj)[1]) for obj in printed}
    for path in Path(utils.__file__).parent.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if MARKER.match(line):
                marked += 1
                assert (str(path), number + 1) in printed_places, f"{path.name}:{number} marks a function no one prints"
    assert marked == len(printed_places)


def test_every_cell_that_prints_a_source_is_compared_by_nbval():
    """The tag, not a comment in the learner's cell, makes nbval compare the printed source with the committed one."""
    untagged = [
        f"{path.name}: {cell['id']}"
        for path in sorted((REPO_ROOT / "notebooks").glob("**/*.ipynb"))
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
        if "inspect.getsource(" in "".join(cell["source"])
        and "nbval-check-output" not in cell["metadata"].get("tags", [])
    ]
    assert not untagged, untagged

