"""MNIST and Fashion-MNIST for training: the classic ``Dataset``/``DataLoader`` path, the fast path (the
whole split as tensors in memory), and augmentation on tensors. This is the code notebook 01 teaches.

What the course knows about each dataset is its record in ``utils/datasets.py``. Where the files come from (the
data folder, a system copy, a download, the MNIST sample), how they are checked and repaired, and the command
``python -m utils.data fetch`` are machinery: ``utils/machinery/sources.py``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, Dataset, Subset

from utils.datasets import get_spec
from utils.guards import settings
from utils.machinery.sources import locate, read_split

if TYPE_CHECKING:  # for the annotations only: torchvision takes seconds to import, so it waits until data is read
    from torchvision import transforms

SPLITS = ("train", "test")
Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]
"""What a loop can train or evaluate on: ``(images, labels)`` pairs, from ``iterate_batches`` or a ``DataLoader``."""


# --- the classic path: torchvision Dataset + transforms + DataLoader ---------------------------------


# Printed by notebook 01 (inspect.getsource): after editing it, re-run that notebook in full mode.
def default_transform(name: str) -> transforms.Compose:
    """PIL image -> float tensor in [0, 1] -> normalized with the training set's mean and std."""
    from torchvision import transforms  # here, not at the top: see TYPE_CHECKING above

    spec = get_spec(name)
    return transforms.Compose([transforms.ToTensor(), transforms.Normalize((spec.mean,), (spec.std,))])


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits are: {', '.join(SPLITS)}")


def _resolve_limit(limit: int | None | str, split: str) -> int | None:
    return settings.SMOKE_LIMITS[split] if limit == "auto" and settings.SMOKE else (None if limit == "auto" else limit)


def load_dataset(name: str, split: str = "train", transform=None, limit: int | None | str = None) -> Dataset:
    """A torchvision dataset (``.data``, ``.targets``, ``.classes``) from wherever ``locate`` finds it."""
    spec = get_spec(name)
    check_split(split)
    source = locate(name)
    dataset = spec.torchvision_class(root=str(source.root), train=split == "train", transform=transform)
    limit = _resolve_limit(limit, split)
    return Subset(dataset, range(min(limit, len(dataset)))) if limit else dataset


# Printed by notebook 01 (inspect.getsource): after editing it, re-run that notebook in full mode.
def make_loader(
    name: str,
    split: str = "train",
    batch_size: int = 64,
    *,
    shuffle: bool | None = None,
    num_workers: int = 0,
    limit: int | None | str = "auto",
) -> DataLoader:
    """The classic path. ``num_workers=0`` because worker processes hang in Jupyter on Windows/macOS."""
    dataset = load_dataset(name, split, transform=default_transform(name), limit=limit)
    shuffle = split == "train" if shuffle is None else shuffle
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers)


# --- the fast path: the whole split as normalized tensors in memory ----------------------------------


@dataclass(frozen=True)
class InMemoryData:
    """A whole split as tensors: ``images`` float (N, 1, 28, 28), normalized; ``labels`` int64 (N,)."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    name: str
    split: str
    mean: float
    std: float
    is_sample: bool = False

    def __len__(self) -> int:
        return len(self.labels)

    def to(self, device: torch.device | str) -> InMemoryData:
        """A copy on ``device`` (on a GPU the whole dataset fits, so batches never cross the bus)."""
        return replace(self, images=self.images.to(device), labels=self.labels.to(device))

    def denormalize(self, images: torch.Tensor) -> torch.Tensor:
        """Back to pixel values in [0, 1], for pictures."""
        return (images * self.std + self.mean).clamp(0, 1)


# Printed by notebook 01 (inspect.getsource): after editing it, re-run that notebook in full mode.
def load_tensors(name: str, split: str = "train", limit: int | None | str = "auto") -> InMemoryData:
    """The fast path: read the split's uint8 pixels from the files torchvision's class reads, and convert them to
    normalized floats once, for the whole split.

    ``limit="auto"`` keeps every image, except in smoke mode (``COURSE_SMOKE=1``).
    """
    spec = get_spec(name)
    check_split(split)
    source = locate(name)
    images, labels = read_split(source.root, spec, split)  # the uint8 pixels and labels of torchvision's class
    count = _resolve_limit(limit, split) or len(labels)
    pixels = torch.from_numpy(images[:count]).unsqueeze(1).float().div_(255)
    return InMemoryData(
        images=pixels.sub_(spec.mean).div_(spec.std),
        labels=torch.from_numpy(labels[:count]).long(),
        classes=spec.classes,
        name=name,
        split=split,
        mean=spec.mean,
        std=spec.std,
        is_sample=source.is_sample,
    )


VALIDATION_SHARE = 1 / 6  # 10,000 of the 60,000 training images
VALIDATION_SEED = 2024


# Printed by notebook 01 (inspect.getsource): after editing it, re-run that notebook in full mode.
def validation_split(
    train: InMemoryData, share: float = VALIDATION_SHARE, seed: int = VALIDATION_SEED
) -> tuple[InMemoryData, InMemoryData]:
    """Hold out ``share`` of the training images to judge choices by: (the part to train on, validation).

    Stratified (each class keeps its share) and fixed by ``seed``, so every notebook and benchmark holds out the
    same images. The test set stays untouched until a final model is chosen.
    """
    train_index, validation_index = validation_indices(train.labels, share, seed)

    def part(index: torch.Tensor, split: str) -> InMemoryData:
        index = index.to(train.labels.device)
        return replace(train, images=train.images[index], labels=train.labels[index], split=split)

    return part(train_index, "train"), part(validation_index, "validation")


def validation_indices(
    labels: torch.Tensor, share: float = VALIDATION_SHARE, seed: int = VALIDATION_SEED
) -> tuple[torch.Tensor, torch.Tensor]:
    """Which images ``validation_split`` trains on and which it holds out, each in ascending order."""
    train_index, validation_index = train_test_split(
        np.arange(len(labels)), test_size=share, stratify=labels.cpu().numpy(), random_state=seed
    )
    return torch.from_numpy(np.sort(train_index)), torch.from_numpy(np.sort(validation_index))


class BatchIterator:
    """Batches of an ``InMemoryData`` by slicing a random permutation: no per-image Python work."""

    def __init__(self, data: InMemoryData, batch_size: int, shuffle: bool, generator: torch.Generator | None):
        self.data, self.batch_size, self.shuffle, self.generator = data, batch_size, shuffle, generator

    def __len__(self) -> int:
        return math.ceil(len(self.data) / self.batch_size)

    # Printed by notebook 01 (inspect.getsource): after editing it, re-run that notebook in full mode.
    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        count = len(self.data)
        order = torch.randperm(count, generator=self.generator).to(self.data.labels.device) if self.shuffle else None
        for start in range(0, count, self.batch_size):
            # in order, a batch is a slice (a view, no copy); shuffled, the images at the next indices of ``order``
            index = slice(start, start + self.batch_size) if order is None else order[start : start + self.batch_size]
            yield self.data.images[index], self.data.labels[index]


def iterate_batches(data: InMemoryData, batch_size: int = 128, *, shuffle: bool = True,
                    generator: torch.Generator | None = None) -> BatchIterator:
    return BatchIterator(data, batch_size, shuffle, generator)


# --- augmentation, per batch on tensors -------------------------------------------------------------


# Printed by notebook 01 (inspect.getsource): after editing it, re-run that notebook in full mode.
def random_affine(
    images: torch.Tensor,
    *,
    max_degrees: float = 10.0,
    max_shift: float = 0.1,
    hflip: bool = False,
    background: float = 0.0,
) -> torch.Tensor:
    """Rotate each image by up to ``max_degrees`` and shift it by up to ``max_shift`` of its size.

    One ``affine_grid`` + ``grid_sample`` call for the whole batch (on its device); uncovered pixels get
    ``background``: pass the normalized value of black, as ``Augment`` does (0.0 is black only for unnormalized
    images). ``hflip`` mirrors half the images at random.
    """
    count, device = images.shape[0], images.device
    angle = (torch.rand(count, device=device) * 2 - 1) * math.radians(max_degrees)
    shift = (torch.rand(count, 2, device=device) * 2 - 1) * (2 * max_shift)  # grid units span [-1, 1]
    mirror = torch.ones(count, device=device)
    if hflip:
        mirror = torch.where(torch.rand(count, device=device) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack(
        [torch.stack([cos * mirror, -sin, shift[:, 0]], 1), torch.stack([sin * mirror, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    moved = F.grid_sample(images - background, grid.to(images.dtype), align_corners=False, padding_mode="zeros")
    return moved + background


@dataclass(frozen=True)
class Augment:
    """Per-batch augmentation of dataset ``dataset`` for ``fit``: random rotations up to ``max_degrees``, shifts up
    to ``max_shift`` of the image size (``random_affine``, uncovered pixels filled with the dataset's black) and, with
    ``hflip``, mirroring. A dataclass rather than a closure so that printing it shows the settings."""

    dataset: str
    max_degrees: float = 10.0
    max_shift: float = 0.1
    hflip: bool = False

    def __post_init__(self) -> None:
        spec = get_spec(self.dataset)  # an unknown name fails here, not at the first training batch
        if self.hflip and not spec.mirror_keeps_class:
            raise ValueError(
                f"hflip=True would mirror {spec.name} images, and a mirrored image changes its class there "
                "(a mirrored 2 is not a 2): use hflip=False"
            )

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if self.max_degrees == 0 and self.max_shift == 0:  # only mirroring: exact, and no resampling to pay for
            if not self.hflip:
                return images
            flip = torch.rand(images.shape[0], 1, 1, 1, device=images.device) < 0.5  # mirror a random half
            return torch.where(flip, images.flip(-1), images)
        spec = get_spec(self.dataset)
        background = (0.0 - spec.mean) / spec.std
        return random_affine(
            images, max_degrees=self.max_degrees, max_shift=self.max_shift, hflip=self.hflip, background=background
        )


if __name__ == "__main__":  # `python -m utils.data fetch`: the command lives with the machinery it runs
    from utils.machinery.sources import main

    sys.exit(main())
