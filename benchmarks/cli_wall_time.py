"""How much of the training command's wall time is training: ``python -m utils.train`` run as a learner runs it,
its wall time against the sum of the epoch times it prints.

    python benchmarks/cli_wall_time.py                       # the BN-CNN on MNIST, 2 epochs, 3 runs, this machine
    python benchmarks/cli_wall_time.py --epochs 10 --dataset fashion-mnist

Everything outside the epochs counts: starting Python and importing torch, loading the data, the check on the
validation split after each epoch, measuring the finished model (with its test-time views) on the validation and
test splits, saving the checkpoint. Import full MNIST first and run nothing else meanwhile. The result is filed
under this machine's CPU class (or GPU) in ``benchmarks/results/cli_wall_time.json``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from utils.guards import settings
from utils.machinery import results

RESULTS_FILE = settings.REPO_ROOT / "benchmarks" / "results" / "cli_wall_time.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3, help="times to run the command: the median is filed, with "
                        "every run's ratio (a shared machine's speed can change within minutes)")
    args = parser.parse_args()
    if settings.SMOKE:
        parser.error("smoke mode times nothing worth filing: unset COURSE_SMOKE")
    command = ["-m", "utils.train", "--model", args.model, "--dataset", args.dataset, "--epochs", str(args.epochs)]
    measured = []
    for run in range(1, args.runs + 1):
        timed = time_command(command)
        if timed is None:
            return 1
        measured.append(timed)
        print(f"run {run}: {timed[0]:.1f} s wall, {timed[1]:.1f} s in the epochs: {timed[0] / timed[1]:.2f}x")
    ratios = [wall / training for wall, training in measured]
    row = {
        "hardware": results.describe_hardware(),
        "date": datetime.date.today().isoformat(),
        "command": " ".join(["python", *command]),
        "wall_s": round(statistics.median(wall for wall, _ in measured), 1),
        "training_s": round(statistics.median(training for _, training in measured), 1),
        "ratio": round(statistics.median(ratios), 2),
        "ratios": [round(ratio, 2) for ratio in ratios],
    }
    print(f"{row['command']}: median {row['ratio']:.2f}x of {args.runs} runs ({min(ratios):.2f} to {max(ratios):.2f})")
    where = results.machine_class()
    saved = results.read(RESULTS_FILE)
    saved.setdefault(where, {})[f"{args.model}-{args.dataset}-{args.epochs}"] = row
    results.write(RESULTS_FILE, saved)
    print(f"saved under {where!r} in {settings.display_path(RESULTS_FILE)}")
    return 0


def time_command(command: list[str]) -> tuple[float, float] | None:
    """One run of ``python COMMAND --save ...`` as a learner runs it: (seconds end to end, seconds in its epochs)."""
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        done = subprocess.run([sys.executable, *command, "--save", str(Path(folder) / "timed.pt")],
                              capture_output=True, text=True, env={**os.environ, "COURSE_PROGRESS": "0"})
        wall = time.perf_counter() - began
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
        return None
    return wall, results.seconds_in_epochs(done.stdout)


if __name__ == "__main__":
    sys.exit(main())
