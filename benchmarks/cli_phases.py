"""Where the training command's seconds go: ``python -m utils.train`` run in this process with a stopwatch around each
phase (imports, reading the data, the validation split, each epoch's check, the final measurement), printed at the
end beside the wall time. ``cli_wall_time.py`` measures the ratio; this says what makes it.

    python benchmarks/cli_phases.py                          # the BN-CNN on MNIST, 2 epochs
    python benchmarks/cli_phases.py --epochs 3 --dataset fashion-mnist

Import full MNIST first and run nothing else meanwhile: on a shared 2-core machine the same phase can take twice as
long an hour later, so compare phases within one run.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402  (after the clock starts: the imports are a phase of their own)
import contextlib  # noqa: E402
import functools  # noqa: E402
from collections import defaultdict  # noqa: E402
from unittest import mock  # noqa: E402

import utils.machinery.train_command as train_command  # noqa: E402
from utils import training  # noqa: E402
from utils.machinery import workflow  # noqa: E402

PHASES = {  # the functions timed, by the phase they count towards
    (workflow, "load_tensors"): "reading the data",
    (workflow, "validation_split"): "the validation split",
    (training, "evaluate"): "the check after each epoch",
    (workflow, "final_metrics"): "the final measurement (validation and test, with test-time views)",
    (workflow, "_save"): "saving the checkpoint",
}


def main(argv: list[str] | None = None) -> int:
    imported = time.perf_counter() - STARTED
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)
    seconds: dict[str, float] = defaultdict(float)
    histories = []  # the History that fit fills: its ``seconds`` are the epoch times the command prints
    fit = workflow.fit
    with contextlib.ExitStack() as stopwatches:  # each function as it was afterwards (a test runs this in-process)
        for (module, name), phase in PHASES.items():
            timed = _stopwatch(getattr(module, name), phase, seconds)
            stopwatches.enter_context(mock.patch.object(module, name, timed))
        stopwatches.enter_context(
            mock.patch.object(workflow, "fit", lambda *a, **k: (histories.append(k["history"]), fit(*a, **k))[1])
        )
        code = train_command.main(["--model", args.model, "--dataset", args.dataset, "--epochs", str(args.epochs)])
    wall = time.perf_counter() - STARTED
    epochs = histories[0].seconds if histories else []
    print(f"\nwhere the {wall:.3f} s went (python -m utils.train --model {args.model} --dataset {args.dataset} "
          f"--epochs {args.epochs}, in this process):")
    rows = [("importing the course (torch, scikit-learn, ...)", imported),
            (f"the {len(epochs)} epochs (the times they print)", sum(epochs))]
    rows += list(seconds.items())
    for phase, value in rows:
        print(f"  {value:8.3f} s  {value / wall:4.0%}  {phase}")
    rest = wall - sum(value for _, value in rows)
    print(f"  {rest:8.3f} s  {rest / wall:4.0%}  everything else")
    return code


def _stopwatch(function, phase: str, seconds: dict[str, float]):
    @functools.wraps(function)
    def timed(*args, **kwargs):
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[phase] += time.perf_counter() - began

    return timed


if __name__ == "__main__":
    raise SystemExit(main())
