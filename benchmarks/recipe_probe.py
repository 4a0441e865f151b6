"""Variants of the BN-CNN's recipe, 15 epochs, judged on the validation split: the probe behind the course's batch
size and its test-time flips and shifts (docs/results.md).

    python benchmarks/recipe_probe.py                             # every variant, seed 0 (about 20 minutes)
    python benchmarks/recipe_probe.py "batch 64, no dropout" --seeds 0 1 2
    python benchmarks/recipe_probe.py "batch 64" "batch 128, label smoothing 0.1" --dataset mnist --seeds 0 1 2

Prints the validation accuracy after every epoch, then the final network's with test-time views switched on:
one-pixel shifts (each image's logits averaged with those of the image moved one pixel up, down, left and right:
``CNN(test_time_shifts=True)``) and, where a mirrored image keeps its class (Fashion-MNIST), flips (averaged with
its mirror image's: ``CNN(test_time_flips=True)``). Over several seeds it also prints each view's gain on the same
weights, seed by seed paired. One seed is noise under about 0.2 points (``results_over_seeds.py`` measures the
spread).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import torch

from utils import data, evaluation, hardware, recipes, training
from utils.machinery import results
from utils.models import CNN

VARIANTS = {
    # name: (model factory, changes to the course recipe, augmentation settings or None to keep the course's)
    "batch 128": (CNN, {"batch_size": 128}, None),
    "batch 128, weight decay 0.05": (CNN, {"batch_size": 128, "weight_decay": 0.05}, None),
    "batch 128, shifts of 7 %": (CNN, {"batch_size": 128}, {"max_degrees": 0.0, "max_shift": 0.07, "hflip": True}),
    "batch 64": (CNN, {"batch_size": 64}, None),
    "batch 64, no dropout": (lambda: CNN(fc_dropout=0.0), {"batch_size": 64}, None),
    "batch 128, label smoothing 0.1": (CNN, {"batch_size": 128, "label_smoothing": 0.1}, None),
    "batch 64, label smoothing 0.1": (CNN, {"batch_size": 64, "label_smoothing": 0.1}, None),
    "batch 128, peak lr 2.5e-3": (CNN, {"batch_size": 128, "lr": 2.5e-3}, None),
    "batch 128, peak lr 1e-2": (CNN, {"batch_size": 128, "lr": 1e-2}, None),
    "batch 128, rotations 5°, shifts 5 %": (CNN, {"batch_size": 128}, {"max_degrees": 5.0, "max_shift": 0.05}),
    "batch 128, rotations 15°, shifts 15 %": (CNN, {"batch_size": 128}, {"max_degrees": 15.0, "max_shift": 0.15}),
}
VIEW_NAMES = {"flips": "flips", "shifts": "one-pixel shifts"}  # not to be read as the "shifts of 7 %" augmentation


def accuracy_with(model: CNN, validation: data.InMemoryData, view: str) -> float:
    """The same weights' validation accuracy with test-time ``view`` ("flips" or "shifts") switched on."""
    setattr(model, f"test_time_{view}", True)
    try:
        return evaluation.evaluate(model, validation, hardware.pick_device())[1]
    finally:
        setattr(model, f"test_time_{view}", False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    every = ", ".join(VARIANTS).replace("%", "%%")  # argparse formats help strings with %
    parser.add_argument("only", nargs="*", metavar="VARIANT", help=f"default: every one of {every}")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--dataset", choices=["fashion-mnist", "mnist"], default="fashion-mnist")
    args = parser.parse_args()
    unknown = [name for name in args.only if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant {unknown[0]!r}; choose from: {', '.join(VARIANTS)}")
    base, course_augment = recipes.course_recipe("cnn", args.dataset, args.epochs)
    augments = {}
    for name in args.only or VARIANTS:
        settings = VARIANTS[name][2]
        try:
            augments[name] = course_augment if settings is None else data.Augment(args.dataset, **settings)
        except ValueError as refusal:  # a mirroring variant on a dataset whose images change class when mirrored
            if args.only:
                parser.error(f"{name!r}: {refusal}")
    print(results.describe_hardware())
    train, validation = data.validation_split(data.load_tensors(args.dataset, "train"))
    mirror_keeps_class = data.get_spec(args.dataset).mirror_keeps_class
    for name, augment in augments.items():
        factory, changes, _ = VARIANTS[name]
        finals: list[float] = []
        with_view: dict[str, list[float]] = {"flips": [], "shifts": []} if mirror_keeps_class else {"shifts": []}
        for seed in args.seeds:
            torch.manual_seed(seed)
            began = time.perf_counter()
            model = factory()
            recipe = dataclasses.replace(base, **changes)
            history = training.fit(
                model, train, validation, recipe, augment=augment, seed=seed, progress=False, verbose=False
            )
            finals.append(history.val_acc[-1])
            curve = " ".join(f"{accuracy:.4f}" for accuracy in history.val_acc)
            for view in with_view:
                with_view[view].append(accuracy_with(model, validation, view))
            shown = "".join(f", with test-time {VIEW_NAMES[view]} {with_view[view][-1]:.4f}" for view in with_view)
            print(f"{name} (seed {seed}): {curve}{shown}  ({time.perf_counter() - began:.0f} s)", flush=True)
        if len(finals) > 1:
            print(f"{name}: {spread(finals)} over seeds {args.seeds}")
            for view, accuracies in with_view.items():
                gains = [accuracy - final for accuracy, final in zip(accuracies, finals)]
                gain = spread(gains, "+.4f")
                print(f"  test-time {VIEW_NAMES[view]}: {spread(accuracies)}, gain on the same weights {gain}")


def spread(values: list[float], style: str = ".4f") -> str:
    return f"{statistics.mean(values):{style}} ± {statistics.stdev(values):.4f}"


if __name__ == "__main__":
    main()
