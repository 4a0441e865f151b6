"""``python -m utils.predict``: the class of your own images, from the command line.

    python -m utils.predict notebooks/images/digit_3.png --checkpoint checkpoints/pretrained/cnn-mnist.pt --top 3

Each image goes through ``utils.predict.predict_file``, as in notebook 05; a file that cannot be read is one line on
stderr, and the others are still predicted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from utils.checkpoints import CheckpointError, load_checkpoint
from utils.guards.image_files import ImageProblem
from utils.guards.text import safe_text
from utils.predict import predict_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.predict", description="Predict the class of your images.")
    parser.add_argument("images", nargs="+", type=Path, help="PNG, JPEG, ... files")
    parser.add_argument("--checkpoint", type=Path, required=True, help="a checkpoint saved by the course")
    parser.add_argument("--top", type=int, default=1, help="also show the next most likely classes")
    args = parser.parse_args(argv)
    if args.top < 1:
        parser.error("--top must be at least 1")
    try:
        checkpoint = load_checkpoint(args.checkpoint)
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failed = 0
    for path in args.images:
        try:
            ranked = predict_file(path, checkpoint, args.top)
        except ImageProblem as problem:
            print(f"error: {problem}", file=sys.stderr)
            failed += 1
            continue
        best, probability = ranked[0]
        others = "".join(f", {name} {p:.1%}" for name, p in ranked[1:])
        print(f"{safe_text(path)}: {best} ({probability:.1%}{others})", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
