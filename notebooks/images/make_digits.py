"""Draw the handwritten-style digits that notebook 05 and ``utils.predict`` classify.

    python notebooks/images/make_digits.py

Strokes drawn with PIL, dark ink on a light, slightly uneven background, large and off-centre: unlike
MNIST's framing, so that the preprocessing (invert, crop, fit 20×20, centre by mass) has real work to do.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
INK, WIDTH = 40, 16

# Each digit: a list of strokes; a stroke is ("line", points) or ("arc", box, start, end) in a 100x140 cell.
DIGITS = {
    0: [("ellipse", (10, 10, 90, 130))],
    1: [("line", [(35, 35), (60, 10), (60, 130)])],
    2: [("arc", (12, 8, 88, 78), 180, 20), ("line", [(84, 52), (14, 130), (92, 130)])],
    3: [("arc", (15, 6, 85, 70), 200, 90), ("arc", (12, 62, 88, 134), 270, 160)],
    4: [("line", [(70, 130), (70, 10), (8, 95), (95, 95)])],
    7: [("line", [(8, 12), (92, 12), (40, 130)]), ("line", [(35, 72), (80, 72)])],
}
PLACEMENT = {0: (40, 30), 1: (120, 20), 2: (25, 50), 3: (90, 45), 4: (60, 15), 7: (20, 25)}


def draw_digit(digit: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    paper = 225 + rng.normal(0, 6, (220, 260)).clip(-20, 20)  # uneven, like a photo of paper
    image = Image.fromarray(paper.astype(np.uint8)).filter(ImageFilter.GaussianBlur(2))
    pen = ImageDraw.Draw(image)
    dx, dy = PLACEMENT[digit]
    for kind, *shape in DIGITS[digit]:
        if kind == "line":
            pen.line([(x + dx, y + dy) for x, y in shape[0]], fill=INK, width=WIDTH, joint="curve")
        elif kind == "ellipse":
            x0, y0, x1, y1 = shape[0]
            pen.ellipse((x0 + dx, y0 + dy, x1 + dx, y1 + dy), outline=INK, width=WIDTH)
        else:
            (x0, y0, x1, y1), start, end = shape
            pen.arc((x0 + dx, y0 + dy, x1 + dx, y1 + dy), start, end, fill=INK, width=WIDTH)
    return image.rotate(rng.uniform(-6, 6), fillcolor=225, resample=Image.Resampling.BICUBIC)


if __name__ == "__main__":
    for digit in DIGITS:
        draw_digit(digit, seed=digit).save(HERE / f"digit_{digit}.png")
        print(f"wrote digit_{digit}.png")
