"""How long each notebook takes, top to bottom in full mode, on this machine's CPU class; saved for the README.

    python benchmarks/notebook_minutes.py                 # every course notebook, executed copies in build/
    python benchmarks/notebook_minutes.py --in-place      # the same, regenerating the committed outputs
    python benchmarks/notebook_minutes.py 03_cnn.ipynb    # only these; the others keep their minutes

    # the laptop class (no native bfloat16, AVX2 kernels), measured on a machine with AVX-512:
    COURSE_PRECISION=float32 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/notebook_minutes.py

The kernels inherit the environment, so the variables above reach the notebooks. Import full MNIST first
(``python -m utils.data fetch --from ../shared/data/mnist``) and run nothing else meanwhile. Each run files its
minutes under the CPU class it ran on in ``benchmarks/results/notebook_minutes.json``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys

from utils import data
from utils.guards import settings
from utils.machinery import notebook_runner, results

RESULTS_FILE = settings.REPO_ROOT / "benchmarks" / "results" / "notebook_minutes.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NOTEBOOK", help="file names in notebooks/ (default: every one)")
    parser.add_argument("--in-place", action="store_true", help="write the outputs back into the notebooks")
    args = parser.parse_args()
    paths = [notebook_runner.NOTEBOOKS / name for name in args.names] or sorted(
        notebook_runner.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")
    )
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        parser.error(f"no notebook {missing[0]!r} in {settings.display_path(notebook_runner.NOTEBOOKS)}")
    if settings.SMOKE:
        parser.error("smoke mode times nothing worth filing: unset COURSE_SMOKE")
    if data.locate("mnist", quiet=True).is_sample:
        parser.error("full MNIST is not imported: python -m utils.data fetch --from ../shared/data/mnist")
    os.environ["COURSE_PROGRESS"] = "0"
    cpu_class = results.cpu_class()
    print(results.describe_hardware("cpu"))
    saved = results.read(RESULTS_FILE)
    minutes = saved.get(cpu_class, {}).get("minutes", {}) if args.names else {}
    for path in paths:
        output = path if args.in_place else settings.REPO_ROOT / "build" / "notebooks" / path.name
        seconds, _ = notebook_runner.run_notebook(path.resolve(), output)
        minutes[path.name] = round(seconds / 60, 1)
        print(f"{path.name:<32} {minutes[path.name]:5.1f} min", flush=True)
    saved[cpu_class] = {
        "hardware": results.describe_hardware("cpu"),
        "date": datetime.date.today().isoformat(),
        "minutes": minutes,
    }
    results.write(RESULTS_FILE, saved)
    print(f"saved under {cpu_class!r} in {settings.display_path(RESULTS_FILE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
