"""Save and load trained models safely: a state dict plus plain metadata, never pickled code.

A checkpoint is a dict of tensors and plain Python values (str, int, float, bool, lists, dicts), so it
loads with ``torch.load(..., weights_only=True)``: PyTorch's default since 2.6, which refuses files that
would run code while loading. Writes are whole or nothing: a temporary file is renamed over the target only once it
is complete, so an interrupted save never destroys a good checkpoint.
"""

from __future__ import annotations

import importlib.metadata
import platform
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from utils.datasets import get_spec
from utils.guards.checkpoint_files import FORMAT, CheckpointError, read_checkpoint_file, write_checkpoint_file
from utils.guards.settings import display_path
from utils.models import build_model, model_name


@dataclass
class Checkpoint:
    """A loaded checkpoint: the rebuilt model (in eval mode) and its metadata."""

    model: nn.Module
    model_name: str
    dataset: str
    classes: list[str]
    mean: float
    std: float
    epoch: int
    metrics: dict[str, float]
    history: dict[str, list[float]]
    is_sample: bool = False
    recipe: dict = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    optimizer_state: dict | None = None
    path: Path | None = None


def library_versions() -> dict[str, str]:
    # torchvision's version is read, not imported: importing it takes seconds
    return {"torch": str(torch.__version__), "torchvision": importlib.metadata.version("torchvision"),
            "python": platform.python_version()}


# Printed by notebook 05 (inspect.getsource): after editing it, re-run that notebook in full mode.
def save_checkpoint(path: str | Path, model: nn.Module, *, dataset: str, history: dict[str, list[float]],
                    metrics: dict[str, float] | None = None, recipe: dict | None = None,
                    optimizer: torch.optim.Optimizer | None = None, is_sample: bool) -> Path:
    """Write the model's weights and plain metadata (and the optimizer's state, for resuming), whole or not at all.

    The classes and normalization come from the dataset's record, so the metadata cannot disagree with the data the
    model saw; ``is_sample`` (the training data's own ``is_sample``) says whether that was an offline sample.
    ``metrics`` (validation and test accuracy: ``workflow.final_metrics``) default to the last epoch's validation
    accuracy.
    """
    path = Path(path)
    spec = get_spec(dataset)
    if not history.get("val_acc"):
        raise CheckpointError(f"nothing to save to {display_path(path)}: no epoch has finished yet")
    payload = {
        "format": FORMAT,
        "model": {"name": model_name(model), "config": dict(model.config)},
        "state_dict": {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()},
        "dataset": {
            "name": dataset,
            "classes": list(spec.classes),
            "mean": spec.mean,
            "std": spec.std,
            "is_sample": bool(is_sample),
        },
        "epoch": len(history["val_acc"]),
        "metrics": {key: float(value) for key, value in (metrics or {"val_acc": history["val_acc"][-1]}).items()},
        "history": {key: [float(v) for v in values] for key, values in history.items()},
        "recipe": dict(recipe or {}),
        "versions": library_versions(),
    }
    if optimizer is not None:
        payload["optimizer_state"] = optimizer.state_dict()
    return write_checkpoint_file(path, payload)  # whole or not at all: a good file is never half overwritten


def load_checkpoint(path: str | Path, *, map_location: str | torch.device = "cpu",
                    expect_model: str | None = None) -> Checkpoint:
    """Read the file with ``torch.load(weights_only=True)``, check it, rebuild the model, load its weights, ``eval()``.

    The checks (is it a checkpoint this course saved, does each field hold what ``save_checkpoint`` wrote, do the
    weights fit the model) are ``read_checkpoint_file``'s, in ``utils/guards/checkpoint_files.py``: a file that fails
    one raises ``CheckpointError`` with one line that says why.
    """
    path = Path(path)
    fields, weights = read_checkpoint_file(path, map_location, expect_model)
    model = build_model(fields["model_name"], **fields.pop("config"))
    model.load_state_dict(weights)
    return Checkpoint(model=model.eval(), path=path, **fields)
