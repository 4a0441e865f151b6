"""Opening any image a learner gives: any format PIL reads, any size, bit depth or transparency, as 8-bit grayscale,
with one ``ImageProblem`` line for a file that is missing, not an image, a device or pipe, or too large to decode."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from utils.guards.files import special_kind
from utils.guards.text import safe_text

MIN_SIDE = 28
"""A reduced image keeps at least this many pixels on its shorter side: an MNIST frame's."""
MAX_PIXELS = 40_000_000
"""Larger images are refused: decoding one takes gigabytes, and a digit needs a few thousand pixels."""
WORKING_SIZE = 1024
"""Large photos are reduced to this many pixels on their longer side before any other step (a long strip less, so
that its shorter side keeps at least 28 pixels)."""


class ImageProblem(ValueError):
    """An image that cannot be classified, with a message that says why."""


def load_image(path: str | Path) -> Image.Image:
    """Open an image file as 8-bit grayscale, with a clear error for missing, non-image or oversized files.

    The camera's orientation tag is applied, transparency is laid over a background that contrasts with the ink
    (drawing apps export a digit on a transparent background), 16- and 32-bit images are stretched to 8 bits
    rather than clipped, and large photos are reduced to ``WORKING_SIZE`` pixels on their longer side.
    """
    path, shown = Path(path), safe_text(path)
    kind = special_kind(path)
    if kind is not None:
        raise ImageProblem(f"{shown}: {kind}, not an image file")
    if not path.is_file():
        raise ImageProblem(f"{shown}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                _check_size(path, *image.size)
                image.draft("L", (WORKING_SIZE, WORKING_SIZE))  # JPEG: decode at a reduced size, in less memory
                return _grayscale(_reduced(ImageOps.exif_transpose(image)))
    except ImageProblem:
        raise
    except Image.DecompressionBombError:
        raise ImageProblem(f"{shown}: too large (over {MAX_PIXELS:,} pixels); scale it down first") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if isinstance(error, ValueError) and _OVERSIZED_METADATA in str(error).lower():
            raise ImageProblem(
                f"{shown}: refused, it carries oversized metadata (a text chunk over PIL's safety limit); "
                f"save the picture again without metadata"
            ) from None
        raise ImageProblem(f"{shown}: not an image file PIL can read ({type(error).__name__})") from None


_OVERSIZED_METADATA = "decompressed data too large"
"""What PIL says (capitalized differently by version) when a PNG's compressed text chunk would decompress past
``PngImagePlugin.MAX_TEXT_CHUNK``."""


def _check_size(path: Path, width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageProblem(
            f"{safe_text(path)}: {width}×{height} pixels is too large (the limit is {MAX_PIXELS:,}); "
            "scale it down first"
        )


def _reduced(image: Image.Image) -> Image.Image:
    """The image in a mode that can be resized, at most ``WORKING_SIZE`` on its longer side, before any float
    array is made from it (a 36-megapixel photo as float32 RGBA would take over half a gigabyte)."""
    if image.mode == "P" or "transparency" in image.info:
        image = image.convert("RGBA")
    elif image.mode.startswith("I;16"):
        image = image.convert("I")
    elif image.mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):
        image = image.convert("RGB")  # 1-bit, CMYK, YCbCr, ...
    width, height = image.size
    factor = min(max(width, height) / WORKING_SIZE, min(width, height) / MIN_SIDE)
    if factor > 1:  # never below 28 pixels across: a long strip reduced to 2 rows would blur its stroke away
        image.thumbnail((math.ceil(width / factor), math.ceil(height / factor)))
    return image


def _grayscale(image: Image.Image) -> Image.Image:
    """8-bit grayscale, with high bit depths stretched and transparency composited (see ``load_image``)."""
    if "A" in image.getbands():
        alpha = np.asarray(image.getchannel("A"), dtype=np.float32) / 255
        gray = np.asarray(image.convert("RGB").convert("L"), dtype=np.float32) / 255
        if alpha.min() < 1 and alpha.max() > 0:
            ink_is_dark = (gray * alpha).sum() / alpha.sum() < 0.5
            gray = gray * alpha + (1.0 if ink_is_dark else 0.0) * (1 - alpha)
        return Image.fromarray(np.round(gray * 255).astype(np.uint8), "L")
    if image.mode in ("I", "F"):  # 16- and 32-bit: their range varies (12-bit sensors, floats in [0, 1], ...)
        pixels = np.asarray(image, dtype=np.float64)
        low, high = pixels.min(initial=0), pixels.max(initial=0)
        scaled = (pixels - low) / (high - low) if high > low else np.zeros_like(pixels)
        return Image.fromarray(np.round(scaled * 255).astype(np.uint8), "L")
    return image.convert("L")
