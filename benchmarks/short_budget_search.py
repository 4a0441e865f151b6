"""How the course trains for a short time budget: the BN-CNN recipe's schedule and augmentation for reaching
91 % on Fashion-MNIST soonest, chosen on a validation split (10,000 training images held out), never on the
test set. `time_to_accuracy.py` then measures the choice against the reference recipe, on the test set, once.

    python benchmarks/short_budget_search.py              # every candidate, seeds 0, 1 and 2
    python benchmarks/short_budget_search.py --seeds 0 1 --only "2 epochs, flips"

The one-cycle schedule anneals the learning rate over the epochs it is given: over two epochs the model
settles by the end of the second. Mirroring pays off over long runs (notebook 03) but slows the first epochs.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics

import torch

from utils import data, recipes, training
from utils.machinery import results
from utils.models import CNN

DATASET = "fashion-mnist"
TARGET = 0.91
FLIP = data.Augment(DATASET, max_degrees=0.0, max_shift=0.0, hflip=True)
CHOSEN = "2 epochs, no augmentation, batch 64, lr 3e-3"  # recipes.short_budget_recipe()
CANDIDATES = {
    # name: (changes to the course recipe, augmentation)
    "10 epochs, flips (the full recipe)": ({"epochs": 10}, FLIP),
    "3 epochs, flips": ({"epochs": 3}, FLIP),
    "3 epochs, no augmentation": ({"epochs": 3}, None),
    "2 epochs, flips": ({"epochs": 2}, FLIP),
    "2 epochs, no augmentation": ({"epochs": 2}, None),
    "2 epochs, no augmentation, batch 256, lr 1e-2": ({"epochs": 2, "batch_size": 256, "lr": 1e-2}, None),
    "2 epochs, no augmentation, batch 64, lr 3e-3": ({"epochs": 2, "batch_size": 64, "lr": 3e-3}, None),
    "2 epochs, no augmentation, lr 8e-3": ({"epochs": 2, "lr": 8e-3}, None),
    "2 epochs, no augmentation, no label smoothing": ({"epochs": 2, "label_smoothing": 0.0}, None),
    "1 epoch, no augmentation, batch 64, lr 3e-3": ({"epochs": 1, "batch_size": 64, "lr": 3e-3}, None),
    "1 epoch, no augmentation, batch 64, lr 5e-3": ({"epochs": 1, "batch_size": 64, "lr": 5e-3}, None),
    "1 epoch, no augmentation, batch 32, lr 2e-3": ({"epochs": 1, "batch_size": 32, "lr": 2e-3}, None),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", choices=list(CANDIDATES), metavar="NAME", help="default: every candidate")
    args = parser.parse_args()
    print(results.describe_hardware())
    train, validation = data.validation_split(data.load_tensors(DATASET, "train"))
    base = dataclasses.replace(recipes.course_recipe("cnn", DATASET)[0], batch_size=128)  # as the names say
    print(f"train on {len(train):,} images, judge on {len(validation):,} held-out training images\n")
    print(f"{'candidate':<48} {'val acc per epoch (one line per seed)':<40} {'epochs to 91%':>14}")
    for name in args.only or CANDIDATES:
        changes, augment = CANDIDATES[name]
        recipe = dataclasses.replace(base, **changes)
        reached, throughput = [], []
        for seed in args.seeds:
            torch.manual_seed(seed)
            history = training.fit(
                CNN(),
                train,
                validation,
                recipe,
                augment=augment,
                seed=seed,
                progress=False,
                verbose=False,
                stop_when=lambda h, planned=recipe.epochs: h.val_acc[-1] >= TARGET and h.epochs >= min(2, planned),
            )
            hit = next((epoch for epoch, acc in enumerate(history.val_acc, 1) if acc >= TARGET), None)
            reached.append(hit)
            throughput.append(len(train) / statistics.median(history.seconds))
            accuracies = " ".join(f"{acc:.4f}" for acc in history.val_acc)
            print(f"{name if seed == args.seeds[0] else '':<48} {accuracies:<40} {hit or 'not reached':>14}")
        print(f"{'':<48} {statistics.median(throughput):,.0f} images/s (median over seeds)")


if __name__ == "__main__":
    main()
