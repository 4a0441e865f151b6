"""Train a course model from the command line, with the same code the notebooks call.

    python -m utils.train --model cnn --dataset fashion-mnist --epochs 15 --save checkpoints/cnn-fashion-mnist.pt

Prints one line per epoch and ends with ``test accuracy: 0.xxxx``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from utils import config
from utils.data import DATASETS, DataError
from utils.models import MODELS
from utils.training import train_model


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=list(MODELS), required=True)
    parser.add_argument("--dataset", choices=list(DATASETS), required=True)
    parser.add_argument("--epochs", type=positive_int, help="default: the course recipe's (10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", type=Path, help="write a checkpoint here (state dict + metadata)")
    parser.add_argument(
        "--loader",
        choices=["tensors", "dataloader"],
        default="tensors",
        help="fast in-memory tensors (default) or the classic torchvision DataLoader",
    )
    parser.add_argument("--device", help="cuda, mps or cpu (default: the fastest available)")
    args = parser.parse_args(argv)
    if args.save is not None and args.save.is_dir():
        parser.error(f"--save {args.save} is a folder; give a file name such as {args.save / 'model.pt'}")
    try:
        _, history = train_model(
            args.model,
            args.dataset,
            epochs=args.epochs,
            seed=args.seed,
            loader=args.loader,
            device=args.device,
            save=args.save,
            progress=config.PROGRESS and sys.stderr.isatty(),  # no bars in logs and pipes: epoch lines only
        )
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not history.test_acc:
        print("error: interrupted before the first epoch finished", file=sys.stderr)
        return 1
    print(f"test accuracy: {history.test_acc[-1]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
