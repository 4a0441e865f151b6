"""Execute the course notebooks top to bottom, headless, one line of result per notebook: the last line its
``result``-tagged cell printed (the accuracy it reached, or what it measured).

    python -m utils.machinery.notebook_runner              # run into build/notebooks/, committed notebooks untouched
    python -m utils.machinery.notebook_runner --in-place   # regenerate the committed outputs (full mode only)

Progress bars are switched off (``COURSE_PROGRESS=0``) so that saved outputs hold no dead widgets, and each run
of printed lines is saved as one output, as JupyterLab shows it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from utils.guards import settings

NOTEBOOKS = settings.REPO_ROOT / "notebooks"


RESULT_TAG = "result"
"""The tag (cell metadata, out of the learner's sight) of the cell whose last printed line is the notebook's result."""


def result_line(notebook) -> str:
    """The last line the ``result``-tagged cell of an executed notebook printed, or "" where there is none."""
    for cell in notebook.cells:
        if RESULT_TAG in cell.get("metadata", {}).get("tags", []):
            printed = "".join(out.get("text", "") for out in cell.get("outputs", []) if out.get("name") == "stdout")
            return next((line.strip() for line in reversed(printed.splitlines()) if line.strip()), "")
    return ""


def merge_adjacent_streams(notebook) -> None:
    """Join each run of stdout (or stderr) outputs that follow one another into one output, in place.

    The kernel sends every ``print`` of a training loop as its own message and nbclient saves each as an output;
    JupyterLab shows them as one block, but the website and GitHub draw one box per output, each with its own
    sideways scrollbar. Only neighbours merge: text printed after a figure stays after the figure.
    """
    for cell in notebook.cells:
        merged = []
        for output in cell.get("outputs", []):
            before = merged[-1] if merged else None
            if (output["output_type"] == "stream" and before is not None and before["output_type"] == "stream"
                    and before["name"] == output["name"]):
                before["text"] += output["text"]
            else:
                merged.append(output)
        if "outputs" in cell:
            cell["outputs"] = merged


def run_notebook(path: Path, output: Path, timeout: int | None = None) -> tuple[float, str]:
    """Execute ``path`` with the notebook's folder as working directory; save it to ``output``. Returns the seconds
    it took and its result line.

    The kernel's own stderr (jupyter_client's transport warnings, a crash's last words) goes to
    ``build/kernel-logs/NAME.log`` rather than between the result lines; cell errors come back through the notebook.
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    log = settings.REPO_ROOT / "build" / "kernel-logs" / f"{path.stem}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    with open(log, "w") as kernel_stderr:
        NotebookClient(  # no widget state saved: a page would fetch the widget manager from the internet to draw it
            notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
            store_widget_state=False,
        ).execute(stderr=kernel_stderr)
    merge_adjacent_streams(notebook)
    notebook.metadata["course"] = {"mode": "smoke" if settings.SMOKE else "full"}  # what tests/ check it by
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, output)
    return time.perf_counter() - began, result_line(notebook)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m utils.machinery.notebook_runner", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    parser.add_argument("--in-place", action="store_true", help="write outputs back into the notebooks")
    parser.add_argument("--out", type=Path, default=settings.REPO_ROOT / "build" / "notebooks")
    args = parser.parse_args(argv)
    if args.in_place and settings.SMOKE:
        parser.error("--in-place writes the committed outputs: run it in full mode (unset COURSE_SMOKE)")
    os.environ["COURSE_PROGRESS"] = "0"
    paths = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    failed = 0
    for path in paths:
        output = path if args.in_place else args.out / path.name
        try:
            seconds, result = run_notebook(path.resolve(), output)
            print(f"ok      {path.name:<28} {seconds:6.1f} s  {result}".rstrip(), flush=True)
        except Exception as error:  # a cell raised: report the notebook and go on with the next
            failed += 1
            reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
            print(f"FAILED  {path.name}  {reason}", flush=True)
    mode = "smoke" if settings.SMOKE else "full"
    print(f"{len(paths) - failed} of {len(paths)} notebooks ran top to bottom ({mode} mode)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
