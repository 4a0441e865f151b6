"""Predict the class of your own images with a saved checkpoint.

    python -m utils.predict notebooks/images/digit_3.png --checkpoint checkpoints/pretrained/cnn-mnist.pt --top 3

Each image is prepared the way MNIST was made: grayscale, inverted if the background is light, cropped
to the ink, scaled to fit a 20×20 box (the whole 28×28 frame for Fashion-MNIST), centred by its centre of
mass in 28×28, then normalized like the training data.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from utils.checkpoints import Checkpoint
from utils.datasets import DATASETS
from utils.guards.image_files import ImageProblem, load_image  # opening any image file safely
from utils.guards.text import safe_text

FRAME = 28


# Printed by notebook 05 (inspect.getsource): after editing it, re-run that notebook in full mode.
def prepare(image: Image.Image, *, mean: float, std: float, box: int = 20) -> tuple[torch.Tensor, dict]:
    """Turn a photo or drawing into a normalized (1, 1, 28, 28) tensor; also return each step as a picture.

    ``box`` is the size the content is scaled to fit: 20 for MNIST (as its authors did), 28 for Fashion-MNIST.
    """
    steps: dict[str, np.ndarray] = {}
    pixels = np.asarray(image.convert("L"), dtype=np.float32) / 255
    steps["grayscale"] = pixels
    if np.median(_border(pixels)) > 0.5:  # light background: MNIST has light ink on black
        pixels = 1 - pixels
    background = np.median(_border(pixels))
    ink = np.clip(pixels - background, 0, None)
    if ink.max() < 0.15:
        raise ImageProblem("no ink found: the image is empty or all one colour (draw dark on light, or light on dark)")
    ink /= ink.max()
    steps["ink bright on black"] = ink
    rows, cols = np.nonzero(ink > 0.2)
    cropped = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    steps["cropped to the ink"] = cropped
    scale = box / max(cropped.shape)
    size = (max(1, round(cropped.shape[1] * scale)), max(1, round(cropped.shape[0] * scale)))
    fitted = (
        np.asarray(
            Image.fromarray((cropped * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS), dtype=np.float32
        )
        / 255
    )
    steps[f"fitted in {box}×{box}"] = fitted
    centred = _centre_by_mass(fitted)
    steps["centred in 28×28"] = centred
    tensor = (torch.from_numpy(centred) - mean) / std
    steps["normalized"] = tensor.numpy()
    return tensor.reshape(1, 1, FRAME, FRAME), steps


def _border(pixels: np.ndarray) -> np.ndarray:
    """The outermost rows and columns: what the background looks like. An image only one or two pixels across
    (a long strip, once reduced) is all border, so there the whole image stands for its background."""
    if min(pixels.shape) <= 2:
        return pixels.ravel()
    return np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])


def _centre_by_mass(content: np.ndarray) -> np.ndarray:
    """Place ``content`` in a 28×28 frame so that its centre of mass lands on the frame's centre."""
    height, width = content.shape
    centre_row, centre_col = centre_of_mass(content)
    top = int(np.clip(round(FRAME / 2 - 0.5 - centre_row), 0, FRAME - height))
    left = int(np.clip(round(FRAME / 2 - 0.5 - centre_col), 0, FRAME - width))
    frame = np.zeros((FRAME, FRAME), dtype=np.float32)
    frame[top : top + height, left : left + width] = content
    return frame


def centre_of_mass(pixels: np.ndarray) -> tuple[float, float]:
    """(row, column) of the centre of mass of the ink; negative values count as no ink."""
    rows, cols = np.indices(pixels.shape)
    weights = np.clip(pixels, 0, None)
    return float((rows * weights).sum() / weights.sum()), float((cols * weights).sum() / weights.sum())


@torch.inference_mode()
def top_k(checkpoint: Checkpoint, tensor: torch.Tensor, k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` most probable classes with their probabilities."""
    probabilities = checkpoint.model.eval()(tensor).softmax(1)[0]
    values, indices = probabilities.topk(min(k, len(checkpoint.classes)))
    return [(checkpoint.classes[i], float(p)) for p, i in zip(values, indices)]


def predict_image(image: Image.Image, checkpoint: Checkpoint, k: int = 3) -> tuple[list[tuple[str, float]], dict]:
    """The ``k`` most probable classes of a picture (a drawing, a photo), prepared the way the checkpoint's dataset
    was made (``prepare``), and each preparation step as a picture. The drawing pad calls it after each stroke."""
    box = DATASETS[checkpoint.dataset].drawing_box
    tensor, steps = prepare(image, mean=checkpoint.mean, std=checkpoint.std, box=box)
    return top_k(checkpoint, tensor, k), steps


def predict_file(path: str | Path, checkpoint: Checkpoint, k: int = 3) -> list[tuple[str, float]]:
    """``predict_image`` for an image file, opened safely; a problem is one line naming the file."""
    try:
        return predict_image(load_image(path), checkpoint, k)[0]
    except ImageProblem as problem:
        message, shown = str(problem), safe_text(path)
        raise ImageProblem(message if message.startswith(shown) else f"{shown}: {message}") from None


if __name__ == "__main__":  # `python -m utils.predict`: the command lives with the machinery
    from utils.machinery.predict_command import main

    sys.exit(main())
