import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from utils import checkpoints, data, models, predict
from utils.datasets import DATASETS
from utils.guards import image_files
from utils.machinery import predict_command

SPEC = DATASETS["mnist"]
CENTRE = (13.5, 13.5)


@pytest.fixture
def mnist_digit():
    """A real MNIST test digit as uint8 28x28, light ink on black (centred by its authors)."""
    return data.load_dataset("mnist", "test").data[0].numpy()


@pytest.fixture
def checkpoint_path(tmp_path):
    return checkpoints.save_checkpoint(
        tmp_path / "mlp.pt",
        models.MLP(hidden=[16]),
        dataset="mnist",
        history={"train_loss": [1.0], "val_acc": [0.1]},
        is_sample=False,
    )


def _similarity(a, b):
    """Best pixel correlation allowing a shift of up to one pixel (centring rounds to whole pixels)."""
    return max(
        np.corrcoef(np.roll(a, (dy, dx), axis=(0, 1)).ravel(), np.asarray(b, dtype=np.float32).ravel())[0, 1]
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )


def _prepare(pixels):
    return predict.prepare(Image.fromarray(pixels), mean=SPEC.mean, std=SPEC.std)


def test_a_centred_digit_stays_centred(mnist_digit):
    tensor, steps = _prepare(255 - mnist_digit)  # as a learner would draw it: dark on light
    result = steps["centred in 28×28"]
    assert tensor.shape == (1, 1, 28, 28)
    assert np.allclose(predict.centre_of_mass(result), CENTRE, atol=1.0)
    assert np.allclose(predict.centre_of_mass(result), predict.centre_of_mass(mnist_digit / 255), atol=1.0)
    assert _similarity(result, mnist_digit) > 0.9


def test_an_off_centre_large_digit_is_cropped_scaled_and_centred(mnist_digit):
    big = np.asarray(Image.fromarray(mnist_digit).resize((112, 112), Image.Resampling.BICUBIC))
    canvas = np.full((300, 240), 230, dtype=np.uint8)
    canvas[10:122, 120:232] = 230 - (big.astype(np.int32) * 200 // 255)  # dark ink in the top-right corner
    _, steps = _prepare(canvas)
    result = steps["centred in 28×28"]
    assert max(steps["fitted in 20×20"].shape) == 20
    assert np.allclose(predict.centre_of_mass(result), CENTRE, atol=1.0)
    _, reference = _prepare(255 - mnist_digit)
    assert _similarity(result, reference["centred in 28×28"]) > 0.8


def test_light_ink_on_black_is_not_inverted(mnist_digit):
    _, steps = _prepare(mnist_digit)
    assert np.corrcoef(steps["ink bright on black"].ravel(), mnist_digit.ravel())[0, 1] > 0.95


@pytest.mark.parametrize("colour", [255, 0, 128])
def test_an_image_without_ink_is_refused(colour):
    with pytest.raises(predict.ImageProblem, match="no ink found"):
        _prepare(np.full((50, 50), colour, dtype=np.uint8))


def test_cli_predicts_the_good_images_and_names_each_bad_one(tmp_path, checkpoint_path, mnist_digit, capsys):
    good = tmp_path / "good.png"
    Image.fromarray(255 - mnist_digit).save(good)
    blank = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(blank)
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    missing = tmp_path / "missing.png"
    status = predict_command.main(
        [str(missing), str(text), str(blank), str(good), "--checkpoint", str(checkpoint_path), "--top", "3"]
    )
    out, err = capsys.readouterr()
    assert status == 1
    errors = err.strip().splitlines()
    assert len(errors) == 3
    assert f"{missing}: no such file" in errors[0]
    assert f"{text}: not an image file" in errors[1]
    assert f"{blank}: no ink found" in errors[2]
    line = out.strip()
    assert line.startswith(f"{good}: ") and line.count("%") == 3  # best + two more with --top 3


def test_cli_with_a_bad_checkpoint_says_so(tmp_path, mnist_digit, capsys):
    good = tmp_path / "good.png"
    Image.fromarray(mnist_digit).save(good)
    assert predict_command.main([str(good), "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "no such checkpoint" in capsys.readouterr().err


def test_shipped_images_are_all_readable():
    shipped = sorted((predict.Path(__file__).parent.parent / "notebooks" / "images").glob("digit_*.png"))
    assert len(shipped) >= 5
    for path in shipped:
        tensor, _ = predict.prepare(predict.load_image(path), mean=SPEC.mean, std=SPEC.std)
        assert tensor.shape == (1, 1, 28, 28)


def _tensor(path):
    return predict.prepare(predict.load_image(path), mean=SPEC.mean, std=SPEC.std)[0]


@pytest.fixture
def dark_on_light(tmp_path, mnist_digit):
    """The reference: a digit drawn dark on light, as an 8-bit PNG."""
    path = tmp_path / "digit-8bit.png"
    Image.fromarray(255 - mnist_digit).save(path)
    return path


@pytest.mark.parametrize("bits", [16, 32])
def test_high_bit_depth_images_are_scaled_not_clipped(tmp_path, mnist_digit, dark_on_light, bits):
    """convert("L") clipped every value above 255 to white: a clear digit became "1 (29.9 %)"."""
    full_scale, dtype = (65535, np.uint16) if bits == 16 else (2**31 - 1, np.int32)
    pixels = np.round((255 - mnist_digit.astype(np.float64)) / 255 * full_scale).astype(dtype)
    path = tmp_path / f"digit-{bits}bit.{'png' if bits == 16 else 'tif'}"
    Image.fromarray(pixels).save(path)
    assert Image.open(path).mode in ("I;16", "I")
    assert torch.allclose(_tensor(path), _tensor(dark_on_light), atol=0.05)


@pytest.mark.parametrize("ink", ["black", "white"])
def test_a_digit_on_a_transparent_background_is_found(tmp_path, mnist_digit, dark_on_light, ink):
    """Drawing apps export ink on transparency, whose hidden colour is often black: "no ink found" before."""
    rgba = np.zeros((28, 28, 4), dtype=np.uint8)
    rgba[..., :3] = 0 if ink == "black" else 255
    rgba[..., 3] = mnist_digit  # opaque where the ink is
    if ink == "white":
        rgba[mnist_digit == 0, :3] = 0  # transparent pixels hide black
    path = tmp_path / f"{ink}-on-transparent.png"
    Image.fromarray(rgba, "RGBA").save(path)
    assert torch.allclose(_tensor(path), _tensor(dark_on_light), atol=0.05)


def _png_header_only(path, width, height):
    """A PNG whose header claims width × height: enough for PIL to read the size, tiny on disk."""

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)))
    return path


@pytest.mark.parametrize("side", [20000, 8000])
def test_oversized_images_are_refused_and_the_rest_still_run(tmp_path, checkpoint_path, dark_on_light, capsys, side):
    huge = _png_header_only(tmp_path / f"huge-{side}.png", side, side)
    status = predict_command.main([str(huge), str(dark_on_light), "--checkpoint", str(checkpoint_path)])
    out, err = capsys.readouterr()
    assert status == 1
    assert err.count("\n") == 1 and "too large" in err and "scale it down" in err and "Traceback" not in err
    assert out.startswith(f"{dark_on_light}: ")


def test_a_large_photo_is_reduced_before_preparing(tmp_path, mnist_digit, dark_on_light):
    big = Image.fromarray(255 - mnist_digit).resize((3000, 3000), Image.Resampling.BICUBIC)
    big.save(tmp_path / "photo.png")
    image = predict.load_image(tmp_path / "photo.png")
    assert max(image.size) == image_files.WORKING_SIZE
    assert (
        _similarity(
            predict.prepare(image, mean=SPEC.mean, std=SPEC.std)[1]["centred in 28×28"],
            predict.prepare(predict.load_image(dark_on_light), mean=SPEC.mean, std=SPEC.std)[1]["centred in 28×28"],
        )
        > 0.9
    )


def test_cli_with_an_edited_checkpoint_is_one_line(tmp_path, checkpoint_path, dark_on_light, capsys):
    payload = torch.load(checkpoint_path, weights_only=True)
    payload["dataset"]["std"] = 0.0
    torch.save(payload, checkpoint_path)
    assert predict_command.main([str(dark_on_light), "--checkpoint", str(checkpoint_path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "normalization std is 0.0" in err


def test_the_camera_orientation_tag_is_applied(tmp_path, mnist_digit, dark_on_light):
    """Phones store a photo as the sensor saw it, plus a tag saying how to turn it: a 6 stored upside down
    with tag 3 (rotate 180°) used to be read as a 9."""
    stored = Image.fromarray(255 - mnist_digit).rotate(180)
    exif = Image.Exif()
    exif[0x0112] = 3
    stored.save(tmp_path / "phone.png", exif=exif)
    assert torch.allclose(_tensor(tmp_path / "phone.png"), _tensor(dark_on_light), atol=0.05)


def test_twelve_bit_data_in_a_sixteen_bit_file_is_stretched(tmp_path, mnist_digit, dark_on_light):
    pixels = np.round((255 - mnist_digit.astype(np.float64)) / 255 * 4095).astype(np.uint16)
    Image.fromarray(pixels).save(tmp_path / "twelve-bit.png")
    assert torch.allclose(_tensor(tmp_path / "twelve-bit.png"), _tensor(dark_on_light), atol=0.05)


def test_a_folder_is_named_as_a_folder(tmp_path):
    with pytest.raises(predict.ImageProblem, match="a folder, not an image file"):
        predict.load_image(tmp_path)
