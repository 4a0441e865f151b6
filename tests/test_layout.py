"""The package's layout holds: imports point one way, the machinery stays out of the lessons, functions stay short.

The modules at the top of ``utils/`` are what learners read; ``utils/machinery/`` is what keeps the course working.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import utils
from utils.datasets import DATASETS

PACKAGE = Path(utils.__file__).parent
ENTRY_POINTS = {"train"}  # utils/train.py only keeps `python -m utils.train` working
LEARNERS = sorted(
    path.stem for path in PACKAGE.glob("*.py") if path.stem not in {"__init__", *ENTRY_POINTS}
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_command_entry(node: ast.AST) -> bool:
    """``if __name__ == "__main__":``, where a learners' module hands ``python -m`` to the machinery's command."""
    return isinstance(node, ast.If) and ast.unparse(node.test) in ('__name__ == "__main__"', "__name__ == '__main__'")


def imports_of(path: Path) -> set[str]:
    """The ``utils`` modules a file imports, anywhere in it (a function-level import counts too), except in its
    ``python -m`` entry: that code runs only as a command, never when a notebook or another module imports the file."""
    found = set()
    tree = ast.parse(path.read_text())
    tree.body = [node for node in tree.body if not is_command_entry(node)]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("utils"):
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found |= {name if (PACKAGE.parent / name.replace(".", "/")).with_suffix(".py").exists() else node.module
                      for name in names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("utils")}
    return found - {"utils"}


GRAPH = {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}


def test_no_module_imports_one_that_imports_it_back():
    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})) for nxt in GRAPH.get(start, ())
        )

    cycles = [name for name in GRAPH if reaches(name, name, set())]
    assert not cycles, f"import cycles through {cycles}"


def test_evaluation_does_not_import_training():
    assert "utils.training" not in GRAPH["utils.evaluation"]


@pytest.mark.parametrize("name", LEARNERS)
def test_a_learners_module_imports_no_machinery_except_datas_one_call_to_locate_files(name):
    machinery = {module for module in GRAPH[f"utils.{name}"] if module.startswith("utils.machinery")}
    assert machinery <= ({"utils.machinery.sources"} if name == "data" else set()), machinery


def test_the_commands_entries_are_seen_and_only_hand_over():
    """``python -m utils.data`` and ``python -m utils.predict`` start in a learners' module and hand over at once."""
    for name in ("data", "predict"):
        entries = [node for node in ast.parse((PACKAGE / f"{name}.py").read_text()).body if is_command_entry(node)]
        assert len(entries) == 1 and len(entries[0].body) == 2, f"utils/{name}.py: {ast.unparse(entries)}"


@pytest.mark.parametrize("name", LEARNERS)
def test_no_function_in_a_learners_module_is_longer_than_a_screen(name):
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    long = {
        node.name: node.end_lineno - node.lineno + 1
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > 60
    }
    assert not long, f"over 60 lines: {long}"


def test_the_guards_import_no_machinery_and_no_workflow():
    """The guards check input for the lessons; they stand below the lessons they protect, never above."""
    for name, imported in GRAPH.items():
        if name.startswith("utils.guards"):
            allowed = {"utils.datasets", "utils.models"}
            outside = {module for module in imported if not module.startswith("utils.guards")} - allowed
            assert not outside, f"{name} imports {outside}"


def test_the_learners_modules_stay_a_sitting_s_reading():
    """No learners' module over 350 lines: each one reads in a sitting."""
    lengths = {name: len((PACKAGE / f"{name}.py").read_text().splitlines()) for name in LEARNERS}
    assert max(lengths.values()) <= 350, lengths


def test_the_learners_modules_together_stay_a_small_package():
    """The modules at the top of ``utils/`` together (``wc -l utils/*.py``): at most 1,500 lines, the house's budget
    for what a learner may be sent to read; new machinery goes to ``utils/machinery/``."""
    lengths = {path.name: len(path.read_text().splitlines()) for path in PACKAGE.glob("*.py")}
    assert sum(lengths.values()) <= 1500, lengths


def test_checkpoints_ask_nothing_of_the_provisioning_code():
    """Whether a model saw an offline sample travels with its data (``InMemoryData.is_sample``)."""
    source = (PACKAGE / "checkpoints.py").read_text()
    assert not {module for module in GRAPH["utils.checkpoints"] if "machinery" in module or module == "utils.data"}
    assert "locate(" not in source


def test_no_code_outside_the_dataset_records_compares_a_datasets_name():
    names = set(DATASETS)
    compared = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "datasets.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if any(isinstance(side, ast.Constant) and side.value in names for side in sides):
                    compared.append(f"{path.name}:{node.lineno}")
    assert not compared, f"dataset names compared at {compared}: read the dataset's record instead"


def test_every_package_folder_is_installed():
    """``pip install .`` (not editable) ships only the packages pyproject.toml lists."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    assert listed == {module_name(path) for path in PACKAGE.rglob("__init__.py")}
