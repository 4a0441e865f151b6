"""Shared fixtures: every test gets its own empty data folder and no real network."""

from __future__ import annotations

import gzip
import hashlib
import socket
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from utils.datasets import DATASETS
from utils.guards import settings
from utils.machinery import sources

SYSTEM_FASHION = DATASETS["fashion-mnist"].system_dir
OFFLINE = "import torchvision\nfor d in (torchvision.datasets.MNIST, torchvision.datasets.FashionMNIST):\n" \
    "    d.mirrors = ['http://127.0.0.1:9/']\n"
"""Code to run first in a child Python: its downloads fail at once, as the tests' own do (``isolated_data``)."""
FAKE_SIZES = {"train": 60, "test": 20}


@pytest.fixture(autouse=True)
def isolated_data(tmp_path, monkeypatch):
    """An empty data folder per test, a dead download mirror, and fresh lookup caches."""
    folder = tmp_path / "data"
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    for files in DATASETS.values():
        # port 9 (discard) refuses at once: the tests never reach the internet, even where it exists
        monkeypatch.setattr(files.torchvision_class, "mirrors", ["http://127.0.0.1:9/"])
    monkeypatch.setattr(sources, "_located", {})
    monkeypatch.setattr(sources, "_checked", set())
    return folder


def free_port() -> int:
    """A TCP port on localhost that nothing listens on now (for a server or a rendezvous a test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fake_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """Small arrays in the shape of the four original files: random pixels, every class in each split."""
    rng = np.random.default_rng(seed)
    train, test = FAKE_SIZES["train"], FAKE_SIZES["test"]
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(test) % 10).astype(np.uint8),
    }


@pytest.fixture
def fake_fashion(tmp_path, monkeypatch) -> Path:
    """A folder (a "USB stick") with small synthetic Fashion-MNIST files, gzipped, that the course takes for
    the originals: their content MD5 sums replace the real ones. No system copy is seen."""
    folder = tmp_path / "usb-stick" / "fashion"
    folder.mkdir(parents=True)
    content_md5 = {}
    for name, array in fake_arrays().items():
        content = sources.idx_bytes(array)
        (folder / f"{name}.gz").write_bytes(gzip.compress(content, mtime=0))
        content_md5[name] = hashlib.md5(content).hexdigest()
    fake = replace(DATASETS["fashion-mnist"], content_md5=content_md5, system_dir=None)
    monkeypatch.setitem(DATASETS, "fashion-mnist", fake)
    return folder


@pytest.fixture
def fake_system_copy(fake_fashion, monkeypatch) -> Path:
    """The synthetic Fashion-MNIST files as the system copy (Debian's package) would hold them."""
    monkeypatch.setitem(
        DATASETS, "fashion-mnist", replace(DATASETS["fashion-mnist"], system_dir=fake_fashion)
    )
    return fake_fashion


@pytest.fixture
def system_fashion() -> Path:
    """The real Fashion-MNIST files of Debian's dataset-fashion-mnist package (CI installs it)."""
    if not (SYSTEM_FASHION / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("needs the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)")
    return SYSTEM_FASHION


@pytest.fixture
def smoke(monkeypatch):
    """Smoke mode's small data (the epochs stay as written), whatever the environment says."""
    monkeypatch.setattr(settings, "SMOKE", True)


SLOW_FILES_FIRST = (
    "03_cnn_solutions.ipynb", "test_distributed.py", "03_cnn.ipynb", "06_training_faster_solutions.ipynb",
    "test_drawing_pad_browser.py", "07_data_parallel.ipynb", "test_site.py", "06_training_faster.ipynb",
)
"""The longest files of the suite (``--durations``), longest first, started first: with ``make test``'s two workers
(``--dist loadfile``) a long file left to the end would run alone while the other worker idles."""


def pytest_collection_modifyitems(items):
    """Move the slow files to the front; every file keeps its own order (a notebook's cells run top to bottom)."""
    items.sort(key=lambda item: SLOW_FILES_FIRST.index(item.path.name) if item.path.name in SLOW_FILES_FIRST
               else len(SLOW_FILES_FIRST))
