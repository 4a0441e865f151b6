"""Train a course model from the command line, with the same code the notebooks call.

    python -m utils.train --model cnn --dataset fashion-mnist --epochs 15 --save checkpoints/cnn-fashion-mnist.pt

Trains on 50,000 training images and prints the validation accuracy (10,000 held-out training images) after
each epoch; ends with ``final model: validation accuracy 0.xxxx, test accuracy 0.xxxx``, the test set measured
once. Interrupted (Ctrl-C, or ``kill``/``timeout``'s SIGTERM), it
leaves the file at ``--save`` as it was, keeps the finished epochs in ``NAME.interrupted.pt`` and exits with status
130 (143 for SIGTERM).

Data-parallel, in N processes (``utils/machinery/distributed.py``)::

    torchrun --nproc_per_node=2 -m utils.train --model cnn --dataset fashion-mnist
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from utils.datasets import DATASETS
from utils.guards import settings
from utils.guards.checkpoint_files import CheckpointError, check_writable
from utils.hardware import pick_device
from utils.machinery import distributed, signals
from utils.machinery.sources import DataError
from utils.machinery.workflow import train_model
from utils.models import MODELS
from utils.recipes import course_recipe

MAX_EPOCHS = 1000


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``, checked before anything runs."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=list(MODELS), required=True)
    parser.add_argument("--dataset", choices=list(DATASETS), required=True)
    parser.add_argument("--epochs", type=whole_number(1, MAX_EPOCHS), help="default: the course recipe's (10)")
    parser.add_argument("--seed", type=whole_number(0, 2**32 - 1), default=0)
    parser.add_argument("--save", help="write a checkpoint here (state dict + metadata)")  # str: keeps a trailing /
    parser.add_argument(
        "--loader",
        choices=["tensors", "dataloader"],
        default="tensors",
        help="fast in-memory tensors (default) or the classic torchvision DataLoader",
    )
    parser.add_argument("--device", help="cuda, mps or cpu (default: the fastest available)")
    args = parser.parse_args(argv)
    try:  # everything that can be checked is checked before the data loads and the training starts
        pick_device(args.device)
        if args.save is not None:
            check_writable(args.save)
    except (ValueError, CheckpointError) as error:
        parser.error(f"{error}")
    try:
        batch_size = course_recipe(args.model, args.dataset)[0].batch_size  # what torchrun's processes share
        with signals.stop_like_ctrl_c(), distributed.team_of(args.device, batch_size) as team:
            train_model(
                args.model,
                args.dataset,
                epochs=args.epochs,
                seed=args.seed,
                loader=args.loader,
                device=args.device,
                save=args.save,
                progress=settings.PROGRESS and sys.stderr.isatty(),  # no bars in logs and pipes: epoch lines only
                team=team,
            )
    except distributed.TeamError as error:
        parser.error(f"{error}")
    except (DataError, CheckpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM / SIGHUP (see utils.machinery.signals)
        print(signals.describe(interrupt), file=sys.stderr)
        return signals.exit_code(interrupt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
