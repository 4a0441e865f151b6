"""The drawing pad without a browser: strokes drawn in Python take the pixels-to-prediction path of
``predict.predict_image``, and the widget's callbacks run in the kernel as the front end would trigger them.
tests/test_drawing_pad_browser.py draws in a real JupyterLab."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from utils import checkpoints, models, predict

pytest.importorskip("anywidget")  # the widget library: absent where only PyTorch is (the GPU check's machine)
from utils.machinery.drawing_pad import NO_PAD, DrawingPad  # noqa: E402

SIZE = 280  # the canvas, in pixels


def strokes(*lines: tuple[tuple[int, int], ...], width: int = 22) -> Image.Image:
    """Black strokes on a white canvas, as the pad draws them."""
    image = Image.new("RGBA", (SIZE, SIZE), "white")
    pen = ImageDraw.Draw(image)
    for points in lines:
        pen.line(points, fill="black", width=width, joint="curve")
    return image


SEVEN = (((70, 60), (210, 60), (120, 230)),)
ONE = (((150, 40), (150, 240)),)


def data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def upload(pad: DrawingPad, name: str, content: bytes) -> None:
    """What the browser sends when a file is chosen, through ipywidgets' own deserializer."""
    js = {"name": name, "type": "image/png", "size": len(content), "content": content, "last_modified": 0}
    pad.upload.set_state({"value": [js]})


@pytest.fixture
def digit_checkpoint(tmp_path):
    torch.manual_seed(0)
    path = checkpoints.save_checkpoint(
        tmp_path / "cnn.pt", models.CNN(), dataset="mnist", history={"val_acc": [0.1]}, is_sample=False
    )
    return checkpoints.load_checkpoint(path)


def test_a_drawn_stroke_is_prepared_the_way_mnist_was_made(digit_checkpoint):
    ranked, steps = predict.predict_image(strokes(*ONE), digit_checkpoint, k=3)
    seen = steps["centred in 28×28"]
    rows, cols = np.nonzero(seen > 0.2)
    assert seen.shape == (28, 28) and rows.max() - rows.min() + 1 == 20  # fitted in 20×20, as MNIST's digits
    assert all(abs(centre - 13.5) <= 1 for centre in predict.centre_of_mass(seen))  # centred by its mass
    assert seen[0].max() == 0 and seen[:, 0].max() == 0  # light ink on black, like MNIST
    assert len(ranked) == 3 and {name for name, _ in ranked} <= set(digit_checkpoint.classes)
    assert sum(probability for _, probability in ranked) <= 1 + 1e-6


def test_the_same_stroke_anywhere_on_the_pad_is_seen_alike(digit_checkpoint):
    """Where on the canvas and how large a digit is drawn does not matter: cropping and centring undo both."""
    moved = tuple(tuple((x - 60, y - 30) for x, y in line) for line in SEVEN)
    first = predict.predict_image(strokes(*SEVEN), digit_checkpoint)[1]["centred in 28×28"]
    second = predict.predict_image(strokes(*moved), digit_checkpoint)[1]["centred in 28×28"]
    assert np.abs(first - second).max() < 1e-6


def test_a_stroke_shows_what_the_model_sees_and_its_top_answers(digit_checkpoint):
    pad = DrawingPad(digit_checkpoint)
    expected = predict.predict_image(strokes(*SEVEN), digit_checkpoint)[0]
    pad.canvas.drawing = data_url(strokes(*SEVEN))  # what the front end sends after a stroke
    assert bytes(pad.seen.value).startswith(b"\x89PNG")
    assert f'class="course-top" style="font-size:2.5em">{expected[0][0]}<' in pad.answer.value
    assert pad.answer.value.count("%</span>") == 3
    pad.canvas.drawing = ""  # "clear"
    assert bytes(pad.seen.value) == b"" and "Draw a digit in the box." in pad.answer.value


def test_the_line_about_a_missing_pad_goes_once_the_pad_is_on_screen(digit_checkpoint):
    pad = DrawingPad(digit_checkpoint)
    assert NO_PAD in pad.hint.value and pad.hint.layout.display != "none"
    pad.canvas.rendered = True  # what the front end says once it has drawn the canvas
    assert pad.hint.layout.display == "none"


def test_an_uploaded_image_takes_the_same_path(digit_checkpoint):
    pad = DrawingPad(digit_checkpoint)
    buffer = io.BytesIO()
    strokes(*SEVEN).save(buffer, "PNG")
    upload(pad, "my_seven.png", buffer.getvalue())
    expected = predict.predict_image(strokes(*SEVEN), digit_checkpoint)[0]
    assert f">{expected[0][0]}</div>" in pad.answer.value


@pytest.mark.parametrize(
    "content, said",
    [
        (b"this is not a picture", "not an image file PIL can read"),
        (None, "no ink found"),
        ("data:image/png;base64,bm90IGEgcG5n", "not a picture: press clear"),
    ],
)
def test_a_bad_upload_or_an_empty_drawing_is_one_line_and_no_traceback(digit_checkpoint, content, said):
    pad = DrawingPad(digit_checkpoint)
    if content is None:
        pad.canvas.drawing = data_url(strokes())  # a stroke of nothing: a tap outside, or a blank canvas
    elif isinstance(content, str):
        pad.canvas.drawing = content  # a data URL that is no PNG: nothing the pad's script sends, yet one line
    else:
        upload(pad, "notes.png", content)
    assert said in pad.answer.value and "course-top" not in pad.answer.value
    if isinstance(content, bytes):
        assert "notes.png" in pad.answer.value and "/tmp" not in pad.answer.value
