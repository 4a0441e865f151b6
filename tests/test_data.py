import subprocess
import sys

import pytest
import torch
from torch.utils.data import DataLoader

from utils import data
from utils.datasets import DATASETS
from utils.guards import settings
from utils.machinery import sources

MNIST = DATASETS["mnist"]
FASHION = DATASETS["fashion-mnist"]


def test_unknown_dataset_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'.*mnist, fashion-mnist"):
        data.load_tensors("cifar")


def test_unknown_split_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown split 'validation'.*train, test"):
        data.load_dataset("mnist", "validation")


@pytest.mark.parametrize("split", data.SPLITS)
def test_fast_path_matches_torchvision_dataset_exactly(fake_system_copy, split):
    fast = data.load_tensors("fashion-mnist", split, limit=None)
    classic = data.load_dataset("fashion-mnist", split, transform=data.default_transform("fashion-mnist"))
    images, labels = next(iter(DataLoader(classic, batch_size=len(classic))))
    assert fast.images.shape == images.shape == (len(classic), 1, 28, 28)
    assert torch.equal(fast.images, images)  # same float32 operations in the same order: bit for bit
    assert torch.equal(fast.labels, labels)


def test_fast_path_reads_the_files_without_importing_torchvision(system_fashion):
    """Importing torchvision takes seconds (more on a laptop's first run) that the command line and the notebooks
    that train on tensors never need."""
    code = (
        "import sys\nfrom utils import data\n"
        "fast = data.load_tensors('fashion-mnist', 'test', limit=None)\n"
        "print(len(fast), fast.labels.dtype, 'torchvision' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=settings.REPO_ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["10000", "torch.int64", "False"]


def test_a_file_damaged_after_the_check_is_reported_with_the_repair(fake_system_copy, isolated_data):
    data.load_tensors("fashion-mnist", "test")  # imported into the data folder and checked
    images = sources.raw_folder(isolated_data, FASHION) / "t10k-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-100])
    with pytest.raises(sources.DataIntegrityError, match="t10k-images-idx3-ubyte: it is truncated.*utils.data fetch"):
        data.load_tensors("fashion-mnist", "test")
    images.unlink()
    with pytest.raises(sources.DataNotFoundError, match="cannot read .*t10k-images-idx3-ubyte.*utils.data fetch"):
        data.load_tensors("fashion-mnist", "test")


def test_normalization_constants_are_those_of_the_training_set(system_fashion):
    pixels = data.load_dataset("fashion-mnist", "train").data.float() / 255
    assert round(pixels.mean().item(), 4) == FASHION.mean
    assert round(pixels.std().item(), 4) == FASHION.std


def test_smoke_mode_limits_the_data(monkeypatch):
    monkeypatch.setattr(settings, "SMOKE", True)
    assert len(data.load_tensors("mnist", "train")) == settings.SMOKE_LIMITS["train"]
    assert len(data.make_loader("mnist", "test").dataset) == settings.SMOKE_LIMITS["test"]
    monkeypatch.setattr(settings, "SMOKE", False)
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
    augment = data.Augment("mnist", max_degrees=10, max_shift=0.1)
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
    augment = data.Augment("fashion-mnist", max_degrees=0.0, max_shift=0.0, hflip=True)
    assert repr(augment) == "Augment(dataset='fashion-mnist', max_degrees=0.0, max_shift=0.0, hflip=True)"
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'"):
        data.Augment("cifar10")


def test_augmentation_refuses_to_mirror_digits():
    assert data.get_spec("fashion-mnist").mirror_keeps_class and not data.get_spec("mnist").mirror_keeps_class
    with pytest.raises(ValueError, match="a mirrored 2 is not a 2"):
        data.Augment("mnist", hflip=True)


def test_mirror_only_augmentation_flips_exactly_about_half_the_images():
    images = torch.randn(400, 1, 28, 28)
    torch.manual_seed(0)
    mirrored = data.Augment("fashion-mnist", max_degrees=0.0, max_shift=0.0, hflip=True)(images)
    flipped = (mirrored == images.flip(-1)).flatten(1).all(1)
    kept = (mirrored == images).flatten(1).all(1)
    assert torch.all(flipped | kept)  # every image is itself or its exact mirror: no interpolation
    assert 150 < flipped.sum() < 250


def test_relative_folders_in_the_environment_are_taken_from_the_repository_root(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # a notebook's kernel runs in notebooks/, the command-line tools anywhere
    monkeypatch.setenv("COURSE_DATA_DIR", "build/other-data")
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", "build/checkpoints-laptop")
    assert settings.data_dir() == settings.REPO_ROOT / "build" / "other-data"
    assert settings.checkpoint_dir().is_relative_to(settings.REPO_ROOT / "build" / "checkpoints-laptop")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "elsewhere"))
    assert settings.data_dir() == tmp_path / "elsewhere"


def test_each_record_names_torchvisions_class_and_its_classes():
    """The records name torchvision's class as text (importing torchvision takes seconds); the names must resolve."""
    for spec in DATASETS.values():
        vision = spec.torchvision_class
        assert vision.__name__ == spec.folder_name
        assert list(spec.classes) == [label.split(" - ")[0] for label in vision.classes]  # MNIST's "0 - zero": "0"
