"""Every notebook opens on Colab from one address: its first code cell sets the course up there and does nothing
elsewhere, its title carries the badge, and both come from pyproject.toml (``python -m utils.machinery.colab``)."""

import json
import os
import sys

from utils.machinery import colab


def test_every_notebook_matches_the_address_in_pyproject():
    assert colab.main(["--check"]) == 0, "run `python -m utils.machinery.colab`"


def test_the_set_up_cell_does_nothing_outside_colab(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path_before = list(sys.path)
    source = "".join(json.loads(colab.notebooks()[0].read_text())["cells"][1]["source"])
    exec(compile(source, "colab-setup", "exec"), {})
    assert os.getcwd() == str(tmp_path) and sys.path == path_before


def test_an_address_gives_each_notebook_its_badge_and_its_own_folder():
    solutions = [path for path in colab.notebooks() if path.parent.name == "solutions"][0]
    notebook = colab.updated(solutions, "someone/course", "main")
    title, setup = ("".join(cell["source"]) for cell in notebook["cells"][:2])
    link = f"https://colab.research.google.com/github/someone/course/blob/main/notebooks/solutions/{solutions.name}"
    assert f"{colab.BADGE}({link})" in title.splitlines()[1]
    assert 'REPOSITORY = "someone/course"' in setup and 'os.chdir("/content/course/notebooks/solutions")' in setup
    again = colab.updated(solutions, "someone/course", "main")  # applied twice: one badge, one set-up cell
    assert [cell["id"] for cell in again["cells"]].count(colab.CELL_ID) == 1 and title.count(colab.BADGE) == 1


def test_the_set_up_cell_is_folded_away_on_colab_and_in_jupyterlab():
    cell = json.loads(colab.notebooks()[0].read_text())["cells"][1]
    assert cell["metadata"]["cellView"] == "form" and "".join(cell["source"]).startswith("#@title ")
    assert cell["metadata"]["jupyter"]["source_hidden"] is True


def test_without_an_address_the_cell_says_so_and_no_badge_is_drawn():
    notebook = colab.updated(colab.notebooks()[0], "", "main")
    assert colab.BADGE not in "".join(notebook["cells"][0]["source"])
    assert "names no repository yet" in "".join(notebook["cells"][1]["source"])
