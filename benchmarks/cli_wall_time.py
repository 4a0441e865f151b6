"""How much of the training command's wall time is training: ``python -m utils.train`` run as a learner runs it,
its wall time against the sum of the epoch times it prints.

    python benchmarks/cli_wall_time.py                       # the BN-CNN on MNIST, 2 epochs, on this machine
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
    args = parser.parse_args()
    if settings.SMOKE:
        parser.error("smoke mode times nothing worth filing: unset COURSE_SMOKE")
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "utils.train", "--model", args.model, "--dataset", args.dataset,
                   "--epochs", str(args.epochs), "--save", str(Path(folder) / "timed.pt")]
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COURSE_PROGRESS": "0"})
        wall = time.perf_counter() - began
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
        return 1
    training = results.seconds_in_epochs(done.stdout)
    where = results.machine_class()
    row = {
        "hardware": results.describe_hardware(),
        "date": datetime.date.today().isoformat(),
        "command": " ".join(["python", *command[1:-2]]),
        "wall_s": round(wall, 1),
        "training_s": round(training, 1),
        "ratio": round(wall / training, 2),
    }
    print(f"{row['command']}: {wall:.1f} s wall, {training:.1f} s in the epochs: {wall / training:.2f}x")
    saved = results.read(RESULTS_FILE)
    saved.setdefault(where, {})[f"{args.model}-{args.dataset}-{args.epochs}"] = row
    results.write(RESULTS_FILE, saved)
    print(f"saved under {where!r} in {settings.display_path(RESULTS_FILE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
