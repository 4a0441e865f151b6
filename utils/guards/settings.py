"""Course-wide settings read from the environment, in one place.

``COURSE_SMOKE=1`` switches every notebook and helper to smoke mode: a few thousand images, through exactly the
same code and epochs. CI and the tests set it; learners leave it unset and never see it.
"""

from __future__ import annotations

import os
from pathlib import Path

from utils.guards.text import flag, refuse_setting, safe_text

REPO_ROOT = Path(__file__).resolve().parents[2]  # utils/guards/settings.py -> the repository

SMOKE: bool = flag("COURSE_SMOKE")
"""True in smoke mode (``COURSE_SMOKE=1``)."""

PROGRESS: bool = flag("COURSE_PROGRESS", "1") and not SMOKE
"""Show tqdm bars. Headless runs (``make run``, CI) switch them off so saved notebooks hold no dead bars."""

PRECISION: str = os.environ.get("COURSE_PRECISION", "auto").strip().lower() or "auto"
"""``auto``: train in bfloat16 autocast where the hardware runs it natively. ``float32``: never, for exact
float32 numbers and to measure how a laptop without native bfloat16 trains."""
if PRECISION not in ("auto", "float32"):
    refuse_setting("COURSE_PRECISION", os.environ["COURSE_PRECISION"], "auto or float32")
FORCE_FLOAT32: bool = PRECISION == "float32"

SMOKE_LIMITS = {"train": 2000, "test": 1000}
"""Images per split in smoke mode: enough to prove learning (the tests check it does), small enough for CI.
2,000 rather than 3,000 took ``make test`` from 334 s to 302 s on a 2-core EPYC, a tenth of CI's test time."""



def _folder_from_environment(variable: str, default: str) -> Path:
    """``$variable`` or ``default``; a relative path is taken from the repository root, because notebooks run in
    ``notebooks/`` and the command-line tools wherever they were started, and both must find the same folder."""
    path = Path(os.environ.get(variable) or default).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def data_dir() -> Path:
    """Where datasets are stored: ``$COURSE_DATA_DIR`` if set, else ``data/`` in the repository."""
    return _folder_from_environment("COURSE_DATA_DIR", "data")


def checkpoint_dir() -> Path:
    """Where trained models are saved: ``$COURSE_CHECKPOINT_DIR`` or ``checkpoints/`` in the repo.

    Smoke mode uses a ``smoke/`` subfolder, so a model trained on a few images never stands in for a real one.
    """
    base = _folder_from_environment("COURSE_CHECKPOINT_DIR", "checkpoints")
    return base / "smoke" if SMOKE else base


def display_path(path: Path) -> str:
    """A path as a learner should see it: relative to the repository when inside it, and printable (see
    ``safe_text``). A path that cannot be resolved (a symbolic link loop) is shown as given."""
    try:
        return safe_text(Path(path).resolve().relative_to(REPO_ROOT))
    except (ValueError, OSError, RuntimeError):  # outside the repository; a loop (RuntimeError before 3.13)
        return safe_text(path)

