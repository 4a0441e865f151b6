"""Writing files safely: whole or not at all, and never over something that is not a regular file.

The course writes each file (checkpoints, results files, imported data) to a temporary file beside the target and
renames it over the target only once complete, so an interruption never leaves half a file: ``write_whole``, which
``checkpoints.save_checkpoint`` and the results files use; ``machinery.sources._install`` takes the same steps for
four files at once, all staged before any is renamed. A rename replaces *whatever* stands at the target, so a target
that exists and is not a regular file (``/dev/null``, a named pipe, a socket) is refused first (``refuse_special``):
as root (Colab, Docker) renaming over ``/dev/null`` would turn it into an ordinary file that everything on the
machine then fills.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import shutil
import stat
import time
from collections.abc import Callable
from pathlib import Path

from utils.guards.settings import display_path

STALE_AFTER_S = 600
"""A temporary file older than this belongs to a process that was killed (writing one takes a second): removed."""

_KINDS = {
    stat.S_IFCHR: "a device (such as /dev/null or /dev/zero)",
    stat.S_IFBLK: "a block device (a disk)",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


_UNUSABLE = {
    errno.ENAMETOOLONG: "a name too long for the file system",
    errno.EACCES: "a path this user may not look into",
}


def special_kind(path: str | Path) -> str | None:
    """What stands at ``path`` if it is anything but a regular file (or nothing): "a folder", "a named pipe
    (FIFO)", "a symbolic link that loops or cannot be followed", ...; None for a regular file or no file."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "a symbolic link to nothing" if os.path.islink(path) else None
    except OSError as error:  # ENOTDIR (a path under a file) is the caller's to explain
        if os.path.islink(path):
            return "a symbolic link that loops or cannot be followed"
        return _UNUSABLE.get(error.errno)
    except (RuntimeError, ValueError):  # an embedded NUL byte, ...
        return "a name that cannot be used"
    return None if stat.S_ISREG(mode) else _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def refuse_special(path: str | Path, error: type[Exception], fix: str = "choose another path") -> None:
    """Raise ``error`` (one line, ending in ``fix``) if something other than a regular file stands at ``path``."""
    kind = special_kind(path)
    if kind is not None:
        raise error(f"{display_path(Path(path))} is {kind}, not a file: {fix}")


def write_whole(path: str | Path, write: Callable[[Path], object], error: type[Exception]) -> Path:
    """Call ``write(temporary)`` and rename the temporary file over ``path``: a file already there is replaced only by
    a complete new one. Refuses a target that is not a regular file; temporary files of killed writers are removed."""
    path = Path(path)
    refuse_special(path, error)
    remove_stale(path.parent, f".{glob.escape(path.name)}.*.partial", STALE_AFTER_S)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        write(temporary)
        os.replace(temporary, path)  # atomic on the same file system
    finally:
        temporary.unlink(missing_ok=True)
    return path


def remove_stale(folder: Path, pattern: str, max_age_s: float) -> None:
    """Remove temporary files or folders under ``folder`` left by a process that was killed."""
    for path in folder.glob(pattern):
        with contextlib.suppress(OSError):
            if time.time() - path.stat().st_mtime > max_age_s:
                shutil.rmtree(path) if path.is_dir() else path.unlink()


def set_aside(path: Path, tag: str) -> Path:
    """Rename ``path`` to ``path.tag`` (or ``path.tag.2``, ...: an earlier one is never overwritten)."""
    target, number = path.with_name(f"{path.name}.{tag}"), 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}.{tag}.{number}")
    os.replace(path, target)
    return target
