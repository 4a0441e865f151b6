"""Four variants of the BN-CNN recipe for Fashion-MNIST, 15 epochs, one seed each, judged on the validation split:
the probe behind the course's batch 64 (README, "Results").

    python benchmarks/recipe_probe.py                  # all four (about 10 minutes with native bf16)
    python benchmarks/recipe_probe.py "batch 64"

Prints the validation accuracy after every epoch. One seed each: a difference under about 0.2 points is noise
(``results_over_seeds.py`` measures the spread).
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import torch

from utils import data, training
from utils.models import CNN

DATASET = "fashion-mnist"
FLIP = data.make_augment(DATASET, max_degrees=0.0, max_shift=0.0, hflip=True)
SHIFT = data.make_augment(DATASET, max_degrees=0.0, max_shift=0.07, hflip=True)
VARIANTS = {
    # name: (changes to the batch-128 recipe, augmentation)
    "batch 128": ({"batch_size": 128}, FLIP),
    "batch 128, weight decay 0.05": ({"batch_size": 128, "weight_decay": 0.05}, FLIP),
    "batch 128, shifts of 7 %": ({"batch_size": 128}, SHIFT),
    "batch 64": ({"batch_size": 64}, FLIP),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", metavar="VARIANT", help=f"default: every one of {', '.join(VARIANTS)}")
    args = parser.parse_args()
    unknown = [name for name in args.only if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant {unknown[0]!r}; choose from: {', '.join(VARIANTS)}")
    print(training.describe_hardware())
    train, validation = data.validation_split(data.load_tensors(DATASET, "train"))
    base, _ = training.course_recipe("cnn", DATASET, 15)
    for name in args.only or VARIANTS:
        changes, augment = VARIANTS[name]
        torch.manual_seed(0)
        began = time.perf_counter()
        recipe = dataclasses.replace(base, **changes)
        history = training.fit(CNN(), train, validation, recipe, augment=augment, progress=False, verbose=False)
        curve = " ".join(f"{accuracy:.4f}" for accuracy in history.val_acc)
        print(f"{name:<30} {curve}  ({time.perf_counter() - began:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
