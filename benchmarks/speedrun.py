"""The speedrun: training seconds until the course's BN-CNN reaches 99 % on MNIST, one trick added at a time.

    python benchmarks/speedrun.py                         # every step this device can run, seeds 0-4
    python benchmarks/speedrun.py --seeds 0 1 2           # fewer seeds (the GPU check script)

    # a laptop without native bfloat16, measured on a machine with AVX-512:
    COURSE_PRECISION=float32 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/speedrun.py

Each step keeps everything the step before did and adds one trick: the textbook pipeline (a ``DataLoader`` over PIL
images, batch 64, Adam at a constant 1e-3, float32), then the course's one-cycle schedule (AdamW, peak learning
rate 5e-3), the whole split as tensors on the device, the course's batch size for the device (peak learning rate
scaled with it on a GPU), the ``channels_last`` layout, bf16 autocast where the hardware runs it natively, and on a
CUDA GPU ``torch.compile``. The schedule comes first: with the textbook's constant learning rate the BN-CNN did not
reach 99 % on this validation split within the budget, so no pipeline trick could be timed without it. No
augmentation and no label smoothing: the fastest way to 99 %, not the best model after many epochs.

Every run trains on the 50,000 training images left by ``data.validation_split`` and stops once its validation
accuracy (10,000 held-out training images, checked after each epoch) reaches 99 %, or after ``EPOCHS`` epochs; the
stopped model is then measured once on the test set. The time is training seconds (the checks after each epoch
excluded), plus the time to prepare the data (the tensors, or the ``DataLoader``'s dataset); one-cycle schedules
are laid out over the same ``EPOCHS``. Steps are compared seed by seed (paired, mean difference with its 95 %
interval). A full run files its result under the machine's class in ``benchmarks/results/speedrun.json``, which
notebook 06 and docs/results.md read.
"""

from __future__ import annotations

import argparse
import datetime
import time
from dataclasses import dataclass, replace

import torch

from utils import data, evaluation, hardware, training
from utils.guards import settings
from utils.machinery import results, workflow
from utils.models import CNN

DATASET = "mnist"
TARGET = 0.99
EPOCHS = 3  # every step's budget, and the length of its one-cycle schedule
RESULTS_FILE = settings.REPO_ROOT / "benchmarks" / "results" / "speedrun.json"
TEXTBOOK = training.Recipe(epochs=EPOCHS, batch_size=64, lr=1e-3, weight_decay=0.0, schedule="constant",
                           mixed_precision=False, channels_last=False)


@dataclass(frozen=True)
class Step:
    """One rung of the speedrun: a recipe, where its data lives, and whether the model is compiled."""

    name: str
    recipe: training.Recipe
    tensors: bool = True
    compiled: bool = False


def steps_for(device: torch.device) -> list[Step]:
    """The speedrun's steps on ``device``: each adds one trick to the step before; a trick this device cannot use
    (bf16 without native support, ``torch.compile`` off CUDA) is left out, so every step shown was measured."""
    batch, peak = (512, 1e-2) if device.type == "cuda" else (128, 5e-3)  # launch-bound GPUs want big batches
    one_cycle = replace(TEXTBOOK, schedule="onecycle", lr=5e-3, weight_decay=5e-4)
    bigger = replace(one_cycle, batch_size=batch, lr=peak)
    steps = [Step("textbook: DataLoader, batch 64, Adam 1e-3, float32", TEXTBOOK, tensors=False),
             Step("+ one-cycle AdamW, peak lr 5e-3", one_cycle, tensors=False),
             Step(f"+ tensors on the {device.type}", one_cycle),
             Step(f"+ batch {batch}" + (f", peak lr {peak:g}" if peak != one_cycle.lr else ""), bigger),
             Step("+ channels_last", replace(bigger, channels_last=True))]
    if hardware.uses_bf16(device):  # native bf16, and COURSE_PRECISION is not float32
        steps.append(Step("+ bf16 autocast", replace(bigger, channels_last=True, mixed_precision=True)))
    if device.type == "cuda":
        steps.append(Step("+ torch.compile", steps[-1].recipe, compiled=True))
    return steps


def run(step: Step, seed: int, device: torch.device, test: data.InMemoryData) -> dict:
    """Train ``step`` with ``seed`` until the validation accuracy reaches ``TARGET``; test the stopped model once.
    Preparing the data (the tensors, or the ``DataLoader``'s dataset) is counted in the first epoch."""
    began = time.perf_counter()
    if step.tensors:
        train, validation = data.validation_split(data.load_tensors(DATASET, "train"))
    else:
        train, validation = workflow.validation_loaders(DATASET, step.recipe.batch_size)
    setup = time.perf_counter() - began
    torch.manual_seed(seed)
    model = CNN().to(device)
    trained = torch.compile(model) if step.compiled else model
    optimizer = torch.optim.Adam(model.parameters(), lr=step.recipe.lr) if step.recipe is TEXTBOOK else None
    history = training.fit(trained, train, validation, step.recipe, optimizer=optimizer, device=device, seed=seed,
                           progress=False, verbose=False, stop_when=lambda h: h.val_acc[-1] >= TARGET)
    reached = history.val_acc[-1] >= TARGET
    return {
        "seconds": setup + sum(history.seconds) if reached else None,
        "epochs": history.epochs,
        "val_acc": history.val_acc[-1],
        "test_acc": evaluation.evaluate(model, test.to(device), device)[1],  # once, for the stopped model
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args(argv)
    device = hardware.pick_device()
    print(results.describe_hardware(device))
    test = data.load_tensors(DATASET, "test")
    measured = []
    for step in steps_for(device):
        seeds = {}
        for seed in args.seeds:
            seeds[str(seed)] = record = run(step, seed, device, test)
            seconds = (f"{record['seconds']:.1f} s" if record["seconds"]
                       else f"not within {training.epochs_in_words(record['epochs'])}")
            print(f"{step.name:<46} seed {seed}: {seconds}, validation {record['val_acc']:.4f}, "
                  f"test {record['test_acc']:.4f}", flush=True)
        measured.append({"step": step.name, "seeds": seeds})
        entry = {"hardware": results.describe_hardware(device), "date": datetime.date.today().isoformat(),
                 "target": TARGET, "steps": measured}
        save(entry)  # after every step: a run stopped at a time limit keeps the steps it finished
    print("\n" + results.speedrun_table({results.machine_class(): entry}))
    print(f"saved under {results.machine_class()!r} in {settings.display_path(results_path())}")
    return 0


def results_path():
    # smoke mode (COURSE_SMOKE=1) checks the script on little data: it must not overwrite the real results
    return settings.REPO_ROOT / "build" / "speedrun-smoke.json" if settings.SMOKE else RESULTS_FILE


def save(entry: dict) -> None:
    saved = results.read(results_path())
    saved[results.machine_class()] = entry
    results.write(results_path(), saved)


if __name__ == "__main__":
    raise SystemExit(main())
