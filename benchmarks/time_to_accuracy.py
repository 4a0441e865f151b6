"""Time to accuracy: the reference recipe against the course's short-budget recipe, BN-CNN on Fashion-MNIST.

    python benchmarks/time_to_accuracy.py           # 50,000 training images, target 91 % validation accuracy
    python benchmarks/time_to_accuracy.py --quick   # 12,000 training images, target 85 %, at most 4 epochs

    # a laptop without native bfloat16, measured on a machine with AVX-512:
    COURSE_PRECISION=float32 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/time_to_accuracy.py

(a) reference: torchvision Dataset + ToTensor/Normalize + DataLoader (batch 64), Adam lr 1e-3, float32;
(b) course: tensors in memory, ``recipes.short_budget_recipe()`` (AdamW with a one-cycle schedule over 2 epochs,
    batch 64, label smoothing, channels_last, bf16 autocast where the hardware runs it natively).

Both train on the same 50,000 images with the same loop (``training.fit``) and stop once the validation accuracy
(10,000 held-out training images) reaches the target; each final model is then measured once on the test set.
Times are training seconds (evaluation excluded), cumulative; the course's one-time conversion of the dataset to
tensors is counted in its first epoch. A full run adds its result, under the CPU class it ran on, to
``benchmarks/results/time_to_accuracy.json``, which the results page (docs/results.md) and notebook 06 quote.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import statistics
import time

import torch

from utils import data, evaluation, hardware, recipes, training
from utils.guards import settings
from utils.machinery import results, workflow
from utils.models import CNN

DATASET = "fashion-mnist"
RESULTS_FILE = settings.REPO_ROOT / "benchmarks" / "results" / "time_to_accuracy.json"


def time_to_target(history: training.History, target: float) -> float | None:
    """Training seconds until the evaluated accuracy first reached ``target`` (None if it never did)."""
    elapsed = 0.0
    for seconds, accuracy in zip(history.seconds, history.val_acc):
        elapsed += seconds
        if accuracy >= target:
            return elapsed
    return None


def splits(limit):
    everything = data.load_tensors(DATASET, "train", limit=limit)
    train, validation = data.validation_split(everything)
    return everything, train, validation


def run_reference(args, limit) -> tuple[training.History, CNN]:
    began = time.perf_counter()
    loader, val_loader = workflow.validation_loaders(DATASET, batch_size=64, limit=limit)
    setup = time.perf_counter() - began
    recipe = training.Recipe(
        epochs=args.max_epochs,
        batch_size=64,
        lr=1e-3,
        weight_decay=0.0,
        schedule="constant",
        mixed_precision=False,
        channels_last=False,
    )
    torch.manual_seed(args.seed)
    model = CNN()
    history = training.fit(
        model,
        loader,
        val_loader,
        recipe,
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
        seed=args.seed,
        progress=False,
        stop_when=lambda h: h.val_acc[-1] >= args.target,
    )
    history.seconds[0] += setup
    return history, model


def run_course(args, limit) -> tuple[training.History, CNN]:
    began = time.perf_counter()
    _, train, validation = splits(limit)
    setup = time.perf_counter() - began
    recipe = recipes.short_budget_recipe()
    if args.quick:
        recipe = dataclasses.replace(recipe, epochs=args.max_epochs)
    torch.manual_seed(args.seed)
    model = CNN()
    reached = lambda h: h.val_acc[-1] >= args.target  # noqa: E731
    history = training.fit(model, train, validation, recipe, seed=args.seed, progress=False, stop_when=reached)
    history.seconds[0] += setup
    return history, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="12,000 training images, target 85 %%, 4 epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    limit = 12_000 if args.quick else None
    args.target = 0.85 if args.quick else 0.91
    args.max_epochs = 4 if args.quick else 15

    print(results.describe_hardware())
    print(f"== (a) reference recipe: DataLoader batch 64, Adam 1e-3, float32 (at most {args.max_epochs} epochs)")
    reference = run_reference(args, limit)
    print("== (b) course recipe for a short budget: tensors in memory, 2-epoch one-cycle, batch 64, channels_last")
    course = run_course(args, limit)
    images = len(splits(limit)[1])
    test = data.load_tensors(DATASET, "test", limit=2_000 if args.quick else None)

    print(f"\n{'epoch':>5} | {'reference s':>11} {'val acc':>7} | {'course s':>9} {'val acc':>7}   (cumulative s)")
    for epoch in range(max(reference[0].epochs, course[0].epochs)):
        cells = []
        for history, _ in (reference, course):
            if epoch < history.epochs:
                cells.append(f"{sum(history.seconds[: epoch + 1]):>9.1f} {history.val_acc[epoch]:>7.4f}")
            else:
                cells.append(f"{'':>9} {'':>7}")
        print(f"{epoch + 1:>5} | {cells[0]:>19} | {cells[1]:>17}")

    summary = {}
    device = hardware.pick_device()
    for name, (history, model) in {"reference": reference, "course": course}.items():
        reached = time_to_target(history, args.target)
        _, test_acc = evaluation.evaluate(model, test.to(device), device)
        summary[name] = {
            "images_per_s": images / statistics.median(history.seconds),
            "epochs": history.epochs,
            "seconds_to_target": reached,
            "test_acc": test_acc,
        }
        print(
            f"{name:<9}: {summary[name]['images_per_s']:,.0f} images/s (median epoch); time to {args.target:.0%} "
            + (f"{reached:.1f} s" if reached else "not reached")
            + f"; final model's test accuracy {test_acc:.4f} (measured once)"
        )
    label = f"speed-up to {args.target:.0%} validation accuracy"
    if summary["reference"]["seconds_to_target"] and summary["course"]["seconds_to_target"]:
        speedup = summary["reference"]["seconds_to_target"] / summary["course"]["seconds_to_target"]
        print(f"{label}: {speedup:.2f}x")
    else:
        speedup = None
        print(f"{label}: not computable: a recipe did not reach {args.target:.0%} within {args.max_epochs} epochs")
    if not args.quick and not settings.SMOKE:
        saved = results.read(RESULTS_FILE)
        saved[results.cpu_class()] = {
            "hardware": results.describe_hardware(),
            "date": datetime.date.today().isoformat(),
            "target": args.target,
            "speedup": speedup,
            **summary,
        }
        results.write(RESULTS_FILE, saved)
        print(f"saved under {results.cpu_class()!r} in {settings.display_path(RESULTS_FILE)}")


if __name__ == "__main__":
    main()
