"""Shared fixtures: every test gets its own empty data folder and no real network."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from utils import data

SYSTEM_FASHION = data.DATASETS["fashion-mnist"].system_dir


@pytest.fixture(autouse=True)
def isolated_data(tmp_path, monkeypatch):
    """An empty data folder per test, a dead download mirror, and fresh lookup caches."""
    folder = tmp_path / "data"
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    for spec in data.DATASETS.values():
        # port 9 (discard) refuses at once: the tests never reach the internet, even where it exists
        monkeypatch.setattr(spec.torchvision_class, "mirrors", ["http://127.0.0.1:9/"])
    monkeypatch.setattr(data, "_located", {})
    return folder


@pytest.fixture
def system_fashion() -> Path:
    """The Fashion-MNIST files of Debian's dataset-fashion-mnist package (CI installs it)."""
    if not (SYSTEM_FASHION / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("needs the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)")
    return SYSTEM_FASHION


@pytest.fixture
def fashion_copy(tmp_path, system_fashion) -> Path:
    """A writable copy of the system's Fashion-MNIST .gz files, to damage in tests."""
    target = tmp_path / "usb-stick" / "fashion"
    shutil.copytree(system_fashion, target)
    return target
