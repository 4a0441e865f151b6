"""One process against N data-parallel processes (``torchrun``), the same seeds: validation accuracy and time.

    python benchmarks/data_parallel.py                                   # Fashion-MNIST BN-CNN, 2 processes, seeds 0-2
    python benchmarks/data_parallel.py --processes 4 --seeds 0 1 2 3 4 --epochs 10

For each seed it runs ``python -m utils.train`` (one process) and ``torchrun --standalone --nproc_per_node=N -m
utils.train`` with the same recipe and effective batch, then compares the final validation accuracies paired by
seed (mean difference and its 95 % interval: ``evaluation.paired_difference``) and the time in the epochs. On a
2-core CPU two processes share the same two cores (one thread each instead of two), so they are not expected to be
faster: the point there is that the result is the same. Run nothing else meanwhile. Filed under this machine's
class in ``benchmarks/results/data_parallel.json``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from utils.evaluation import paired_difference
from utils.guards import settings
from utils.machinery import results

RESULTS_FILE = settings.REPO_ROOT / "benchmarks" / "results" / "data_parallel.json"
FINAL = re.compile(r"^final model: validation accuracy ([\d.]+), test accuracy ([\d.]+)$", re.M)


def train(launcher: list[str], args, seed: int) -> dict:
    """One training run; its final validation accuracy, epoch seconds and wall seconds."""
    with tempfile.TemporaryDirectory() as folder:
        command = [*launcher, "-m", "utils.train", "--model", args.model, "--dataset", args.dataset,
                   "--seed", str(seed), "--save", str(Path(folder) / "run.pt")]
        if args.epochs:
            command += ["--epochs", str(args.epochs)]
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COURSE_PROGRESS": "0"})
        wall = time.perf_counter() - began
    final = FINAL.search(done.stdout)
    if done.returncode != 0 or final is None:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    epochs = results.seconds_in_epochs(done.stdout)
    return {"val_acc": float(final[1]), "training_s": round(epochs, 1), "wall_s": round(wall, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--epochs", type=int, help="default: the course recipe's")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    if settings.SMOKE:
        parser.error("smoke mode measures nothing worth filing: unset COURSE_SMOKE")
    one, many = [], []
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={args.processes}"]
    for seed in args.seeds:
        one.append(train([sys.executable], args, seed))
        many.append(train(torchrun, args, seed))
        print(f"seed {seed}: one process {one[-1]}, {args.processes} processes {many[-1]}", flush=True)
    difference = paired_difference([run["val_acc"] for run in one], [run["val_acc"] for run in many])
    row = {
        "hardware": results.describe_hardware(),
        "date": datetime.date.today().isoformat(),
        "command": f"torchrun --standalone --nproc_per_node={args.processes} -m utils.train --model {args.model} "
                   f"--dataset {args.dataset}" + (f" --epochs {args.epochs}" if args.epochs else ""),
        "seeds": args.seeds,
        "one_process": one,
        "processes": many,
        "val_acc_difference": {"mean": difference.mean, "low": difference.low, "high": difference.high},
        "verdict": difference.verdict,
        "training_s_one": statistics.mean(run["training_s"] for run in one),
        "training_s_many": statistics.mean(run["training_s"] for run in many),
    }
    print(f"validation accuracy, {args.processes} processes minus one: {difference}")
    print(f"seconds in the epochs: one process {row['training_s_one']:.1f}, "
          f"{args.processes} processes {row['training_s_many']:.1f}")
    where = results.machine_class()
    saved = results.read(RESULTS_FILE)
    key = f"{args.model}-{args.dataset}-{args.processes}-processes"
    saved.setdefault(where, {})[key] = row
    results.write(RESULTS_FILE, saved)
    print(f"saved under {where!r} in {settings.display_path(RESULTS_FILE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
