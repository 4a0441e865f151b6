"""Colab from one place: each notebook's first code cell sets the course up when it runs on Colab (clone, install
what Colab lacks, make ``utils`` importable, work in the notebook's own folder) and does nothing elsewhere; its title
cell carries an "Open in Colab" badge. Both are made from ``[tool.course]`` in pyproject.toml.

    python -m utils.machinery.colab            # rewrite the cells and badges in every notebook
    python -m utils.machinery.colab --check    # exit 1 if a notebook differs from what the address gives
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from utils.guards import settings

NOTEBOOKS = settings.REPO_ROOT / "notebooks"
CELL_ID = "colab-setup"
BADGE = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
CLONE = "/content/course"

SETUP = '''#@title On Google Colab: fetch the course and install what Colab lacks (anywhere else this does nothing)
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess

    REPOSITORY = "{repository}"  # written by `python -m utils.machinery.colab` from pyproject.toml
    if not REPOSITORY:
        raise SystemExit("This copy of the course names no repository yet, so Colab cannot fetch it.")
    if not os.path.isdir("{clone}"):
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", "{branch}",
                        f"https://github.com/{{REPOSITORY}}", "{clone}"], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "mlxtend", "anywidget",
                        "-e", "{clone}"], check=True)
    sys.path.insert(0, "{clone}")
    os.chdir("{clone}/{folder}")'''


def address() -> tuple[str, str]:
    """The repository ("owner/name", empty until set) and branch that pyproject.toml names."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the backport, from requirements-dev.txt
        import tomli as tomllib

    course = tomllib.loads((settings.REPO_ROOT / "pyproject.toml").read_text())["tool"]["course"]
    return course["repository"], course["branch"]


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) + sorted(NOTEBOOKS.glob("solutions/[0-9][0-9]_*.ipynb"))


def lines(text: str) -> list[str]:
    return [line + "\n" for line in text.split("\n")[:-1]] + [text.split("\n")[-1]]


def updated(path: Path, repository: str, branch: str) -> dict:
    """The notebook at ``path`` with its set-up cell and badge as the address gives them."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    folder = path.parent.relative_to(settings.REPO_ROOT).as_posix()
    source = lines(SETUP.format(repository=repository, branch=branch, clone=CLONE, folder=folder))
    cells = notebook["cells"]
    if cells[1].get("id") != CELL_ID:
        cells.insert(1, {"cell_type": "code", "execution_count": None, "id": CELL_ID, "metadata": {},
                         "outputs": [], "source": source})
    cells[1]["source"] = source
    # folded away where the front end allows: Colab shows the #@title line as a form, JupyterLab a collapsed input
    cells[1]["metadata"].update({"cellView": "form", "jupyter": {"source_hidden": True}})
    title = [line for line in "".join(cells[0]["source"]).split("\n") if not line.startswith(BADGE)]
    if repository:
        link = f"https://colab.research.google.com/github/{repository}/blob/{branch}/{folder}/{path.name}"
        title.insert(1, f"{BADGE}({link})")
    cells[0]["source"] = lines("\n".join(title))
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.machinery.colab", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is out of date")
    args = parser.parse_args(argv)
    repository, branch = address()
    stale = []
    for path in notebooks():
        text = json.dumps(updated(path, repository, branch), indent=1, ensure_ascii=False) + "\n"
        if text != path.read_text(encoding="utf-8"):
            stale.append(path.relative_to(settings.REPO_ROOT).as_posix())
            if not args.check:
                path.write_text(text, encoding="utf-8")
    verb = "out of date" if args.check else "rewritten"
    print(f"{len(stale)} notebook(s) {verb}" + (f": {', '.join(stale)}" if stale else ""))
    if not repository:
        print("no repository in pyproject.toml [tool.course]: the Colab cells say so, and no badge is drawn")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
