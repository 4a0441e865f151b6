"""How the course's BN-CNN recipe for Fashion-MNIST was chosen: train each candidate, print a table.

    python benchmarks/recipe_search.py                  # every candidate, 15 epochs each (~4 min each on 2 cores)
    python benchmarks/recipe_search.py --only G --epochs 10

All candidates use AdamW + OneCycle, batch 128 unless said, tensors in memory, channels_last and bf16
autocast where native. Run nothing else meanwhile: two PyTorch processes on two cores slow each other
down many times over.
"""

from __future__ import annotations

import argparse
import time

import torch

from utils import data, training
from utils.models import CNN

FLIP = data.make_augment("fashion-mnist", max_degrees=0.0, max_shift=0.0, hflip=True)
FLIP_AND_SHIFT = data.make_augment("fashion-mnist", max_degrees=0.0, max_shift=0.08, hflip=True)
CANDIDATES = {
    # name: (description, recipe overrides, augmentation, CNN dropout (conv, fc))
    "A": ("no augmentation, reference dropout", {}, None, (0.25, 0.5)),
    "B": ("flip + shift 8 %", {}, FLIP_AND_SHIFT, (0.25, 0.5)),
    "F": ("flip", {}, FLIP, (0.25, 0.5)),
    "G": ("flip, dropout 0.1/0.3", {}, FLIP, (0.1, 0.3)),
    "H": ("no augmentation, dropout 0.1/0.3, weight decay 0.05", {"weight_decay": 0.05}, None, (0.1, 0.3)),
    "I": ("flip, dropout 0.1/0.3, batch 64, lr 2e-3", {"batch_size": 64, "lr": 2e-3}, FLIP, (0.1, 0.3)),
    "J": ("flip, dropout 0/0.2, lr 5e-3 (the course's)", {"lr": 5e-3}, FLIP, (0.0, 0.2)),
    "K": ("flip, dropout 0.1/0.3, weight decay 0.05", {"weight_decay": 0.05}, FLIP, (0.1, 0.3)),
    "L": ("flip, dropout 0/0.2, lr 5e-3, weight decay 0.05", {"lr": 5e-3, "weight_decay": 0.05}, FLIP, (0.0, 0.2)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--only", nargs="*", choices=list(CANDIDATES), help="default: all")
    args = parser.parse_args()
    train = data.load_tensors("fashion-mnist", "train", limit=None)
    test = data.load_tensors("fashion-mnist", "test", limit=None)
    rows = []
    for name in args.only or CANDIDATES:
        description, overrides, augment, (conv_dropout, fc_dropout) = CANDIDATES[name]
        recipe = training.Recipe(epochs=args.epochs, label_smoothing=0.1, **overrides)
        print(f"== {name}: {description}")
        torch.manual_seed(0)
        model = CNN(conv_dropout=conv_dropout, fc_dropout=fc_dropout)
        began = time.perf_counter()
        history = training.fit(
            model,
            train,
            test,
            recipe,
            augment=augment,
            progress=False,
        )
        rows.append(
            (
                name,
                description,
                history.test_acc[9] if history.epochs >= 10 else float("nan"),
                history.test_acc[-1],
                time.perf_counter() - began,
            )
        )
    print(f"\n{'':2} {'candidate':<52} {'acc @10':>8} {f'acc @{args.epochs}':>8} {'seconds':>8}")
    for name, description, at_ten, final, seconds in rows:
        print(f"{name:2} {description:<52} {at_ten:>8.4f} {final:>8.4f} {seconds:>8.0f}")


if __name__ == "__main__":
    main()
